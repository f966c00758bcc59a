"""Pods ready vs desired, and why the others are not: the guide's `kubectl get pods` + `describe pod`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.checks.base import CheckContext, SourceSet
from bot.checks.formatting import age, short_image
from bot.checks.pod_facts import (
    CONFIG_REASONS,
    CRASH_EXPLANATIONS,
    CREATING_REASONS,
    IMAGE_PULL_REASONS,
    PROBE_EXPLANATIONS,
    describe_container,
    doubled_memory,
    memory_text,
)
from bot.model import Cause, Fact, Finding, Proposal, Status
from bot.sources.kube_undo import REPLICAS_BEFORE
from bot.sources.records import ContainerState, DeploymentInfo, PodInfo, RevisionInfo

SECTION = "Service Unavailable (503)"
CRASH_SECTION = "Service Crashes"
PODS_SHOWN = 8
# A container still being created after this long is stuck (a volume or secret it waits for), not slow.
CREATING_TOO_LONG = timedelta(minutes=3)
# A restart older than this is history, not the incident being diagnosed.
RECENT_RESTART = timedelta(hours=1)


@dataclass(frozen=True)
class PodStatusEvidence:
    deployment: DeploymentInfo
    pods: tuple[PodInfo, ...]
    history: tuple[RevisionInfo, ...]


@dataclass(frozen=True)
class _Trouble:
    """Pods grouped by what is wrong with them."""

    image_pull: list[tuple[PodInfo, ContainerState]]
    oom: list[tuple[PodInfo, ContainerState]]
    crash_loop: list[tuple[PodInfo, ContainerState]]
    config: list[tuple[PodInfo, ContainerState]]
    pending: list[PodInfo]


class PodStatusCheck:
    """Pods ready vs desired; waiting reasons, last terminations, exit codes and restarts per pod."""

    name = "pod_status"
    title = "Pod status"
    guide_section = SECTION

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> PodStatusEvidence:
        deployment, pods = await asyncio.gather(sources.kube.deployment(ctx.target), sources.kube.pods(ctx.target))
        history = await sources.kube.rollout_history(deployment)
        return PodStatusEvidence(deployment, tuple(pods), tuple(history))

    def assess(self, evidence: PodStatusEvidence, ctx: CheckContext) -> Finding:
        desired = evidence.deployment.replicas
        pods = sorted(evidence.pods, key=lambda p: p.name)
        ready = sum(1 for p in pods if p.ready)
        trouble = _sort_trouble(pods, ctx.now)
        status = _status(desired, ready, trouble)
        facts = (
            Fact("ready", f"{ready}/{desired}", f"{desired}/{desired}", status),
            Fact("pods", str(len(pods))),
            Fact("restarts", str(sum(p.restarts for p in pods))),
        )
        lines = [describe_container(p, c, ctx.now) for p in pods for c in p.containers][:PODS_SHOWN]
        if len(pods) > PODS_SHOWN:
            lines.append(f"… and {len(pods) - PODS_SHOWN} more pods")
        causes = _causes(evidence, trouble, ready, ctx)
        return Finding(self.name, self.title, status, _summary(desired, ready, trouble), facts=facts,
                       evidence=tuple(lines), causes=causes, guide_section=self.guide_section)


def _sort_trouble(pods: list[PodInfo], now: datetime) -> _Trouble:
    trouble = _Trouble([], [], [], [], [])
    for pod in pods:
        if pod.phase == "Pending" and not any(c.waiting_reason for c in pod.containers):
            trouble.pending.append(pod)  # not scheduled: no container exists yet
        for state in pod.containers:
            reason = state.waiting_reason or ""
            if reason in IMAGE_PULL_REASONS:
                trouble.image_pull.append((pod, state))
            elif reason in CONFIG_REASONS:
                trouble.config.append((pod, state))
            elif reason in CREATING_REASONS and pod.created and now - pod.created > CREATING_TOO_LONG:
                trouble.pending.append(pod)
            if state.last_terminated_reason == "OOMKilled" and _recent(state.last_finished_at, now):
                trouble.oom.append((pod, state))
            elif reason == "CrashLoopBackOff":
                trouble.crash_loop.append((pod, state))
    return trouble


def _recent(when: datetime | None, now: datetime) -> bool:
    return when is not None and now - when <= RECENT_RESTART


def _status(desired: int, ready: int, trouble: _Trouble) -> Status:
    if desired == 0:
        # Nothing can serve: for a 503 that is the answer. WARN, not CRIT: it may be on purpose (scale-to-zero).
        return Status.WARN
    if ready == 0:
        return Status.CRIT
    if ready < desired:
        return Status.CRIT if ready * 2 < desired else Status.WARN
    if trouble.oom or trouble.crash_loop or trouble.image_pull or trouble.config or trouble.pending:
        return Status.WARN
    return Status.OK


def _summary(desired: int, ready: int, trouble: _Trouble) -> str:
    if desired == 0:
        return "The deployment is scaled to 0 replicas: nothing can serve."
    head = f"{ready} of {desired} pods ready."
    named = [
        (len(trouble.image_pull), "cannot pull the image"),
        (len(trouble.oom), "OOMKilled within the hour"),
        (len(trouble.crash_loop), "in CrashLoopBackOff"),
        (len(trouble.config), "cannot create the container (config)"),
        (len(trouble.pending), "stuck pending"),
    ]
    said = [f"{count} pod(s) {words}" for count, words in named if count]
    return f"{head} {'; '.join(said)}." if said else head


def _causes(evidence: PodStatusEvidence, trouble: _Trouble, ready: int, ctx: CheckContext) -> tuple[Cause, ...]:
    causes: list[Cause] = []
    if trouble.image_pull:
        causes.append(_image_pull(evidence, trouble.image_pull, ctx))
    if trouble.oom:
        causes.append(_oom(trouble.oom, ctx))
    if trouble.crash_loop:
        pods = sorted({p.name for p, _ in trouble.crash_loop})
        causes.append(Cause(
            "crash_loop", f"{len(pods)} pod(s) crash-looping", 0.45,
            tuple(describe_container(p, c, ctx.now) for p, c in trouble.crash_loop[:3]),
            CRASH_SECTION, supports=CRASH_EXPLANATIONS,
        ))
    if trouble.config:
        pod, state = trouble.config[0]
        causes.append(Cause(
            "missing_dependency", "Container cannot be created: a referenced Secret/ConfigMap is missing", 0.7,
            (f"{pod.name}: {state.waiting_reason}: {state.waiting_message or ''}".strip(),),
            CRASH_SECTION,
        ))
    if trouble.pending:
        names = sorted({p.name for p in trouble.pending})
        causes.append(Cause(
            "pending_pods", f"{len(names)} pod(s) stuck pending (not scheduled or not created)", 0.5,
            tuple(f"{n}: pending" for n in names[:3]), SECTION, supports=("insufficient_resources", "volume_mount"),
        ))
    desired = evidence.deployment.replicas
    if desired == 0:
        causes.append(_scaled_to_zero(evidence.deployment))
    if desired > 0 and ready == 0 and not causes:
        causes.append(Cause("no_ready_pods", f"No ready pods (0/{desired}): every instance is down or unhealthy",
                            0.6, (f"{len(evidence.pods)} pod(s) exist, none passes its readiness probe",),
                            SECTION, supports=("probe_failing", *PROBE_EXPLANATIONS)))
    return tuple(causes)


def _scaled_to_zero(deployment: DeploymentInfo) -> Cause:
    """spec.replicas is 0: no pod is wanted, so none serves. opsbot's scale-to-zero recorded the count to bring
    back (restore-replicas); without that record it was scaled down by hand and is scaled back the same way."""
    recorded = deployment.opsbot_records.get(REPLICAS_BEFORE, "")
    lines: tuple[str, ...]
    proposals: tuple[Proposal, ...] = ()
    if recorded.isdigit() and int(recorded) > 0:
        lines = (f"spec.replicas is 0; scale-to-zero recorded {recorded} replicas to restore",)
        proposals = (Proposal("restore-replicas", {}, f"bring back the {recorded} replicas scale-to-zero recorded"),)
    else:
        lines = ("spec.replicas is 0 and no count was recorded by scale-to-zero: it was scaled down by hand",
                 f"scale it back: kubectl scale deployment/{deployment.name} --replicas=N")
    return Cause("scaled_to_zero", "The deployment is scaled to 0 replicas: nothing serves", 0.9, lines, SECTION,
                 proposals)


def _image_pull(evidence: PodStatusEvidence, bad: list[tuple[PodInfo, ContainerState]],
                ctx: CheckContext) -> Cause:
    pods = sorted({p.name for p, _ in bad})
    images = sorted({i for p, _ in bad for i in p.images})
    lines = [f"{p.name}: {c.waiting_reason}: {c.waiting_message or 'no message'}" for p, c in bad[:3]]
    share = len(pods) / max(len(evidence.pods), 1)
    proposals: tuple[Proposal, ...] = ()
    introduced = _revision_that_introduced(evidence, images, ctx)
    if introduced is not None:
        current, previous = introduced
        lines.append(f"revision {current.revision} introduced {', '.join(short_image(i) for i in images)}"
                     f" {age(current.created, ctx.now)}; revision {previous.revision} ran"
                     f" {', '.join(short_image(i) for i in previous.images)}")
        proposals = (Proposal("rollback", {"to_revision": str(previous.revision)},
                              f"roll back to revision {previous.revision}, whose image exists"),)
    return Cause(
        "image_pull",
        f"Image cannot be pulled: {', '.join(short_image(i) for i in images)} ({len(pods)} pod(s))",
        round(0.6 + 0.25 * share, 2), tuple(lines), SECTION, proposals,
    )


def _revision_that_introduced(evidence: PodStatusEvidence, images: list[str],
                              ctx: CheckContext) -> tuple[RevisionInfo, RevisionInfo] | None:
    """The live revision and the one before it, if the live one is recent and brought the failing image."""
    history = evidence.history
    current = next((r for r in history if r.revision == evidence.deployment.revision), None)
    if current is None or current.created is None:
        return None
    if (ctx.now - current.created).total_seconds() > ctx.thresholds.rollout_suspect_window_s:
        return None
    if not set(images) <= set(current.images):
        return None
    previous = next((r for r in reversed(history) if r.revision < current.revision
                     and not set(images) & set(r.images)), None)
    return (current, previous) if previous is not None else None


def _oom(bad: list[tuple[PodInfo, ContainerState]], ctx: CheckContext) -> Cause:
    lines = [describe_container(p, c, ctx.now) for p, c in bad[:3]]
    proposals: tuple[Proposal, ...] = ()
    pod, state = bad[0]
    spec = pod.spec(state.name)
    if spec is not None and spec.memory_limit:
        bumped = doubled_memory(spec.memory_limit)
        lines.append(f"memory limit {memory_text(spec.memory_limit)}")
        proposals = (Proposal("memory-bump", {"limit": bumped, "minutes": "60"},
                              f"raise the memory limit {memory_text(spec.memory_limit)} -> {bumped} for now"),)
    return Cause(
        "oom_killed", f"Containers OOMKilled (exit 137) on {len({p.name for p, _ in bad})} pod(s)", 0.75,
        tuple(lines), CRASH_SECTION, proposals,
        # An OOM kill is the end of a leak when memory_trend finds one: evidence for it, not a rival.
        supports=("memory_leak",),
    )
