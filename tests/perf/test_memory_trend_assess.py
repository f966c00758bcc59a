"""`memory_trend` assess: growth across pod ages and between samples, OOM kills, and what is not a leak."""

from dataclasses import replace
from datetime import timedelta

from bot.checks.growth import fit_line
from bot.checks.memory_trend import MemoryEvidence, MemoryTrendCheck, sample_interval
from bot.model import Status
from bot.sources.records import EventInfo, PodInfo, PodUsage
from tests.perf.records import GIB, MIB, NOW, ctx, pod, usage

CHECK = MemoryTrendCheck()
BASE = 600 * MIB


def _leaking(rate_per_hour: int, hours: list[float], **pod_kwargs: object) -> tuple[tuple[PodInfo, ...], list[int]]:
    pods = tuple(pod(f"bl-{i}", running_for=timedelta(hours=h), **pod_kwargs)  # type: ignore[arg-type]
                 for i, h in enumerate(hours))
    return pods, [int(BASE + rate_per_hour * h) for h in hours]


def _rounds(pods: tuple[PodInfo, ...], memories: list[int], rate_per_hour: int,
            seconds: list[int]) -> tuple[tuple[PodUsage, ...], ...]:
    """Samples `seconds` after NOW, each pod growing at `rate_per_hour` meanwhile."""
    return tuple(
        tuple(usage(p.name, memory=int(m + rate_per_hour * s / 3600), at=NOW + timedelta(seconds=s))
              for p, m in zip(pods, memories, strict=True))
        for s in seconds
    )


def test_older_pods_using_more_and_still_rising_is_a_leak() -> None:
    pods, memories = _leaking(300 * MIB, [4.3, 4.3, 1.8, 0.4])
    finding = CHECK.assess(MemoryEvidence(pods, _rounds(pods, memories, 300 * MIB, [0, 2, 4])), ctx("business-logic"))
    assert finding.status is Status.CRIT  # the oldest pods are at 93 % of the limit
    (cause,) = finding.causes
    assert cause.key == "memory_leak" and cause.title == "Memory leak: about 300 MiB per hour per pod"
    assert cause.confidence == 0.8  # both growth signals, no OOM yet
    lines = cause.evidence
    assert any(line.startswith("older containers use more: +300 MiB/h across 4 pods") for line in lines)
    assert any(line.startswith("still rising now: +300 MiB/h between samples in 4 of 4 pods") for line in lines)
    assert [p.label for p in cause.proposals] == ["delete-pod pod=bl-0", "restart", "memory-bump limit=4Gi minutes=60"]


def test_growth_below_two_percent_of_the_limit_per_hour_is_not_a_leak() -> None:
    # 40 MiB/h against a 2Gi limit is under the 41 MiB/h line: caches warming, not a leak worth waking for.
    pods, memories = _leaking(40 * MIB, [6, 4, 2, 0.5])
    finding = CHECK.assess(MemoryEvidence(pods, _rounds(pods, memories, 40 * MIB, [0, 2])), ctx("business-logic"))
    assert finding.status is Status.OK and finding.causes == ()
    growth = next(f for f in finding.facts if f.label == "growth across pod ages")
    assert growth.value.startswith("+40 MiB/h") and growth.threshold == ">= 41 MiB/h"


def test_flat_pods_of_one_age_and_unchanged_samples_are_healthy() -> None:
    pods = tuple(pod(f"bl-{i}", running_for=timedelta(days=4)) for i in range(3))
    rounds = tuple(tuple(usage(p.name, memory=880 * MIB, at=NOW) for p in pods) for _ in range(3))
    finding = CHECK.assess(MemoryEvidence(pods, rounds), ctx("business-logic"))
    assert finding.status is Status.OK and finding.causes == ()
    facts = {f.label: f.value for f in finding.facts}
    assert facts["growth across pod ages"] == "pods too few or too alike in age to tell"
    assert facts["growth between samples"].startswith("no new scrape across 3 samples")
    assert finding.summary == "No steady memory growth seen."


def test_oom_kill_without_growth_is_pressure_that_would_fold_into_a_leak() -> None:
    pods = (pod("bl-0", restarts=3, last_reason="OOMKilled", last_exit=137), pod("bl-1"))
    rounds = ((usage("bl-0", memory=1 * GIB), usage("bl-1", memory=1 * GIB)),)
    finding = CHECK.assess(MemoryEvidence(pods, rounds), ctx("business-logic"))
    assert finding.status is Status.WARN
    (cause,) = finding.causes
    assert cause.key == "memory_pressure" and cause.supports == ("memory_leak",)
    assert cause.evidence[0] == "bl-0/app: OOMKilled (exit 137), 3 restarts"
    assert next(f for f in finding.facts if f.label == "OOMKilled containers").value == "1"


def test_oom_events_count_and_raise_the_leak_to_critical() -> None:
    pods, memories = _leaking(300 * MIB, [3, 2, 1])
    event = EventInfo("Pod", "bl-1", "Warning", "OOMKilling", "Memory cgroup out of memory: Killed process 41",
                      1, NOW - timedelta(minutes=20), NOW - timedelta(minutes=20))
    evidence = MemoryEvidence(pods, _rounds(pods, memories, 300 * MIB, [0]), (event,))
    finding = CHECK.assess(evidence, ctx("business-logic"))
    assert finding.status is Status.CRIT  # a leak with OOM kills is already an outage in the making
    assert finding.causes[0].key == "memory_leak" and finding.causes[0].confidence == 0.76
    assert "event OOMKilling x1 on bl-1: Memory cgroup out of memory: Killed process 41" in finding.evidence


def test_unreadable_events_are_said_and_the_numbers_still_judged() -> None:
    pods, memories = _leaking(300 * MIB, [3, 2, 1])
    evidence = MemoryEvidence(pods, _rounds(pods, memories, 300 * MIB, [0]), events_error="HTTP 403 Forbidden")
    finding = CHECK.assess(evidence, ctx("business-logic"))
    assert finding.causes[0].key == "memory_leak"
    assert "events unavailable (HTTP 403 Forbidden)" in finding.evidence


def test_no_samples_and_no_kills_is_no_data() -> None:
    finding = CHECK.assess(MemoryEvidence((pod("bl-0"),), ((),)), ctx("business-logic"))
    assert finding.status is Status.NO_DATA


def test_line_fit() -> None:
    fit = fit_line([(0, 1.0), (1, 3.0), (2, 5.0)])
    assert fit is not None and fit.slope == 2.0 and fit.intercept == 1.0 and fit.r_squared == 1.0
    assert fit_line([(1, 1.0), (1, 2.0)]) is None  # one x: no slope
    assert fit_line([(0, 1.0)]) is None
    scattered = fit_line([(0, 5.0), (1, 1.0), (2, 5.0), (3, 1.0)])
    assert scattered is not None and scattered.r_squared < 0.3


def test_sampling_fits_in_half_the_check_timeout() -> None:
    context = ctx("business-logic")
    assert sample_interval(context) == 1.0  # defaults: 3 samples 1 s apart inside an 8 s timeout
    short = replace(context, diagnosis=context.diagnosis.model_copy(update={"check_timeout_s": 1.5}))
    assert sample_interval(short) == 0.375
    single = replace(context, diagnosis=context.diagnosis.model_copy(update={"memory_samples": 1}))
    assert sample_interval(single) == 0.0
