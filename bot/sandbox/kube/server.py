"""The aiohttp face of the fake apiserver."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from .cluster import FakeCluster
from .errors import KubeError
from .handlers import handle
from .protocol import ApiRequest, Reply
from .recording import RecordedRequest
from .routes import ResourceRoute, parse_path
from .watch import POLL_INTERVAL_S, Watcher

_CLUSTER = web.AppKey("cluster", FakeCluster)


def build_kube_app(cluster: FakeCluster) -> web.Application:
    """An app serving the Kubernetes REST API from `cluster`; run it with `BackgroundServer`."""
    app = web.Application()
    app[_CLUSTER] = cluster
    app.router.add_route("*", "/{tail:.*}", _serve)
    return app


async def _read(request: web.Request) -> ApiRequest:
    raw = await request.read()
    body, error = None, None
    if raw:
        try:
            body = json.loads(raw)
        except ValueError as exc:
            # YAML apply bodies are not supported: the bot (and the client) send JSON.
            error = str(exc)
            body = raw.decode(errors="replace")
    return ApiRequest(
        method=request.method,
        path=request.path,
        query={key: value for key, value in request.query.items()},
        content_type=request.headers.get("Content-Type"),
        body=body,
        body_error=error,
    )


async def _serve(request: web.Request) -> web.StreamResponse:
    cluster = request.app[_CLUSTER]
    api_request = await _read(request)
    watched = _watched_list(api_request)
    if watched is not None:
        return await _watch(request, cluster, api_request, watched)
    # Synchronous on purpose: the cluster is an in-memory structure guarded by an RLock, and running
    # on this loop keeps requests ordered. BackgroundServer gives the app a loop of its own.
    reply = handle(cluster, api_request, request.host)
    _record(cluster, request, api_request, reply.status)
    return _response(reply)


def _record(cluster: FakeCluster, request: web.Request, api_request: ApiRequest, status: int) -> None:
    cluster.record(RecordedRequest(
        method=api_request.method,
        path=api_request.path,
        query=dict(api_request.query),
        content_type=api_request.content_type,
        body=api_request.body,
        status=status,
        user_agent=request.headers.get("User-Agent"),
    ))


def _watched_list(api_request: ApiRequest) -> ResourceRoute | None:
    """The list route of a `?watch=true&timeoutSeconds=N` GET on a stored kind. A watch without a
    timeout (the real apiserver would hold it 30-60 minutes) is still refused rather than left hanging;
    client-go's reflectors, so kubectl's `rollout status`, always send one. The metrics API has none."""
    if api_request.method != "GET" or not api_request.bool_param("watch"):
        return None
    if not api_request.query.get("timeoutSeconds"):
        return None
    route = parse_path(api_request.path)
    if not isinstance(route, ResourceRoute) or route.name is not None or route.subresource is not None:
        return None
    return route if route.resource.model is not None else None


async def _watch(request: web.Request, cluster: FakeCluster, api_request: ApiRequest,
                 route: ResourceRoute) -> web.StreamResponse:
    """Stream watch events, one JSON object a line, until timeoutSeconds or the client goes away."""
    try:
        watcher = Watcher(cluster, route, api_request)
    except KubeError as exc:
        _record(cluster, request, api_request, exc.status)
        return _response(Reply.error(exc))
    _record(cluster, request, api_request, 200)
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + watcher.timeout_s
    try:
        while loop.time() < deadline:
            if request.transport is None or request.transport.is_closing():
                return response  # the client went away (aiohttp does not cancel the handler): stop polling
            for event in watcher.poll():
                await response.write(json.dumps(event).encode() + b"\n")
            await asyncio.sleep(POLL_INTERVAL_S)
        await response.write_eof()
    except ConnectionResetError:
        pass  # it went away while we wrote
    return response


def _response(reply: Reply) -> web.Response:
    if isinstance(reply.body, str):
        return web.Response(status=reply.status, text=reply.body, content_type="text/plain", charset="utf-8")
    return web.Response(status=reply.status, text=json.dumps(reply.body), content_type="application/json")
