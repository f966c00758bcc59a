"""health_checks.assess: the endpoint's answer per check and dependency, and pods passing readiness."""

from __future__ import annotations

from bot.checks.health_checks import HealthChecksCheck, HealthEvidence
from bot.model import Status
from bot.sources.records import HealthReport

from .records import CTX, container, pod

CHECK = HealthChecksCheck()
READY = tuple(pod(f"gw-{i}") for i in range(3))


def report(status: str = "healthy", checks: dict[str, str] | None = None,
           deps: dict[str, str] | None = None) -> HealthReport:
    return HealthReport("api-gateway", status, "3.2.0", checks or {"database": "healthy", "redis": "healthy"},
                        deps or {"auth-service": "healthy"}, "closed")


def test_all_healthy_and_ready_is_ok() -> None:
    finding = CHECK.assess(HealthEvidence(report(), READY), CTX)
    assert finding.status is Status.OK and finding.causes == ()
    assert finding.summary == "/health says healthy; 3/3 pods pass their readiness probe."


def test_failing_database_check_is_health_database_and_folds_into_database() -> None:
    finding = CHECK.assess(HealthEvidence(report("unhealthy", {"database": "unhealthy", "redis": "healthy"}),
                                          READY), CTX)
    assert finding.status is Status.CRIT
    cause = finding.causes[0]
    assert cause.key == "health_database" and cause.supports == ("database",) and cause.confidence == 0.7
    assert cause.evidence == ("/health check database: unhealthy",)


def test_degraded_cache_warns_with_a_weaker_cause() -> None:
    finding = CHECK.assess(HealthEvidence(report("degraded", {"database": "healthy", "redis": "degraded"}),
                                          READY), CTX)
    assert finding.status is Status.WARN
    assert [(c.key, c.confidence) for c in finding.causes] == [("health_cache", 0.5)]


def test_failing_dependencies_are_named() -> None:
    finding = CHECK.assess(HealthEvidence(report("degraded", deps={"auth-service": "unhealthy",
                                                                   "business-logic": "degraded"}), READY), CTX)
    cause = finding.causes[0]
    assert cause.key == "health_dependency"
    assert "auth-service" in cause.title and "business-logic" in cause.title
    assert len(cause.evidence) == 2


def test_other_checks_name_themselves() -> None:
    finding = CHECK.assess(HealthEvidence(report("degraded", {"queue": "unhealthy"}), READY), CTX)
    assert finding.causes[0].key == "health_check" and "'queue'" in finding.causes[0].title


def test_pods_failing_readiness_raise_the_status_even_when_health_says_healthy() -> None:
    down = pod("gw-3", container(ready=False, waiting_reason="CrashLoopBackOff"))
    assert CHECK.assess(HealthEvidence(report(), (*READY, down)), CTX).status is Status.WARN
    assert CHECK.assess(HealthEvidence(report(), (down,)), CTX).status is Status.CRIT


def test_unreadable_pods_are_said_not_hidden() -> None:
    finding = CHECK.assess(HealthEvidence(report(), None, "list pods: HTTP 503"), CTX)
    assert finding.status is Status.OK
    assert any(f.label == "pods ready" and f.value == "unknown" and f.status is Status.ERROR for f in finding.facts)
