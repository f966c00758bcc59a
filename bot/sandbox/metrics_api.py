"""The platform's metrics API (the guide's `localhost:8001`), computed from the live platform state.

    GET /metrics/latency?service=S&period=1h
    GET /metrics/errors?service=S&period=1h
    GET /health?service=S

How `period` is applied: the numbers describe the traffic served by the pods that are ready right now,
each pod behaving like the profile of its image. The window is the time since that mix of pods came
about (the last state change: a rollout, rollback, restart or scale), capped at `period` and at least
`MIN_WINDOW_SECONDS`; `window_seconds` says which. So a fix shows on the very next query: after a
rollback the window restarts with the new pods and the error rate is the old image's. Two identical
queries against the same state give the same rates and percentiles; counts grow with the window.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from .platform import Platform, Traffic
from .pod_states import wiggle
from .scenario import Endpoint, Health, Profile, parse_duration

MIN_WINDOW_SECONDS = 60
MAX_SAMPLES = 20
_MAX_SERIES_POINTS = 12
_PERIOD = re.compile(r"^\d+[smhd]$")
_PLATFORM_KEY: web.AppKey[Platform] = web.AppKey("platform", Platform)
_API_KEY: web.AppKey[str] = web.AppKey("api_key", str)  # "" when no key is required

Json = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


# --- arithmetic --------------------------------------------------------------------------------------


def apportion(total: int, weights: list[float]) -> list[int]:
    """Split an integer by weights so the parts add up exactly (largest remainder)."""
    if total <= 0 or not weights or sum(weights) <= 0:
        return [0] * len(weights)
    exact = [total * w / sum(weights) for w in weights]
    parts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def window_seconds(traffic: Traffic, period_seconds: int, now: datetime) -> int:
    since = traffic.since
    age = int((now - since).total_seconds()) if since is not None else period_seconds
    return max(MIN_WINDOW_SECONDS, min(period_seconds, age))


def _served(traffic: Traffic) -> list[tuple[Profile, float]]:
    """(profile, share of requests) of what serves traffic; nothing ready -> all requests get 503."""
    total = sum(len(s.pods) for s in traffic.shares)
    return [(s.info.profile, len(s.pods) / total) for s in traffic.shares] if total else []


def _request_rate(traffic: Traffic) -> float:
    served = _served(traffic)
    if not served:
        return traffic.fallback.profile.requests_per_second
    return sum(profile.requests_per_second * share for profile, share in served)


def series_times(window: int, now: datetime) -> list[datetime]:
    """Up to 12 points, one per step (a whole number of minutes), ending at the current minute."""
    points = max(1, min(_MAX_SERIES_POINTS, window // 60))
    step = max(60, window // points // 60 * 60)
    end = now.replace(second=0, microsecond=0)
    return [end - timedelta(seconds=step * (points - 1 - k)) for k in range(points)]


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- errors ------------------------------------------------------------------------------------------


class _Tally:
    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.by_status: dict[str, int] = {}

    def add(self, requests: int, by_status: dict[str, int]) -> None:
        self.requests += requests
        for status, count in by_status.items():
            self.errors += count
            self.by_status[status] = self.by_status.get(status, 0) + count

    def statuses(self) -> dict[str, int]:
        return {k: v for k, v in sorted(self.by_status.items()) if v}


def _endpoint_errors(profile: Profile, endpoint: Endpoint, requests: int, errors: int) -> dict[str, int]:
    split = endpoint.status_split or profile.status_split
    statuses = sorted(split)
    counts = apportion(min(errors, requests), [split[s] for s in statuses])
    return dict(zip(statuses, counts, strict=True))


def _tally_endpoints(traffic: Traffic, requests: int) -> dict[str, _Tally]:
    served = _served(traffic)
    tallies: dict[str, _Tally] = {}
    if not served:  # no ready pod: the Service has no endpoints and every request gets a 503
        tallies["*"] = _Tally()
        tallies["*"].add(requests, {"503": requests})
        return tallies
    per_image = apportion(requests, [share for _, share in served])
    for (profile, _), image_requests in zip(served, per_image, strict=True):
        image_errors = round(image_requests * profile.error_rate)
        endpoint_requests = apportion(image_requests, [e.traffic for e in profile.endpoints])
        endpoint_errors = apportion(image_errors, [e.errors for e in profile.endpoints])
        for endpoint, n, errors in zip(profile.endpoints, endpoint_requests, endpoint_errors, strict=True):
            by_status = _endpoint_errors(profile, endpoint, n, errors)
            tallies.setdefault(endpoint.endpoint, _Tally()).add(n, by_status)
    return tallies


def _error_rate(traffic: Traffic) -> float:
    served = _served(traffic)
    if not served:
        return 1.0
    return sum(p.error_rate * p.requests_per_second * share for p, share in served) / _request_rate(traffic)


def errors_report(traffic: Traffic, period: str, now: datetime) -> Json:
    window = window_seconds(traffic, parse_duration(period), now)
    requests = round(_request_rate(traffic) * window)
    tallies = _tally_endpoints(traffic, requests)
    total = _Tally()
    for tally in tallies.values():
        total.add(tally.requests, tally.by_status)
    rate = _error_rate(traffic)
    name = traffic.service.name
    cutoff = now - timedelta(seconds=window)
    samples = [r for r in traffic.failures if r.ts >= cutoff][-MAX_SAMPLES:]
    return {
        "service": name,
        "period": period,
        "window_seconds": window,
        "requests": total.requests,
        "errors": total.errors,
        "error_rate": round(total.errors / total.requests, 6) if total.requests else 0.0,
        "by_status": total.statuses(),
        "by_endpoint": [
            {"endpoint": endpoint, "requests": t.requests, "errors": t.errors, "by_status": t.statuses()}
            for endpoint, t in sorted(tallies.items(), key=lambda item: -item[1].requests)
        ],
        "samples": [
            {"request_id": r.request_id, "status": r.status, "endpoint": r.endpoint, "message": r.message,
             "ts": r.ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{r.ts.microsecond // 1000:03d}Z"}
            for r in reversed(samples)
        ],
        "series": [
            {"ts": rfc3339(t), "error_rate": round(min(1.0, rate * wiggle(f"{name}|errors|{t}", 0.08)), 6)}
            for t in series_times(window, now)
        ],
    }


# --- latency -----------------------------------------------------------------------------------------


def _percentiles(traffic: Traffic) -> tuple[float, float, float]:
    """Traffic-weighted mean of each image's percentiles: an approximation, stable and monotone."""
    served = _served(traffic)
    if not served:
        return 0.0, 0.0, 0.0
    weights = [p.requests_per_second * share for p, share in served]
    total = sum(weights)

    latencies = [p.latency for p, _ in served]
    p50, p95, p99 = ([getattr(lat, f"{q}_ms") * w for lat, w in zip(latencies, weights, strict=True)]
                     for q in ("p50", "p95", "p99"))
    return round(sum(p50) / total, 1), round(sum(p95) / total, 1), round(sum(p99) / total, 1)


def latency_report(traffic: Traffic, period: str, now: datetime) -> Json:
    window = window_seconds(traffic, parse_duration(period), now)
    p50, p95, p99 = _percentiles(traffic)
    requests = round(_request_rate(traffic) * window) if traffic.shares else 0
    name = traffic.service.name
    return {
        "service": name,
        "period": period,
        "window_seconds": window,
        "requests": requests,
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "series": [
            {"ts": rfc3339(t), "p95_ms": round(p95 * wiggle(f"{name}|latency|{t}", 0.08), 1)}
            for t in series_times(window, now)
        ],
    }


# --- health ------------------------------------------------------------------------------------------


def _derived_status(health: Health) -> str:
    states = [*health.checks.values(), *(d.status for d in health.dependencies.values())]
    if "unhealthy" in states or health.circuit_breaker.state == "open":
        return "unhealthy" if "unhealthy" in health.checks.values() else "degraded"
    if "degraded" in states or health.circuit_breaker.state == "half_open":
        return "degraded"
    return "healthy"


def health_report(traffic: Traffic) -> Json:
    """What the service's /health says: the image serving most ready pods answers; none -> unhealthy."""
    if traffic.shares:
        main = max(traffic.shares, key=lambda s: (len(s.pods), s.since)).info
        health = main.profile.health
        status = health.status or _derived_status(health)
    else:
        main = traffic.fallback
        health = main.profile.health
        status = "unhealthy"
    breaker = health.circuit_breaker
    return {
        "service": traffic.service.name,
        "status": status,
        "version": main.revision.version,
        "checks": dict(health.checks),
        "dependencies": {name: {"status": d.status, "latency_ms": d.latency_ms}
                         for name, d in health.dependencies.items()},
        "circuit_breaker": {"state": breaker.state, "failures": breaker.failures,
                            "recovery_timeout_s": breaker.recovery_timeout_s},
    }


# --- HTTP --------------------------------------------------------------------------------------------


def _traffic_for(request: web.Request) -> Traffic:
    name = request.query.get("service", "")
    if not name:
        raise _BadRequest(400, "missing query parameter: service")
    traffic = request.app[_PLATFORM_KEY].traffic(name)
    if traffic is None:
        raise _BadRequest(404, f"unknown service: {name}")
    return traffic


def _period(request: web.Request) -> str:
    period = request.query.get("period", "1h")
    if not _PERIOD.match(period) or parse_duration(period) == 0:
        raise _BadRequest(400, f"invalid period {period!r}: expected e.g. 5m, 15m, 1h, 6h, 24h")
    return period


async def _latency(request: web.Request) -> web.Response:
    period = _period(request)
    traffic = _traffic_for(request)
    return web.json_response(latency_report(traffic, period, request.app[_PLATFORM_KEY].now()))


async def _errors(request: web.Request) -> web.Response:
    period = _period(request)
    traffic = _traffic_for(request)
    return web.json_response(errors_report(traffic, period, request.app[_PLATFORM_KEY].now()))


async def _health(request: web.Request) -> web.Response:
    return web.json_response(health_report(_traffic_for(request)))


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """API key check (when configured), and client errors as JSON `{"error": ...}`."""
    expected = request.app[_API_KEY]
    given = request.headers.get("X-API-Key", "")
    if expected and not hmac.compare_digest(given.encode(), expected.encode()):
        return _error(401, "missing or invalid X-API-Key")
    try:
        return await handler(request)
    except _BadRequest as problem:
        return _error(problem.status, str(problem))
    except web.HTTPException as problem:
        if problem.status >= 400:
            return _error(problem.status, problem.reason)
        raise


def build_metrics_app(platform: Platform, api_key: str | None) -> web.Application:
    app = web.Application(middlewares=[_guard])
    app[_PLATFORM_KEY] = platform
    app[_API_KEY] = api_key or ""
    app.router.add_get("/metrics/latency", _latency)
    app.router.add_get("/metrics/errors", _errors)
    app.router.add_get("/health", _health)
    return app
