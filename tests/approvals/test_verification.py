"""The verification verdict: better / unchanged / worse from the symptom check before and after."""

from __future__ import annotations

import pytest

from bot.model import Fact, Finding, Status
from bot.verification import Trend, compare, key_number, wait_settled


def rate(value: str, status: Status, threshold: str = "5.0 %") -> Finding:
    return Finding("error_rate", "Error rate", status, f"Error rate {value}",
                   facts=(Fact("error rate", value, threshold, status),))


def ready(value: str, status: Status) -> Finding:
    return Finding("pods_ready", "Ready pods", status, f"{value} ready", facts=(Fact("ready", value, "3/3", status),))


def test_a_lower_status_is_better_and_a_higher_one_worse() -> None:
    assert compare(rate("12.5 %", Status.CRIT), rate("0.4 %", Status.OK))[0] is Trend.BETTER
    assert compare(rate("0.4 %", Status.OK), rate("12.5 %", Status.CRIT))[0] is Trend.WORSE
    trend, why = compare(rate("12.5 %", Status.CRIT), rate("3.0 %", Status.WARN))
    assert trend is Trend.BETTER and "crit → warn" in why


def test_at_the_same_bad_status_the_key_number_moving_towards_its_threshold_is_better() -> None:
    assert compare(rate("20.0 %", Status.CRIT), rate("12.0 %", Status.CRIT))[0] is Trend.BETTER
    assert compare(rate("12.0 %", Status.CRIT), rate("20.0 %", Status.CRIT))[0] is Trend.WORSE
    # Below its threshold, the number has to go up to get better (ready pods).
    assert compare(ready("1/3", Status.CRIT), ready("2/3", Status.CRIT))[0] is Trend.BETTER


def test_noise_and_healthy_before_and_after_are_unchanged() -> None:
    trend, why = compare(rate("12.0 %", Status.CRIT), rate("12.5 %", Status.CRIT))
    assert trend is Trend.UNCHANGED and "less than 10 %" in why
    assert compare(ready("0/0", Status.OK), ready("3/3", Status.OK)) == (
        Trend.UNCHANGED, "healthy before and after; ready went up from 0 to 3")
    assert compare(ready("3/3", Status.OK), ready("3/3", Status.OK)) == (Trend.UNCHANGED, "healthy before and after")


def test_nothing_to_compare_is_unknown_not_a_guess() -> None:
    failed = Finding("error_rate", "Error rate", Status.ERROR, "metrics API unreachable")
    assert compare(rate("12.5 %", Status.CRIT), failed)[0] is Trend.UNKNOWN
    assert compare(None, rate("0.4 %", Status.OK))[0] is Trend.UNKNOWN
    assert compare(failed, rate("0.4 %", Status.OK))[0] is Trend.UNKNOWN


def test_key_number_reads_the_first_number_of_the_first_fact() -> None:
    assert key_number(rate("1,204.5 ms", Status.CRIT)) == 1204.5
    assert key_number(Finding("x", "X", Status.OK, "no facts")) is None


async def test_wait_settled_polls_until_true_and_gives_up_at_the_deadline() -> None:
    answers = iter([False, False, True])
    calls: list[int] = []

    async def settles() -> bool:
        calls.append(1)
        return next(answers)

    assert await wait_settled(settles, timeout_s=5, poll_s=0) is True
    assert len(calls) == 3

    async def never() -> bool:
        return False

    assert await wait_settled(never, timeout_s=0.05, poll_s=0.01) is False


@pytest.mark.parametrize("value", ["n/a", ""])
def test_a_fact_without_a_number_compares_by_status_only(value: str) -> None:
    before = Finding("c", "C", Status.CRIT, "s", facts=(Fact("state", value or "-", None, Status.CRIT),))
    after = Finding("c", "C", Status.CRIT, "s", facts=(Fact("state", value or "-", None, Status.CRIT),))
    assert compare(before, after) == (Trend.UNCHANGED, "status still crit")
