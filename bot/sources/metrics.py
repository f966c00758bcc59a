"""The platform metrics API from the guide (`/metrics/latency`, `/metrics/errors`, `/health`)."""

from __future__ import annotations

from typing import Any

import httpx

from bot.sources.errors import SourceError
from bot.sources.records import EndpointErrors, ErrorSample, ErrorStats, HealthReport, LatencyStats

SOURCE = "metrics API"


class MetricsSource:
    """Async client of the metrics API. One connection pool per process; every call has a timeout."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout_s: float = 5.0) -> None:
        headers = {"X-API-Key": api_key} if api_key else {}
        self._client = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout_s)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            response = await self._client.get(path, params=params)
        except httpx.TimeoutException as exc:
            raise SourceError(SOURCE, f"timed out on {path}") from exc
        except httpx.HTTPError as exc:
            raise SourceError(SOURCE, f"unreachable ({type(exc).__name__}) on {path}") from exc
        if response.status_code != 200:
            raise SourceError(SOURCE, f"{path} answered HTTP {response.status_code}: {_reason(response)}")
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceError(SOURCE, f"{path} did not answer JSON") from exc
        if not isinstance(body, dict):
            raise SourceError(SOURCE, f"{path} answered {type(body).__name__}, not an object")
        return body

    async def latency(self, service: str, period: str) -> LatencyStats:
        body = await self._get("/metrics/latency", {"service": service, "period": period})
        try:
            return LatencyStats(
                service=service,
                period=period,
                requests=int(body.get("requests", 0)),
                p50_ms=float(body["p50_ms"]),
                p95_ms=float(body["p95_ms"]),
                p99_ms=float(body["p99_ms"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceError(SOURCE, f"/metrics/latency: unexpected shape ({exc})") from exc

    async def errors(self, service: str, period: str) -> ErrorStats:
        body = await self._get("/metrics/errors", {"service": service, "period": period})
        try:
            return ErrorStats(
                service=service,
                period=period,
                requests=int(body["requests"]),
                errors=int(body["errors"]),
                error_rate=float(body["error_rate"]),
                by_status=_status_counts(body.get("by_status", {})),
                by_endpoint=tuple(
                    EndpointErrors(
                        endpoint=str(item["endpoint"]),
                        requests=int(item["requests"]),
                        errors=int(item["errors"]),
                        by_status=_status_counts(item.get("by_status", {})),
                    )
                    for item in body.get("by_endpoint", [])
                ),
                samples=tuple(
                    ErrorSample(
                        request_id=str(item["request_id"]),
                        status=int(item["status"]),
                        endpoint=str(item.get("endpoint", "")),
                        message=str(item.get("message", "")),
                    )
                    for item in body.get("samples", [])[:50]
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceError(SOURCE, f"/metrics/errors: unexpected shape ({exc})") from exc

    async def health(self, service: str) -> HealthReport:
        body = await self._get("/health", {"service": service})
        deps = body.get("dependencies", {})
        breaker = body.get("circuit_breaker")
        return HealthReport(
            service=service,
            status=str(body.get("status", "unknown")),
            version=str(body["version"]) if body.get("version") is not None else None,
            checks={str(k): str(v) for k, v in dict(body.get("checks", {})).items()},
            dependencies={
                str(k): str(v.get("status", "unknown") if isinstance(v, dict) else v) for k, v in deps.items()
            },
            circuit_breaker=str(breaker.get("state")) if isinstance(breaker, dict) else None,
        )

    async def ping(self) -> bool:
        try:
            response = await self._client.get("/health", params={"service": "_ping"})
        except httpx.HTTPError:
            return False
        return response.status_code < 500


def _status_counts(raw: object) -> dict[int, int]:
    if not isinstance(raw, dict):
        raise TypeError("by_status must be an object")
    return {int(k): int(v) for k, v in raw.items()}


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("error", body))[:200] if isinstance(body, dict) else str(body)[:200]
