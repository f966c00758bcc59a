"""The metrics API's contract: JSON shapes, numbers from the live state, errors as JSON, API key."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.sandbox.kube.logs import LogQuery
from bot.sandbox.runner import Sandbox

KEY = {"X-API-Key": "test-key"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox("bad-deploy", api_key="test-key") as running:
        yield running


def get(sandbox: Sandbox, path: str, headers: dict[str, str] | None = None,
        **params: str) -> httpx.Response:
    chosen = KEY if headers is None else headers
    return httpx.get(f"{sandbox.metrics_url}{path}", params=params, headers=chosen)


def test_errors_shape_and_numbers(sandbox: Sandbox) -> None:
    body = get(sandbox, "/metrics/errors", service="auth-service", period="1h").json()
    assert body["service"] == "auth-service" and body["period"] == "1h"
    assert 1100 <= body["window_seconds"] <= 1300  # since the rollout 20 minutes ago, not the whole hour
    assert body["errors"] == sum(body["by_status"].values())
    assert body["error_rate"] == pytest.approx(body["errors"] / body["requests"], abs=1e-6)
    assert 0.10 <= body["error_rate"] <= 0.15
    assert body["by_status"]["500"] > body["by_status"]["401"] > 0
    top = body["by_endpoint"][0]
    assert top["endpoint"] == "POST /auth/validate" and top["errors"] > 0.8 * body["errors"]
    assert sum(e["requests"] for e in body["by_endpoint"]) == body["requests"]
    assert 0 < len(body["samples"]) <= 20
    sample = body["samples"][0]
    assert sample["request_id"].startswith("req-") and sample["status"] >= 400 and sample["ts"].endswith("Z")
    assert body["series"] and all(0 <= point["error_rate"] <= 1 for point in body["series"])


def test_sampled_request_ids_are_in_the_logs(sandbox: Sandbox) -> None:
    body = get(sandbox, "/metrics/errors", service="auth-service", period="15m").json()
    logs = "".join(sandbox.cluster.read_logs("default", pod["metadata"]["name"], LogQuery())
                   for pod in sandbox.cluster.list("Pod", "default", label_selector="app=auth-service"))
    assert all(sample["request_id"] in logs for sample in body["samples"])


def test_healthy_services_are_nominal(sandbox: Sandbox) -> None:
    for service in ("api-gateway", "data-processor", "business-logic"):
        errors = get(sandbox, "/metrics/errors", service=service, period="1h").json()
        assert errors["window_seconds"] == 3600
        assert 0.002 <= errors["error_rate"] <= 0.01
        latency = get(sandbox, "/metrics/latency", service=service, period="1h").json()
        assert latency["p50_ms"] <= latency["p95_ms"] <= latency["p99_ms"]
        assert latency["p95_ms"] < 200


def test_latency_shape(sandbox: Sandbox) -> None:
    body = get(sandbox, "/metrics/latency", service="auth-service", period="5m").json()
    assert set(body) == {"service", "period", "window_seconds", "requests", "p50_ms", "p95_ms", "p99_ms",
                         "series"}
    assert body["window_seconds"] == 300 and body["requests"] > 0
    assert all(set(point) == {"ts", "p95_ms"} for point in body["series"])


def test_identical_queries_give_identical_rates(sandbox: Sandbox) -> None:
    first = get(sandbox, "/metrics/errors", service="auth-service", period="5m").json()
    second = get(sandbox, "/metrics/errors", service="auth-service", period="5m").json()
    assert first["error_rate"] == second["error_rate"] and first["by_status"] == second["by_status"]


def test_health(sandbox: Sandbox) -> None:
    body = get(sandbox, "/health", service="auth-service").json()
    assert body == {
        "service": "auth-service", "status": "healthy", "version": "2.5.0",
        "checks": {"database": "healthy", "redis": "healthy", "jwks": "healthy"},
        "dependencies": {"user-db": {"status": "healthy", "latency_ms": 3.1},
                         "redis-cache": {"status": "healthy", "latency_ms": 0.9}},
        "circuit_breaker": {"state": "closed", "failures": 0, "recovery_timeout_s": 30},
    }


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}])
def test_api_key_is_required(sandbox: Sandbox, headers: dict[str, str]) -> None:
    response = get(sandbox, "/health", headers=headers, service="auth-service")
    assert response.status_code == 401 and "error" in response.json()


@pytest.mark.parametrize("period", ["1 hour", "h", "0m", "-5m"])
def test_bad_period_is_400(sandbox: Sandbox, period: str) -> None:
    response = get(sandbox, "/metrics/latency", service="auth-service", period=period)
    assert response.status_code == 400 and "period" in response.json()["error"]


def test_unknown_service_is_404(sandbox: Sandbox) -> None:
    response = get(sandbox, "/metrics/errors", service="billing", period="1h")
    assert response.status_code == 404 and response.json() == {"error": "unknown service: billing"}


def test_unknown_path_is_json_404(sandbox: Sandbox) -> None:
    response = get(sandbox, "/metrics/nope", service="auth-service")
    assert response.status_code == 404 and "error" in response.json()
