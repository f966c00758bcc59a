"""build_app(settings, deps) -> the Bolt AsyncApp, and the HTTP server around it.

One aiohttp server serves Slack (`POST /slack/events`) and the operational endpoints (`/healthz`,
`/readyz`, `/metrics`); in Socket Mode the same server still answers the probes.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot import telemetry
from bot.config import Settings
from bot.logging_setup import correlated
from bot.remediation import Remediation, build_remediation
from bot.scheduled_jobs import Scheduling, build_scheduling
from bot.store.coordination import CoordinationError
from bot.wiring import Deps
from handlers.scheduled import SlackNotifier

log = logging.getLogger(__name__)
# Slack retries an event up to 3 times within minutes; remember handled event_ids well past that.
EVENT_DEDUP_TTL_S = 3600


def build_client(settings: Settings) -> AsyncWebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=10,
        # slack_sdk only retries connection errors by default; a 429 must wait Retry-After and resend.
        retry_handlers=[
            SlackCallMeter(),  # first, so it sees every response before a retry handler claims it
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )


class SlackCallMeter(AsyncRetryHandler):
    """Counts Web API calls and 429s for /metrics. slack_sdk offers every HTTP response (and connection
    error) to its retry handlers in turn, so this one, placed first, sees each attempt; it never retries."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=0)

    async def can_retry_async(self, *, state: RetryState, request: HttpRequest,
                              response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        method = request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        status = str(response.status_code) if response is not None else "error"
        telemetry.SLACK_API_CALLS.labels(method, status).inc()
        if status == "429":
            telemetry.SLACK_RATE_LIMITED.labels(method).inc()
        return False


def build_app(
    settings: Settings, deps: Deps, client: AsyncWebClient | None = None, flow: Remediation | None = None
) -> AsyncApp:
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = AsyncApp(
        client=client or build_client(settings),
        signing_secret=secret,
        # Acks return at once and the work continues: right for a long-lived process and Socket Mode.
        process_before_response=False,
    )
    app.use(_correlate)
    app.use(_dedupe_events(deps))
    app.error(_on_error)
    handlers.register(app, deps, flow)
    return app


def correlation_of(body: dict[str, Any]) -> tuple[str, str | None, str]:
    """(kind, Slack's own ID for it, what it is) of one request: Slack retries reuse event_id, so a retried
    event keeps its correlation ID; a command or click gets its trigger_id."""
    if body.get("command"):
        return "command", body.get("trigger_id"), str(body["command"])
    if body.get("type") == "event_callback":
        event = body.get("event") or {}
        return "event", body.get("event_id"), str(event.get("type") or "event")
    if body.get("type") in ("block_actions", "view_submission", "view_closed"):
        actions = body.get("actions") or [{}]
        what = actions[0].get("action_id") or (body.get("view") or {}).get("callback_id") or body["type"]
        return "action", body.get("trigger_id"), str(what)
    return "request", None, str(body.get("type") or "request")


async def _correlate(body: dict[str, Any], next: Any) -> None:
    """Every log line written while handling this request (and in the tasks it spawns) carries its ID."""
    kind, ref, what = correlation_of(body)
    with correlated(kind, ref):
        log.info("slack %s: %s", kind, what)
        await next()


def _dedupe_events(deps: Deps) -> Any:
    """Events API retries carry the same event_id: handle each event once across all replicas."""

    async def dedupe(body: dict[str, Any], next: Any) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            try:
                first = await deps.coordination.claim(f"event:{event_id}", EVENT_DEDUP_TTL_S)
            except CoordinationError:
                # Better to risk handling an event twice than to drop it while Redis is away.
                log.warning("coordination unavailable; handling event %s without dedup", event_id)
                first = True
            if not first:
                telemetry.EVENTS_DUPLICATE.inc()
                return BoltResponse(status=200, body="")
        await next()
        return None

    return dedupe


async def _on_error(error: Exception, body: dict[str, Any]) -> None:
    telemetry.LISTENER_ERRORS.inc()
    kind = body.get("type") or body.get("command") or "request"
    log.error("unhandled error in listener for %s: %s", kind, error, exc_info=error)


def build_web_app(bolt: AsyncApp, deps: Deps) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        checks = await deps.readiness()
        return web.json_response({"ready": all(checks.values()), "checks": checks},
                                 status=200 if all(checks.values()) else 503)

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=telemetry.render(), content_type="text/plain", charset="utf-8")

    web_app = web.Application(client_max_size=1024 * 1024)
    web_app.router.add_post("/slack/events", slack_events)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
    web_app.router.add_get("/metrics", metrics)
    return web_app


async def serve(settings: Settings, deps: Deps) -> None:
    """Run until SIGINT/SIGTERM: HTTP always (probes), Socket Mode too when SLACK_APP_TOKEN is set."""
    scheduled = deps.config.scheduler.enabled
    # With the scheduler on, timed reverts run on the leader replica, not in the process that took the click.
    bolt = build_app(settings, deps, flow=build_remediation(deps, timed_reverts_in_process=not scheduled))
    scheduling = _start_scheduling(settings, deps, bolt) if scheduled else None
    runner = web.AppRunner(build_web_app(bolt, deps), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", settings.port).start()  # noqa: S104 (a server in a pod)
    socket_handler = None
    if settings.slack_app_token:
        socket_handler = AsyncSocketModeHandler(bolt, settings.slack_app_token.get_secret_value())
        await socket_handler.connect_async()  # type: ignore[no-untyped-call]
    mode = "Socket Mode" if socket_handler else f"HTTP on :{settings.port} (POST /slack/events)"
    log.info("opsbot serving Slack via %s", mode)
    if deps.in_memory:
        log.warning("DATABASE_URL/REDIS_URL not both set: state is in memory — run a single replica only")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down")
    if scheduling is not None:
        await scheduling.stop()  # hands leadership over before the connections close
    if socket_handler:
        await socket_handler.close_async()  # type: ignore[no-untyped-call]
    await runner.cleanup()
    await deps.aclose()


def _start_scheduling(settings: Settings, deps: Deps, bolt: AsyncApp) -> Scheduling:
    """Leader election and, on the leader, the scheduled jobs; they post through the app's Web API client."""
    scheduling = build_scheduling(deps, SlackNotifier(bolt.client, settings.ops_channel))
    scheduling.start()
    return scheduling
