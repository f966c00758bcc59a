"""pod_status.assess: ready vs desired, and each waiting/terminated reason mapped to its explanation."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.checks.pod_status import PodStatusCheck, PodStatusEvidence
from bot.model import Finding, Status
from bot.sources.kube_undo import REPLICAS_BEFORE
from bot.sources.records import PodInfo

from .records import CTX, GI, NOW, ago, container, deployment, history, pod, spec

CHECK = PodStatusCheck()


def _assess(desired: int, pods: list[PodInfo], live_ago: timedelta = timedelta(minutes=11)) -> Finding:
    ready = sum(1 for p in pods if p.ready)
    return CHECK.assess(PodStatusEvidence(deployment(desired, ready), tuple(pods), history(live_ago)), CTX)


def test_all_ready_is_ok_with_no_causes() -> None:
    finding = _assess(3, [pod(f"dp-{i}") for i in range(3)])
    assert finding.status is Status.OK and finding.causes == ()
    assert finding.summary == "3 of 3 pods ready."


def test_ready_share_sets_the_status() -> None:
    down = container(ready=False, waiting_reason="CrashLoopBackOff", restart_count=4, started_at=None)
    assert _assess(4, [pod("a"), pod("b"), pod("c"), pod("d", down)]).status is Status.WARN
    assert _assess(4, [pod("a"), pod("b"), pod("c", down), pod("d", down)]).status is Status.WARN
    assert _assess(4, [pod("a"), pod("b", down), pod("c", down), pod("d", down)]).status is Status.CRIT
    assert _assess(2, [pod("a", down), pod("b", down)]).status is Status.CRIT


def test_image_pull_after_a_recent_rollout_proposes_rolling_back_to_the_revision_before() -> None:
    pulling = container(ready=False, started_at=None, waiting_reason="ImagePullBackOff",
                        waiting_message=f'Back-off pulling image "{spec().image}"')
    finding = _assess(3, [pod(f"dp-{i}", pulling, phase="Pending") for i in range(3)])
    assert finding.status is Status.CRIT
    assert finding.summary == "0 of 3 pods ready. 3 pod(s) cannot pull the image."
    cause = finding.causes[0]
    assert cause.key == "image_pull" and cause.confidence == 0.85
    assert [(p.action, dict(p.params)) for p in cause.proposals] == [("rollback", {"to_revision": "4"})]
    assert any("revision 5 introduced data-processor:2.0.0" in line for line in cause.evidence)


def test_image_pull_of_an_old_revision_proposes_nothing() -> None:
    pulling = container(ready=False, started_at=None, waiting_reason="ErrImagePull")
    finding = _assess(3, [pod("dp-0", pulling), pod("dp-1"), pod("dp-2")], live_ago=timedelta(days=3))
    cause = next(c for c in finding.causes if c.key == "image_pull")
    assert cause.proposals == () and cause.confidence < 0.85


def test_recent_oom_kill_proposes_doubling_the_memory_limit() -> None:
    oom = container(restart_count=3, last_terminated_reason="OOMKilled", last_exit_code=137,
                    last_finished_at=ago(minutes=4))
    finding = _assess(3, [pod("dp-0", oom, container_spec=spec(memory_limit=2 * GI)), pod("dp-1"), pod("dp-2")])
    assert finding.status is Status.WARN
    cause = next(c for c in finding.causes if c.key == "oom_killed")
    proposals = [(p.action, dict(p.params)) for p in cause.proposals]
    assert proposals == [("memory-bump", {"limit": "4Gi", "minutes": "60"})]
    assert any("exit 137" in line for line in cause.evidence)


def test_an_oom_kill_days_ago_is_history() -> None:
    old = container(restart_count=1, last_terminated_reason="OOMKilled", last_exit_code=137,
                    last_finished_at=ago(days=2))
    finding = _assess(3, [pod("dp-0", old), pod("dp-1"), pod("dp-2")])
    assert finding.status is Status.OK and finding.causes == ()
    assert any("1 restart," in line and "OOMKilled" in line for line in finding.evidence)


def test_crash_loop_folds_into_a_specific_explanation() -> None:
    looping = container(ready=False, started_at=None, waiting_reason="CrashLoopBackOff", restart_count=7,
                        last_terminated_reason="Error", last_exit_code=1, last_finished_at=ago(minutes=1))
    finding = _assess(1, [pod("dp-0", looping)])
    cause = finding.causes[0]
    assert cause.key == "crash_loop"
    assert {"missing_dependency", "oom_killed", "unhandled_exception", "slow_startup"} <= set(cause.supports)


def test_missing_secret_is_a_missing_dependency() -> None:
    blocked = container(ready=False, started_at=None, waiting_reason="CreateContainerConfigError",
                        waiting_message='secret "business-logic-db" not found')
    finding = _assess(1, [pod("dp-0", blocked, phase="Pending")])
    assert finding.causes[0].key == "missing_dependency"
    assert 'secret "business-logic-db" not found' in finding.causes[0].evidence[0]


def test_container_creating_is_only_suspicious_when_it_lasts() -> None:
    creating = container(ready=False, started_at=None, waiting_reason="ContainerCreating")
    young = _assess(1, [pod("dp-0", creating, phase="Pending", created=NOW - timedelta(seconds=40))])
    assert {c.key for c in young.causes} == {"no_ready_pods"}
    stuck = _assess(1, [pod("dp-0", creating, phase="Pending", created=ago(minutes=10))])
    assert [c.key for c in stuck.causes] == ["pending_pods"]
    assert "insufficient_resources" in stuck.causes[0].supports


def test_unscheduled_pods_are_pending() -> None:
    unscheduled = container(ready=False, started_at=None)
    finding = _assess(2, [pod("dp-0"), pod("dp-1", unscheduled, phase="Pending")])
    assert finding.status is Status.WARN and [c.key for c in finding.causes] == ["pending_pods"]


def test_scaled_to_zero_says_so() -> None:
    finding = _assess(0, [])
    assert "scaled to 0" in finding.summary
    # Nothing can serve: not healthy, whether or not it was meant (WARN, not CRIT).
    assert finding.status is Status.WARN
    cause = finding.causes[0]
    assert cause.key == "scaled_to_zero" and cause.proposals == ()
    assert any("kubectl scale deployment/data-processor --replicas=N" in line for line in cause.evidence)


def test_scaled_to_zero_by_scale_to_zero_proposes_restoring_the_recorded_count() -> None:
    scaled = replace(deployment(0, 0), opsbot_records={REPLICAS_BEFORE: "3"})
    finding = CHECK.assess(PodStatusEvidence(scaled, (), history(timedelta(days=2))), CTX)
    assert finding.status is Status.WARN
    cause = finding.causes[0]
    assert cause.key == "scaled_to_zero" and [p.action for p in cause.proposals] == ["restore-replicas"]
    assert "scale-to-zero recorded 3 replicas to restore" in cause.evidence[0]


def test_many_pods_are_listed_bounded() -> None:
    finding = _assess(12, [pod(f"dp-{i:02d}") for i in range(12)])
    assert len(finding.evidence) == 9 and finding.evidence[-1] == "… and 4 more pods"
