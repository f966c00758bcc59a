"""Dispatch: a parsed request -> the verb handler for its route, plus the read-only metrics API."""

from __future__ import annotations

from typing import Any

from . import discovery, objects, subresources
from .cluster import FakeCluster
from .errors import KubeError
from .objects import paginate
from .protocol import TEXT, ApiRequest, Reply
from .routes import DiscoveryRoute, ResourceRoute, parse_path

_NOT_FOUND = KubeError(404, "the server could not find the requested resource")
_METRICS_GROUP = "metrics.k8s.io"
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


def handle(cluster: FakeCluster, request: ApiRequest, server_address: str) -> Reply:
    """Serve one request; every refusal is a `Status` reply. Successful writes trigger a reconcile."""
    try:
        reply = _dispatch(cluster, request, server_address)
    except KubeError as exc:
        return Reply.error(exc)
    if request.method in _WRITES and not request.dry_run and cluster.auto_reconcile and reply.status < 300:
        # After the response body is fixed (the real apiserver answers before controllers act) but
        # before it is sent, so the next request already sees the converged state.
        cluster.reconcile()
    return reply


def _dispatch(cluster: FakeCluster, request: ApiRequest, server_address: str) -> Reply:
    route = parse_path(request.path)
    if route is None:
        raise _NOT_FOUND
    if isinstance(route, DiscoveryRoute):
        return _discovery(cluster, route, request, server_address)
    if route.resource.group == _METRICS_GROUP:
        return _metrics(cluster, route, request)
    if route.subresource is not None:
        return _subresource(cluster, route, request)
    return _object_verb(cluster, route, request)


def _discovery(cluster: FakeCluster, route: DiscoveryRoute, request: ApiRequest,
               server_address: str) -> Reply:
    if request.method != "GET":
        raise _method_not_allowed(request)
    if route.group == _METRICS_GROUP and not cluster.metrics_available:
        raise _NOT_FOUND
    body: dict[str, Any] | None
    if route.what == "version":
        body = discovery.version_info()
    elif route.what == "api":
        body = discovery.core_versions(server_address)
    elif route.what == "apis":
        body = discovery.group_list(with_metrics=cluster.metrics_available)
    elif route.what == "group":
        body = discovery.api_group(route.group)
    else:
        body = discovery.resource_list(route.group, route.version)
    if body is None:
        raise _NOT_FOUND
    return Reply(200, body)


def _method_not_allowed(request: ApiRequest) -> KubeError:
    return KubeError(405, "the server does not allow this method on the requested resource "
                          f"({request.method})")


def _object_verb(cluster: FakeCluster, route: ResourceRoute, request: ApiRequest) -> Reply:
    verbs = route.resource.verbs
    method = request.method
    if route.name is None:
        if method == "GET" and "list" in verbs:
            return objects.list_objects(cluster, route, request)
        if method == "POST" and "create" in verbs and route.namespace is not None:
            return objects.create_object(cluster, route, request)
        raise _method_not_allowed(request)
    verb = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method)
    if verb is None or verb not in verbs:
        raise _method_not_allowed(request)
    if verb == "get":
        return objects.get_object(cluster, route)
    if verb == "update":
        return objects.replace_object(cluster, route, request)
    if verb == "patch":
        return objects.patch_object(cluster, route, request)
    return objects.delete_object(cluster, route, request)


def _subresource(cluster: FakeCluster, route: ResourceRoute, request: ApiRequest) -> Reply:
    method, sub = request.method, route.subresource
    if sub == "log" and method == "GET":
        return subresources.read_log(cluster, route, request)
    if sub == "scale" and method == "GET":
        return subresources.get_scale(cluster, route)
    if sub == "scale" and method in ("PATCH", "PUT"):
        return subresources.write_scale(cluster, route, request)
    if sub == "status" and method == "GET":
        return subresources.get_status(cluster, route)
    if sub == "status" and method in ("PATCH", "PUT"):
        return subresources.write_status(cluster, route, request)
    raise _method_not_allowed(request)


def _metrics(cluster: FakeCluster, route: ResourceRoute, request: ApiRequest) -> Reply:
    if not cluster.metrics_available:
        # Without metrics-server the aggregated API is simply absent: a plain-text 404, not a Status.
        return Reply(404, "404 page not found\n", TEXT)
    if request.method != "GET":
        raise _method_not_allowed(request)
    with cluster.lock:
        items = cluster.pod_metrics(route.namespace, request.query.get("labelSelector"),
                                    request.query.get("fieldSelector"))
        revision = cluster.resource_version
    if route.name is None:
        return Reply(200, paginate("PodMetricsList", "metrics.k8s.io/v1beta1", revision, items, request))
    for item in items:
        if item["metadata"]["name"] == route.name:
            return Reply(200, item)
    raise KubeError(404, f'podmetrics.metrics.k8s.io "{route.name}" not found',
                    details={"name": route.name, "group": _METRICS_GROUP, "kind": "pods"})
