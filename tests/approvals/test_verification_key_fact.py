"""The verdict's key number is the fact that decided the status, compared on the same fact afterwards; a
healthy-before-and-after verdict still says how the number moved."""

from __future__ import annotations

from typing import cast

import pytest

from bot.actions.base import ActionEnv
from bot.model import Fact, Finding, Status, Target
from bot.verification import Trend, Verification, compare, key_fact, measure_itself


def latency(p50: str, p99: str, status: Status, *, p99_status: Status | None = None) -> Finding:
    """As the latency check reports it: p50 first (no threshold), p95 and p99 against theirs."""
    return Finding("latency", "Latency", status, f"p99 {p99}", facts=(
        Fact("p50", p50),
        Fact("p95", "120 ms", "warn 200 ms, crit 800 ms", Status.OK),
        Fact("p99", p99, "warn 300 ms, crit 1,000 ms", p99_status or status),
        Fact("requests", "12,000 in 5m"),
    ))


def test_the_key_fact_of_a_warning_is_the_fact_at_that_status_not_the_first() -> None:
    fact = key_fact(latency("24 ms", "310 ms", Status.WARN))
    assert fact is not None and fact.label == "p99"


def test_the_key_fact_of_a_healthy_finding_is_its_first() -> None:
    fact = key_fact(latency("24 ms", "90 ms", Status.OK))
    assert fact is not None and fact.label == "p50"


def test_a_warning_no_fact_explains_falls_back_to_the_first_fact() -> None:
    finding = Finding("c", "C", Status.WARN, "s", facts=(Fact("a", "1"), Fact("b", "2")))
    fact = key_fact(finding)
    assert fact is not None and fact.label == "a"


def test_the_verdict_compares_the_deciding_fact_of_before_on_the_same_fact_after() -> None:
    before = latency("24 ms", "310 ms", Status.WARN)
    unchanged = latency("24 ms", "312 ms", Status.WARN)
    trend, why = compare(before, unchanged)
    assert trend is Trend.UNCHANGED and "p99 moved by less than 10 %" in why
    # p99 fell a lot at the same status: better, although p50 (the first fact) did not move at all.
    trend, why = compare(before, latency("24 ms", "200 ms", Status.WARN, p99_status=Status.WARN))
    assert trend is Trend.BETTER and why == "status still warn; p99 went down from 310 to 200"


def test_the_after_side_is_read_on_the_before_sides_fact_even_when_another_fact_decides_it() -> None:
    before = latency("24 ms", "310 ms", Status.WARN)
    # Afterwards p95 is what warns (first at that status), but the verdict speaks of p99 on both sides.
    after = Finding("latency", "Latency", Status.WARN, "p95 high", facts=(
        Fact("p50", "24 ms"),
        Fact("p95", "250 ms", "warn 200 ms, crit 800 ms", Status.WARN),
        Fact("p99", "400 ms", "warn 300 ms, crit 1,000 ms", Status.WARN),
    ))
    verdict = Verification("r1", "auth-service", None, *compare(before, after), before=before, after=after)
    assert verdict.trend is Trend.WORSE
    assert verdict.key_fact_before is not None and verdict.key_fact_before.label == "p99"
    assert verdict.key_fact_after is not None and verdict.key_fact_after.label == "p99"
    assert verdict.key_fact_after.value == "400 ms"


def test_a_fact_missing_afterwards_is_not_measured_and_compares_by_status_only() -> None:
    before = latency("24 ms", "310 ms", Status.WARN)
    after = Finding("latency", "Latency", Status.WARN, "s", facts=(Fact("p50", "10 ms"),))
    assert compare(before, after) == (Trend.UNCHANGED, "status still warn")
    verdict = Verification("r1", "auth-service", None, Trend.UNCHANGED, "", before=before, after=after)
    assert verdict.key_fact_after is None


def test_healthy_before_and_after_says_how_the_number_moved() -> None:
    def connections(value: str) -> Finding:
        return Finding("idle", "Idle connections", Status.OK, "ok",
                       facts=(Fact("connections", f"{value} of 100", "80 of 100"),))

    trend, why = compare(connections("5"), connections("0"))
    assert trend is Trend.UNCHANGED
    assert why == "healthy before and after; connections went down from 5 to 0"
    assert compare(connections("40"), connections("41")) == (Trend.UNCHANGED, "healthy before and after")


def test_without_a_baseline_the_after_side_shows_its_own_key_fact() -> None:
    after = latency("24 ms", "310 ms", Status.WARN)
    verdict = Verification("r1", "auth-service", None, Trend.UNKNOWN, "", before=None, after=after)
    assert verdict.key_fact_before is None
    assert verdict.key_fact_after is not None and verdict.key_fact_after.label == "p99"


async def test_a_bug_in_an_actions_own_check_is_an_error_finding_not_an_exception(
        caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        async def check(self, env: ActionEnv, target: Target, params: object) -> Finding:
            raise IndexError("list index out of range")

    target = Target("svc", "default", "app=svc", "svc")
    finding = await measure_itself(Broken(), "debug-logging", cast(ActionEnv, None), target, None)
    assert finding.status is Status.ERROR and finding.check == "debug-logging"
    assert finding.summary == "The check itself failed (IndexError); see the bot's logs."
    assert any(r.exc_info and "debug-logging" in r.getMessage() for r in caplog.records)


def test_large_key_numbers_read_as_written() -> None:
    def rows(value: str, status: Status) -> Finding:
        return Finding("c", "C", status, "s", facts=(Fact("rows scanned", value, "100,000", status),))

    trend, why = compare(rows("2,500,000", Status.WARN), rows("1,250,000", Status.WARN))
    assert trend is Trend.BETTER and why == "status still warn; rows scanned went down from 2,500,000 to 1,250,000"
