"""The aiohttp face of the fake apiserver."""

from __future__ import annotations

import json

from aiohttp import web

from .cluster import FakeCluster
from .handlers import handle
from .protocol import ApiRequest, Reply
from .recording import RecordedRequest

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
    # Synchronous on purpose: the cluster is an in-memory structure guarded by an RLock, and running
    # on this loop keeps requests ordered. BackgroundServer gives the app a loop of its own.
    reply = handle(cluster, api_request, request.host)
    cluster.record(RecordedRequest(
        method=api_request.method,
        path=api_request.path,
        query=dict(api_request.query),
        content_type=api_request.content_type,
        body=api_request.body,
        status=reply.status,
        user_agent=request.headers.get("User-Agent"),
    ))
    return _response(reply)


def _response(reply: Reply) -> web.Response:
    if isinstance(reply.body, str):
        return web.Response(status=reply.status, text=reply.body, content_type="text/plain", charset="utf-8")
    return web.Response(status=reply.status, text=json.dumps(reply.body), content_type="application/json")
