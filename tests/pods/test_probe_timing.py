"""probe_timing.assess: observed start-up (runtime timestamps) against the probes' windows."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.checks.probe_timing import Instance, ProbeTimingCheck, ProbeTimingEvidence
from bot.model import Finding, Status
from bot.sources.records import LogLine, PodInfo, ProbeSpec

from .records import CTX, LIVENESS, READINESS, ago, container, pod, spec

CHECK = ProbeTimingCheck()


def _lines(start: datetime, *timed: tuple[float, str]) -> tuple[LogLine, ...]:
    return tuple(LogLine("p", "app", text, ts=start + timedelta(seconds=s)) for s, text in timed)


def _pods(probes: tuple[ProbeSpec, ...] = (LIVENESS, READINESS)) -> tuple[PodInfo, ...]:
    return (pod("gw-0", container(), container_spec=spec(probes=probes)),)


def _current(ready_after: float | None, *, running_for: float = 120) -> Instance:
    start = ago(seconds=running_for)
    timed = [(0.2, "Starting api-gateway 3.2.0"), (1.0, "Loading routes")]
    if ready_after is not None:
        timed.append((ready_after, "Listening on 0.0.0.0:8080"))
    return Instance("gw-0", "app", False, start, None, None, _lines(start, *timed))


def _killed(ran: float, reason: str = "Error") -> Instance:
    start = ago(seconds=ran + 30)
    lines = _lines(start, (0.1, "Starting"), (ran - 10, "Loaded 9,000/12,480 routes"), (ran, "Received SIGTERM"))
    return Instance("gw-1", "app", True, start, start + timedelta(seconds=ran), reason, lines)


def _assess(*instances: Instance, probes: tuple[ProbeSpec, ...] = (LIVENESS, READINESS)) -> Finding:
    return CHECK.assess(ProbeTimingEvidence(_pods(probes), instances, ()), CTX)


def test_killed_by_the_liveness_probe_before_ready_is_slow_startup() -> None:
    finding = _assess(_killed(40), _current(None, running_for=25))
    assert finding.status is Status.CRIT
    cause = finding.causes[0]
    assert cause.key == "slow_startup" and cause.confidence == 0.8
    assert "40 s" in cause.title
    assert any("initialDelaySeconds to 60s" in line for line in cause.evidence)
    assert any(f.label == "slowest start-up" and f.value == "≥ 40 s" for f in finding.facts)


def test_measured_start_up_beyond_the_window() -> None:
    finding = _assess(_current(45))
    assert finding.status is Status.CRIT and finding.causes[0].confidence == 0.65
    assert "ready 45 s after start" in finding.evidence[0]


def test_past_initial_delay_but_within_the_window_warns() -> None:
    finding = _assess(_current(22))
    assert finding.status is Status.WARN
    assert finding.causes[0].key == "slow_startup" and finding.causes[0].confidence == 0.35
    assert "initialDelaySeconds 10 s" in finding.summary


def test_fast_start_up_is_ok() -> None:
    finding = _assess(_current(3))
    assert finding.status is Status.OK and finding.causes == ()
    assert finding.summary == "Start-up takes 3 s, within initialDelaySeconds 10 s."


def test_boundary_at_the_initial_delay() -> None:
    assert _assess(_current(10)).status is Status.OK
    assert _assess(_current(10.5)).status is Status.WARN


def test_an_oom_killed_instance_is_not_a_probe_kill() -> None:
    finding = _assess(_killed(40, reason="OOMKilled"))
    assert all(c.confidence < 0.8 for c in finding.causes)


def test_a_startup_probe_widens_the_window() -> None:
    startup = ProbeSpec("startup", "GET /health :8080", 0, 10, 5, 12)  # 120 s to start
    finding = _assess(_current(45), probes=(LIVENESS, READINESS, startup))
    assert finding.status is Status.WARN
    assert any(f.label == "kill window" and f.value == "120 s" for f in finding.facts)


def test_a_log_tail_that_misses_the_start_measures_nothing() -> None:
    start = ago(minutes=20)
    late = Instance("gw-0", "app", False, start, None, None, _lines(start, (600, "request_id=req-1 GET / 200")))
    finding = _assess(late)
    assert finding.status is Status.NO_DATA


def test_no_probes_is_no_data() -> None:
    assert _assess(_current(3), probes=()).status is Status.NO_DATA


def test_still_starting_counts_from_the_start_until_now_and_only_warns() -> None:
    finding = _assess(_current(None, running_for=90))
    assert finding.status is Status.WARN
    assert "still starting after 90 s" in finding.evidence[0]


def test_a_ready_container_that_never_says_so_is_not_measured() -> None:
    start = ago(minutes=5)
    quiet = Instance("gw-0", "app", False, start, None, None, _lines(start, (0.5, "boot")), ready=True)
    assert _assess(quiet).status is Status.NO_DATA


def test_a_crash_before_ready_well_inside_the_window_does_not_blame_the_probes() -> None:
    finding = _assess(_killed(4))
    assert finding.status is Status.OK and finding.causes == ()
    assert finding.summary.startswith("No probe cut a start-up short: runs that never got ready lasted at most 4 s")


def test_readiness_only_never_kills() -> None:
    finding = _assess(_killed(4), probes=(READINESS,))
    assert finding.status is Status.OK and "no liveness probe restarts them" in finding.summary
    assert not any(f.label == "kill window" for f in finding.facts)


def test_nothing_started_lately_is_ok() -> None:
    finding = _assess()
    assert finding.status is Status.OK
    assert finding.summary.startswith("No container started in the last 30 min or restarted in the last hour")


def test_unreadable_logs_are_no_data_not_ok() -> None:
    finding = CHECK.assess(ProbeTimingEvidence(_pods(), (), ("gw-0/app: HTTP 500",)), CTX)
    assert finding.status is Status.NO_DATA and "1 log(s) unreadable" in finding.summary
