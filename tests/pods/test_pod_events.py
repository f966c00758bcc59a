"""pod_events.assess: warnings grouped and counted, newest first, mapped to the guide's common issues."""

from __future__ import annotations

from datetime import timedelta

from bot.checks.pod_events import MESSAGE_SHOWN, PodEventsCheck
from bot.model import Status
from bot.sources.records import EventInfo

from .records import CTX, NOW

CHECK = PodEventsCheck()


def event(reason: str, message: str, *, name: str = "data-processor-5d8f7c9b6-x2k4p", count: int = 1,
          last: timedelta = timedelta(minutes=1), type_: str = "Warning", kind: str = "Pod") -> EventInfo:
    return EventInfo(kind, name, type_, reason, message, count, NOW - last - timedelta(minutes=5), NOW - last)


def test_insufficient_memory_is_its_own_cause() -> None:
    finding = CHECK.assess((
        event("FailedScheduling", "0/6 nodes are available: 6 Insufficient memory. preemption: 0/6 nodes are"
              " available: 6 No preemption victims found for incoming pod.", count=14),
        event("Scheduled", "Successfully assigned default/x to node-1", type_="Normal"),
    ), CTX)
    assert finding.status is Status.CRIT
    assert [c.key for c in finding.causes] == ["insufficient_resources"]
    assert "×14" in finding.causes[0].evidence[0] and "Insufficient memory" in finding.causes[0].evidence[0]


def test_probe_failures_fold_into_what_explains_them() -> None:
    finding = CHECK.assess((
        event("Unhealthy", 'Liveness probe failed: Get "http://10.244.1.7:8080/health": connect: connection refused',
              count=9),
        event("Unhealthy", 'Liveness probe failed: Get "http://10.244.1.8:8080/health": connect: connection refused',
              name="data-processor-5d8f7c9b6-q9w8e", count=4, last=timedelta(minutes=3)),
    ), CTX)
    assert len(finding.evidence) == 1, "the same failure on two pods is one group"
    assert finding.evidence[0].startswith("Unhealthy ×13, last 60 s ago, pod/data-processor-5d8f7c9b6-x2k4p (+1)")
    cause = finding.causes[0]
    assert cause.key == "probe_failing" and cause.supports[0] == "slow_startup"


def test_groups_are_newest_first_with_counts_and_ages() -> None:
    finding = CHECK.assess((
        event("BackOff", "Back-off restarting failed container", count=30, last=timedelta(seconds=20)),
        event("FailedMount", 'MountVolume.SetUp failed for volume "certs": secret "tls" not found',
              last=timedelta(minutes=8)),
    ), CTX)
    assert finding.evidence[0].startswith("BackOff ×30, last 20 s ago")
    assert finding.evidence[1].startswith("FailedMount ×1, last 8 min ago")
    assert {c.key for c in finding.causes} == {"crash_loop", "volume_mount"}


def test_image_pull_warnings() -> None:
    finding = CHECK.assess((event("Failed", 'Failed to pull image "x:2.0.0": not found'),
                            event("BackOff", 'Back-off pulling image "x:2.0.0"', count=40)), CTX)
    assert [c.key for c in finding.causes] == ["image_pull"]


def test_old_warnings_are_reported_but_not_blamed() -> None:
    finding = CHECK.assess((event("BackOff", "Back-off restarting failed container", count=3,
                                  last=timedelta(minutes=45)),), CTX)
    assert finding.status is Status.OK and finding.causes == ()
    assert "none in the last 15 min" in finding.summary


def test_unknown_current_warning_warns_without_a_cause() -> None:
    finding = CHECK.assess((event("FailedCreatePodSandBox", "failed to setup network for sandbox"),), CTX)
    assert finding.status is Status.WARN and finding.causes == ()


def test_no_warnings_is_ok() -> None:
    finding = CHECK.assess((event("Pulled", "Container image already present", type_="Normal"),), CTX)
    assert finding.status is Status.OK and finding.summary.startswith("No warning events")


def test_long_messages_are_bounded() -> None:
    finding = CHECK.assess((event("Failed", "x" * 2000),), CTX)
    assert len(finding.evidence[0]) < MESSAGE_SHOWN + 80 and finding.evidence[0].endswith("…")
