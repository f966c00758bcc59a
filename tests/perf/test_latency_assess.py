"""`latency` assess: P95 against the guide's 150/200 ms, and slow dependencies named as the cause."""

from dataclasses import replace

import pytest
from pydantic import ValidationError

from bot.checks.latency import DependencyLatency, LatencyCheck, LatencyEvidence
from bot.config import Thresholds
from bot.model import Status
from bot.sources.records import LatencyStats
from tests.perf.records import ctx

CHECK = LatencyCheck()


def _stats(p95: float, service: str = "api-gateway", requests: int = 10_000) -> LatencyStats:
    return LatencyStats(service, "15m", requests, p50_ms=p95 / 3, p95_ms=p95, p99_ms=p95 * 2)


def test_p95_against_the_alert_and_symptom_lines() -> None:
    assert CHECK.assess(LatencyEvidence(_stats(149.9)), ctx()).status is Status.OK
    assert CHECK.assess(LatencyEvidence(_stats(150)), ctx()).status is Status.WARN
    assert CHECK.assess(LatencyEvidence(_stats(199.9)), ctx()).status is Status.WARN
    crit = CHECK.assess(LatencyEvidence(_stats(480)), ctx())
    assert crit.status is Status.CRIT
    assert "480 ms" in crit.summary and "150 ms" in crit.summary and ">200 ms" in crit.summary
    p95 = next(f for f in crit.facts if f.label == "p95")
    assert p95.threshold == "warn 150 ms, crit 200 ms" and p95.status is Status.CRIT


def test_a_bad_tail_under_a_fine_p95_is_judged_on_its_own_line() -> None:
    def stats(p99: float) -> LatencyStats:
        return LatencyStats("data-processor", "15m", 10_000, p50_ms=40, p95_ms=120, p99_ms=p99)

    assert CHECK.assess(LatencyEvidence(stats(299)), ctx()).status is Status.OK
    warn = CHECK.assess(LatencyEvidence(stats(300)), ctx())
    assert warn.status is Status.WARN and "P99 300 ms (above the 300 ms P99 line)" in warn.summary
    crit = CHECK.assess(LatencyEvidence(stats(41_000)), ctx())
    assert crit.status is Status.CRIT  # the worse of P95 (ok) and P99 (crit)
    facts = {f.label: f for f in crit.facts}
    assert facts["p95"].status is Status.OK
    assert facts["p99"].status is Status.CRIT and facts["p99"].threshold == "warn 300 ms, crit 500 ms"
    assert "the guide calls" not in crit.summary  # the guide's symptom line is about P95, which is fine here


def test_the_p99_lines_are_configurable_and_ordered() -> None:
    strict = ctx()
    strict = replace(strict, thresholds=strict.thresholds.model_copy(update={"latency_p99_warn_ms": 100.0,
                                                                             "latency_p99_crit_ms": 150.0}))
    finding = CHECK.assess(LatencyEvidence(LatencyStats("x", "15m", 10, 40, 120, 160)), strict)
    assert finding.status is Status.CRIT
    with pytest.raises(ValidationError, match="latency_p99_warn_ms must not exceed"):
        Thresholds(latency_p99_warn_ms=600, latency_p99_crit_ms=500)


def test_no_requests_is_no_data() -> None:
    finding = CHECK.assess(LatencyEvidence(_stats(480, requests=0)), ctx())
    assert finding.status is Status.NO_DATA and not finding.causes


def test_a_dependency_as_slow_as_the_service_is_the_suspect() -> None:
    evidence = LatencyEvidence(_stats(480), (
        DependencyLatency("auth-service", _stats(64, "auth-service")),
        DependencyLatency("business-logic", _stats(455, "business-logic")),
    ))
    finding = CHECK.assess(evidence, ctx("api-gateway"))
    (cause,) = finding.causes
    assert cause.key == "dependency" and "business-logic" in cause.title and "auth-service" not in cause.title
    assert cause.confidence == 0.6
    assert "455 ms = 95% of api-gateway's 480 ms" in cause.evidence[0]


def test_a_dependency_far_faster_than_the_service_is_not_blamed() -> None:
    # 210 ms is over the line, but it is only 30 % of the service's own 700 ms: the time is spent elsewhere.
    evidence = LatencyEvidence(_stats(700), (DependencyLatency("business-logic", _stats(210, "business-logic")),))
    finding = CHECK.assess(evidence, ctx("api-gateway"))
    assert finding.status is Status.CRIT and finding.causes == ()


def test_no_cause_when_the_service_itself_is_fast() -> None:
    evidence = LatencyEvidence(_stats(90), (DependencyLatency("business-logic", _stats(455, "business-logic")),))
    assert CHECK.assess(evidence, ctx("api-gateway")).causes == ()


def test_an_unreadable_dependency_is_said_not_hidden() -> None:
    evidence = LatencyEvidence(_stats(300), (DependencyLatency("orders-db", None, "metrics API: HTTP 404"),))
    finding = CHECK.assess(evidence, ctx("api-gateway"))
    assert finding.status is Status.CRIT and finding.causes == ()
    assert finding.evidence == ("orders-db: latency unavailable (metrics API: HTTP 404)",)


def test_a_dependency_only_over_the_alert_line_is_a_weak_suspect() -> None:
    evidence = LatencyEvidence(_stats(178), (DependencyLatency("data-processor", _stats(170, "data-processor")),))
    finding = CHECK.assess(evidence, ctx("business-logic"))
    assert finding.status is Status.WARN and finding.causes[0].confidence == 0.35
