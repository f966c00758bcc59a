"""The pure `assess` of the timeout checks: P99 against the 30 s timeout, upstreams in logs, breaker."""

from datetime import UTC, datetime

import pytest

from bot.checks.circuit_breaker import CircuitBreakerCheck, normalise
from bot.checks.timeouts import TimeoutEvidence, TimeoutsCheck, group_by_upstream
from bot.config import load_ops_config
from bot.engine import context_for
from bot.model import Status
from bot.sources.records import ErrorStats, HealthReport, LatencyStats, LogLine
from bot.verdict import rank_causes

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CONFIG = load_ops_config(None)
CTX = context_for(CONFIG, CONFIG.target("business-logic"), NOW)  # depends on data-processor
TS = "2026-11-28T11:58:01.120Z"


def evidence(p99_ms: float, lines: tuple[str, ...] = (), by_status: dict[int, int] | None = None,
             requests: int = 100_000) -> TimeoutEvidence:
    latency = LatencyStats("business-logic", "15m", requests, 140.0, min(p99_ms, 16_800.0), p99_ms)
    statuses = by_status or {}
    errors = ErrorStats("business-logic", "15m", requests, sum(statuses.values()), 0.0, statuses, (), ())
    return TimeoutEvidence(latency, errors, tuple(LogLine(f"bl-{i % 3}", "c", text) for i, text in enumerate(lines)))


def timeout_line(text: str) -> str:
    return f"{TS} ERROR [business-logic] request_id=req-1a2b3c4d POST /orders 504 {text}"


@pytest.mark.parametrize(("p99_ms", "status"), [
    (24_000.0, Status.CRIT),  # exactly 80 % of 30 s: near
    (23_999.0, Status.WARN),  # just below, but past half the timeout
    (15_000.0, Status.WARN),
    (14_999.0, Status.OK),
])
def test_p99_against_eighty_percent_of_the_timeout(p99_ms: float, status: Status) -> None:
    assert TimeoutsCheck().assess(evidence(p99_ms), CTX).status is status


def test_near_timeout_with_a_named_upstream_blames_it() -> None:
    lines = (timeout_line("Upstream data-processor timed out after 30s"),) * 40 + (
        timeout_line("upstream=pricing-api deadline exceeded"),) * 3
    finding = TimeoutsCheck().assess(evidence(29_300.0, lines, {504: 7_000, 404: 900}), CTX)
    assert finding.status is Status.CRIT
    assert finding.summary == ("P99 29.3 s is 97.7 % of the 30 s request timeout (near it). 7,000 requests "
                               "answered 504. Logs show timed-out calls to data-processor, pricing-api.")
    (cause,) = finding.causes
    assert cause.key == "upstream_timeout" and cause.confidence == 0.9
    assert cause.evidence[2] == "7,000 requests answered 504 Gateway Timeout"
    assert cause.title.startswith("Upstream data-processor times out")
    assert cause.evidence[0].startswith("40 log lines on 3 pod(s): ERROR [business-logic]")
    assert finding.evidence[0].startswith("data-processor: 40 timed-out calls on 3 pod(s)")
    facts = {f.label: f.value for f in finding.facts}
    assert facts["P99"] == "29,300 ms (97.7 % of the timeout)" and facts["504 responses"] == "7,000 of 100,000"


def test_a_p99_above_the_timeout_is_said_to_exceed_it_not_to_be_near() -> None:
    finding = TimeoutsCheck().assess(evidence(33_000.0), CTX)
    assert finding.status is Status.CRIT
    assert finding.summary == ("P99 33.0 s is 110.0 % of the 30 s request timeout: it exceeds the timeout, so the "
                               "slowest requests are cut off.")
    assert "near" not in finding.summary
    assert {f.label: f.value for f in finding.facts}["P99"] == "33,000 ms (110.0 % of the timeout, exceeds it)"
    assert finding.causes[0].evidence == ("P99 33,000 ms exceeds the 30 s timeout",)


def test_timeouts_in_logs_without_high_p99_are_a_weaker_signal() -> None:
    finding = TimeoutsCheck().assess(evidence(900.0, (timeout_line("Upstream data-processor timed out after 30s"),)),
                                     CTX)
    assert finding.status is Status.WARN
    assert finding.causes[0].key == "upstream_timeout" and finding.causes[0].confidence == 0.6


def test_near_timeout_without_an_upstream_says_the_service_is_slow() -> None:
    finding = TimeoutsCheck().assess(evidence(28_000.0), CTX)
    (cause,) = finding.causes
    assert cause.key == "slow_requests" and "no log line names an upstream" in cause.title


def test_grouping_uses_named_upstreams_then_known_dependencies_and_skips_traceback_lines() -> None:
    lines = tuple(LogLine("p", "c", text) for text in (
        timeout_line("Upstream data-processor timed out after 30s"),
        f"{TS} ERROR [business-logic] Unhandled exception: httpx.ReadTimeout: timed out waiting for data-processor",
        "httpx.ReadTimeout: timed out",  # the traceback's last line: the same call again
        f"{TS} WARN [business-logic] call to ledger deadline exceeded",
        f"{TS} INFO [business-logic] GET /orders 200 31ms",
    ))
    groups = group_by_upstream(lines, ("data-processor",))
    assert [(g.upstream, g.count) for g in groups] == [("data-processor", 2), ("(no upstream named)", 1)]
    assert groups[0].example.startswith("ERROR [business-logic]")  # timestamp stripped


def test_no_traffic_and_no_logs_is_no_data() -> None:
    assert TimeoutsCheck().assess(evidence(0.0, requests=0), CTX).status is Status.NO_DATA


def health(breaker: str | None, deps: dict[str, str] | None = None) -> HealthReport:
    return HealthReport("business-logic", "degraded", "4.1.0", {"database": "healthy"}, deps or {}, breaker)


def test_closed_breaker_is_ok() -> None:
    finding = CircuitBreakerCheck().assess(health("closed"), CTX)
    assert finding.status is Status.OK and finding.causes == ()


def test_open_breaker_gives_the_guides_advice_and_names_the_downstream() -> None:
    finding = CircuitBreakerCheck().assess(health("open", {"data-processor": "degraded", "orders-db": "healthy"}), CTX)
    assert finding.status is Status.CRIT
    assert ("Wait for the recovery timeout (30 s), check downstream dependencies (data-processor degraded), "
            "fix the root cause before resetting.") in finding.summary
    (cause,) = finding.causes
    assert cause.key == "circuit_open" and cause.supports == ("upstream_timeout", "dependency")


def test_half_open_warns_and_folds_into_the_upstream_timeout() -> None:
    breaker = CircuitBreakerCheck().assess(health("half_open", {"data-processor": "degraded"}), CTX)
    assert breaker.status is Status.WARN and "half-open" in breaker.summary
    timeouts = TimeoutsCheck().assess(evidence(29_300.0, (timeout_line("Upstream data-processor timed out"),)), CTX)
    ranked = rank_causes([timeouts, breaker], "timeouts", ())
    assert [c.key for c in ranked] == ["upstream_timeout"]
    assert ranked[0].confidence == 0.9  # 1 - (1 - 0.85) * (1 - 0.3), rounded


def test_breaker_states_unknown_or_absent() -> None:
    assert normalise("HalfOpen") == normalise("half-open") == "half-open"
    assert CircuitBreakerCheck().assess(health("forced_open"), CTX).status is Status.WARN
    assert CircuitBreakerCheck().assess(health(None), CTX).status is Status.NO_DATA
    # The recovery timeout comes from the thresholds, so a per-service override shows.
    custom = context_for(CONFIG.model_copy(update={"thresholds": CONFIG.thresholds.model_copy(
        update={"circuit_breaker_recovery_s": 60})}), CONFIG.target("business-logic"), NOW)
    assert "(60 s)" in CircuitBreakerCheck().assess(health("open"), custom).summary


def test_upstream_confidence_grows_with_each_observed_part_of_the_mechanism() -> None:
    line = (timeout_line("Upstream data-processor timed out after 30s"),)
    confidences = [TimeoutsCheck().assess(e, CTX).causes[0].confidence for e in (
        evidence(900.0, line), evidence(29_300.0, line), evidence(29_300.0, line, {504: 10}))]
    assert confidences == [0.6, 0.85, 0.9]


def test_unreadable_logs_are_said() -> None:
    partial = evidence(29_300.0)
    finding = TimeoutsCheck().assess(TimeoutEvidence(partial.latency, partial.errors, (), ("bl-1/c", "bl-2/c")), CTX)
    assert finding.summary.endswith("Could not read 2 container log(s).")
    assert finding.status is Status.CRIT  # P99 alone still judges the symptom
