"""The object verbs on a resource: list, get, create, replace, patch, delete."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from . import clock
from .cluster import FakeCluster
from .errors import KubeError, not_found, success_status
from .patches import APPLY_PATCH, PATCH_TYPES, apply_by_content_type, unsupported_patch_type
from .protocol import ApiRequest, Reply
from .resources import ResourceType
from .routes import ResourceRoute


def list_objects(cluster: FakeCluster, route: ResourceRoute, request: ApiRequest) -> Reply:
    if request.bool_param("watch"):
        raise KubeError(405, "watch is not supported by the sandbox apiserver")
    resource = route.resource
    with cluster.lock:
        items = cluster.list(resource.kind, route.namespace, request.query.get("labelSelector"),
                             request.query.get("fieldSelector"))
        revision = cluster.resource_version
    # The real apiserver leaves kind/apiVersion off list items; clients take them from the list.
    for item in items:
        item.pop("kind", None)
        item.pop("apiVersion", None)
    return Reply(200, paginate(resource.list_kind, resource.api_version, revision, items, request))


def paginate(list_kind: str, api_version: str, revision: str, items: list[dict[str, Any]],
             request: ApiRequest) -> dict[str, Any]:
    """`limit`/`continue` with an opaque offset token, so chunked listing clients terminate."""
    start = 0
    token = request.query.get("continue")
    if token:
        if not token.isdigit():
            raise KubeError(400, "continue key is not valid")
        start = int(token)
    limit = request.int_param("limit")
    metadata: dict[str, Any] = {"resourceVersion": revision}
    page = items[start:]
    if limit is not None and limit > 0 and len(page) > limit:
        page = page[:limit]
        metadata["continue"] = str(start + limit)
        metadata["remainingItemCount"] = len(items) - start - limit
    return {"kind": list_kind, "apiVersion": api_version, "metadata": metadata, "items": page}


def get_object(cluster: FakeCluster, route: ResourceRoute) -> Reply:
    return Reply(200, _require(cluster, route))


def _require(cluster: FakeCluster, route: ResourceRoute) -> dict[str, Any]:
    assert route.namespace is not None and route.name is not None
    found = cluster.get(route.resource.kind, route.namespace, route.name)
    if found is None:
        raise not_found(route.resource.group_resource, route.name)
    return found


def _check_identity(resource: ResourceType, route: ResourceRoute, body: dict[str, Any]) -> None:
    """Fill kind/apiVersion/namespace from the URL; refuse bodies that contradict it, like upstream."""
    if body.get("kind") not in (None, "", resource.kind):
        raise KubeError(400, f"the kind of the provided object ({body['kind']}) does not match the URL "
                             f"({resource.kind})")
    body["kind"] = resource.kind
    body["apiVersion"] = resource.api_version
    metadata = body.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        raise KubeError(400, "metadata must be an object")
    if metadata.get("namespace") not in (None, "", route.namespace):
        raise KubeError(400, "the namespace of the provided object does not match the namespace sent on the "
                             "request")
    metadata["namespace"] = route.namespace
    if route.name is not None:
        if metadata.get("name") not in (None, "", route.name):
            raise KubeError(400, f"the name of the object ({metadata['name']}) does not match the name "
                                 f"on the URL ({route.name})")
        metadata["name"] = route.name


def create_object(cluster: FakeCluster, route: ResourceRoute, request: ApiRequest) -> Reply:
    body = copy.deepcopy(request.object_body())
    _check_identity(route.resource, route, body)
    if route.resource.has_status_subresource:
        # The apiserver resets status on create; only controllers (or scenarios, directly) set it.
        body["status"] = {"phase": "Pending"} if route.resource.kind == "Pod" else {}
    created = cluster.create(body, dry_run=request.dry_run)
    return Reply(201, created)


def replace_object(cluster: FakeCluster, route: ResourceRoute, request: ApiRequest) -> Reply:
    body = copy.deepcopy(request.object_body())
    _check_identity(route.resource, route, body)
    with cluster.lock:
        old = _require(cluster, route)
        if route.resource.has_status_subresource:
            _keep_status(body, old)  # status only changes through /status
        return Reply(200, cluster.update(body, dry_run=request.dry_run))


def _keep_status(new: dict[str, Any], old: Mapping[str, Any]) -> None:
    if "status" in old:
        new["status"] = copy.deepcopy(old["status"])
    else:
        new.pop("status", None)


def patch_object(cluster: FakeCluster, route: ResourceRoute, request: ApiRequest) -> Reply:
    content_type = check_patch_type(request)
    assert route.namespace is not None and route.name is not None
    with cluster.lock:
        old = cluster.get(route.resource.kind, route.namespace, route.name)
        if old is None:
            if content_type != APPLY_PATCH:
                raise not_found(route.resource.group_resource, route.name)
            # Server-side apply creates what does not exist yet.
            return create_object(cluster, route, request)
        patched = apply_by_content_type(content_type, old, request.json_body())
        _check_identity(route.resource, route, patched)
        if route.resource.has_status_subresource:
            _keep_status(patched, old)
        return Reply(200, cluster.update(patched, dry_run=request.dry_run))


def check_patch_type(request: ApiRequest) -> str:
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type not in PATCH_TYPES:
        raise unsupported_patch_type(content_type)
    if content_type == APPLY_PATCH and not request.query.get("fieldManager"):
        raise KubeError(422, "PATCH /apply: fieldManager: Required value: is required for apply patch",
                        details={"causes": [{"reason": "FieldValueRequired", "message": "Required value",
                                             "field": "fieldManager"}]})
    return content_type


def delete_object(cluster: FakeCluster, route: ResourceRoute, request: ApiRequest) -> Reply:
    options = request.body if isinstance(request.body, dict) else {}
    dry_run = request.dry_run or "All" in (options.get("dryRun") or [])
    grace = request.int_param("gracePeriodSeconds")
    if grace is None and isinstance(options.get("gracePeriodSeconds"), int):
        grace = options["gracePeriodSeconds"]
    policy = request.query.get("propagationPolicy") or options.get("propagationPolicy")
    if policy not in (None, "Orphan", "Background", "Foreground"):
        raise KubeError(422, f'DeleteOptions.propagationPolicy: Unsupported value: "{policy}"')
    with cluster.lock:
        current = _require(cluster, route)
        _check_preconditions(route, current, options.get("preconditions") or {})
        if policy == "Orphan" and not dry_run:
            _orphan_dependents(cluster, current)
        deleted = cluster.delete(route.resource.kind, current["metadata"]["namespace"],
                                 current["metadata"]["name"], dry_run=dry_run)
    if not route.resource.returns_deleted_object:
        return Reply(200, success_status(route.resource.plural, route.resource.group,
                                         deleted["metadata"]["name"], deleted["metadata"]["uid"]))
    if route.resource.kind == "Pod":
        # A pod is terminated gracefully; the response shows it as terminating.
        seconds = grace if grace is not None else deleted["spec"].get("terminationGracePeriodSeconds", 30)
        deleted["metadata"]["deletionTimestamp"] = clock.rfc3339(clock.now())
        deleted["metadata"]["deletionGracePeriodSeconds"] = seconds
    return Reply(200, deleted)


def _check_preconditions(route: ResourceRoute, current: Mapping[str, Any],
                         preconditions: Mapping[str, Any]) -> None:
    metadata = current["metadata"]
    for field in ("uid", "resourceVersion"):
        wanted = preconditions.get(field)
        if wanted and wanted != metadata.get(field):
            label = "UID" if field == "uid" else "ResourceVersion"
            raise KubeError(409, f"Precondition failed: {label} in precondition: {wanted}, {label} in object "
                                 f"meta: {metadata.get(field)}",
                            details={"name": route.name, "kind": route.resource.plural})


def _orphan_dependents(cluster: FakeCluster, owner: Mapping[str, Any]) -> None:
    """propagationPolicy=Orphan: dependents lose their owner reference instead of being collected."""
    uid = owner["metadata"]["uid"]
    dependent_kind = {"Deployment": "ReplicaSet", "ReplicaSet": "Pod"}.get(owner["kind"])
    if dependent_kind is None:
        return
    for dependent in cluster.list(dependent_kind, owner["metadata"]["namespace"]):
        refs = dependent["metadata"].get("ownerReferences") or []
        kept = [r for r in refs if r.get("uid") != uid]
        if len(kept) != len(refs):
            dependent["metadata"]["ownerReferences"] = kept
            cluster.update(dependent)
