"""Subresources: `/scale` (autoscaling/v1 Scale), `/status`, and a pod's `/log`."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .cluster import FakeCluster
from .errors import KubeError, conflict, not_found
from .logs import LogQuery
from .objects import check_patch_type
from .patches import apply_by_content_type
from .protocol import TEXT, ApiRequest, Reply
from .routes import ResourceRoute
from .selectors import selector_to_string
from .validation import validate_scale
from .workloads import desired_replicas


def _stored(cluster: FakeCluster, route: ResourceRoute) -> dict[str, Any]:
    assert route.namespace is not None and route.name is not None
    found = cluster.get(route.resource.kind, route.namespace, route.name)
    if found is None:
        raise not_found(route.resource.group_resource, route.name)
    return found


def scale_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The autoscaling/v1 Scale view of a Deployment or ReplicaSet; `status.selector` is a string."""
    metadata = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {key: metadata[key] for key in ("name", "namespace", "uid", "resourceVersion",
                                                    "creationTimestamp") if key in metadata},
        "spec": {"replicas": desired_replicas(obj)},
        "status": {
            "replicas": int((obj.get("status") or {}).get("replicas", 0)),
            "selector": selector_to_string((obj.get("spec") or {}).get("selector")),
        },
    }


def get_scale(cluster: FakeCluster, route: ResourceRoute) -> Reply:
    return Reply(200, scale_of(_stored(cluster, route)))


def write_scale(cluster: FakeCluster, route: ResourceRoute, request: ApiRequest) -> Reply:
    """PATCH or PUT on /scale: only spec.replicas reaches the parent object."""
    with cluster.lock:
        target = _stored(cluster, route)
        current = scale_of(target)
        if request.method == "PATCH":
            wanted = apply_by_content_type(check_patch_type(request), current, request.json_body())
        else:
            wanted = copy.deepcopy(request.object_body())
        validate_scale(wanted)
        version = (wanted.get("metadata") or {}).get("resourceVersion")
        if version and version != target["metadata"]["resourceVersion"]:
            raise conflict(route.resource.group_resource, str(route.name))
        replicas = (wanted.get("spec") or {}).get("replicas")
        if replicas is None:
            replicas = 0 if request.method == "PUT" else desired_replicas(target)
        target["spec"]["replicas"] = replicas
        return Reply(200, scale_of(cluster.update(target, dry_run=request.dry_run)))


def get_status(cluster: FakeCluster, route: ResourceRoute) -> Reply:
    return Reply(200, _stored(cluster, route))


def write_status(cluster: FakeCluster, route: ResourceRoute, request: ApiRequest) -> Reply:
    """PATCH or PUT on /status: everything but `status` in the request is ignored, as upstream."""
    with cluster.lock:
        target = _stored(cluster, route)
        if request.method == "PATCH":
            wanted = apply_by_content_type(check_patch_type(request), target, request.json_body())
        else:
            wanted = request.object_body()
        version = (wanted.get("metadata") or {}).get("resourceVersion")
        if version and version != target["metadata"]["resourceVersion"]:
            raise conflict(route.resource.group_resource, str(route.name))
        target["status"] = copy.deepcopy(wanted.get("status") or {})
        return Reply(200, cluster.update(target, dry_run=request.dry_run))


def read_log(cluster: FakeCluster, route: ResourceRoute, request: ApiRequest) -> Reply:
    assert route.namespace is not None and route.name is not None
    tail = request.int_param("tailLines")
    since = request.int_param("sinceSeconds")
    limit = request.int_param("limitBytes")
    for name, value in (("tailLines", tail), ("sinceSeconds", since), ("limitBytes", limit)):
        if value is not None and value < (0 if name == "tailLines" else 1):
            raise KubeError(422, f'PodLogOptions "{route.name}" is invalid: {name}: Invalid value: '
                                 f"{value}: must be greater than 0")
    query = LogQuery(
        container=request.query.get("container") or None,
        previous=request.bool_param("previous"),
        tail_lines=tail,
        since_seconds=since,
        timestamps=request.bool_param("timestamps"),
        limit_bytes=limit,
    )
    return Reply(200, cluster.read_logs(route.namespace, route.name, query), TEXT)
