"""The HorizontalPodAutoscaler: replicas against min/max, CPU utilisation against its target, its conditions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.checks.base import CheckContext, SourceSet
from bot.model import Cause, Fact, Finding, Status
from bot.sources.records import DeploymentInfo, HpaInfo


@dataclass(frozen=True)
class HpaEvidence:
    deployment: DeploymentInfo
    hpa: HpaInfo | None


def at_max(hpa: HpaInfo) -> bool:
    limited = any(c[0] == "ScalingLimited" and c[1] == "True" and c[2] == "TooManyReplicas" for c in hpa.conditions)
    return limited or hpa.current_replicas >= hpa.max_replicas


class HpaHeadroomCheck:
    """HPA headroom: replicas vs min/max, CPU vs target, ScalingLimited; at max = it cannot help any more."""

    name = "hpa_headroom"
    title = "Autoscaler headroom"
    guide_section = "CPU Saturation"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> HpaEvidence:
        deployment, hpa = await asyncio.gather(sources.kube.deployment(ctx.target), sources.kube.hpa(ctx.target))
        return HpaEvidence(deployment, hpa)

    def assess(self, evidence: HpaEvidence, ctx: CheckContext) -> Finding:
        hpa, dep = evidence.hpa, evidence.deployment
        if hpa is None:
            return Finding(self.name, self.title, Status.OK,
                           f"No HorizontalPodAutoscaler targets deployment {dep.name}: it stays at {dep.replicas} "
                           "replicas unless someone scales it.",
                           facts=(Fact("HPA", "none"), Fact("replicas", f"{dep.ready_replicas}/{dep.replicas} ready")),
                           guide_section=self.guide_section)
        util, target = hpa.current_cpu_utilization, hpa.target_cpu_utilization
        busy = util is not None and target is not None and util >= target
        full = at_max(hpa)
        inactive = [c for c in hpa.conditions if c[0] in ("AbleToScale", "ScalingActive") and c[1] != "True"]
        facts = [
            Fact("replicas", f"{hpa.current_replicas} (min {hpa.min_replicas}, max {hpa.max_replicas})", None,
                 Status.CRIT if full and busy else Status.WARN if full else Status.OK),
            Fact("desired replicas", str(hpa.desired_replicas)),
            Fact("CPU of requests", f"{util} %" if util is not None else "unknown",
                 f"{target} %" if target is not None else None, Status.WARN if busy else Status.OK),
        ]
        lines = [f"{kind}={state} {reason}: {message}".strip() for kind, state, reason, message in hpa.conditions]
        causes: list[Cause] = []
        if full:
            status = Status.CRIT if busy else Status.WARN
            causes.append(_at_max_cause(hpa, dep.name, busy))
            summary = (f"The HPA is at its maximum: {hpa.current_replicas}/{hpa.max_replicas} replicas"
                       f"{f', CPU at {util} % of requests against a {target} % target' if util is not None else ''}."
                       f"{' It cannot add pods.' if busy else ' No headroom left if load rises.'}")
        elif inactive:
            status = Status.WARN
            causes.append(Cause("hpa_inactive", "The HPA cannot scale (see its conditions)", 0.4,
                                tuple(f"{c[0]}={c[1]} {c[2]}: {c[3]}" for c in inactive), "CPU Saturation"))
            summary = f"The HPA is not scaling: {', '.join(f'{c[0]}={c[1]} ({c[2]})' for c in inactive)}."
        elif busy:
            status = Status.WARN
            summary = (f"CPU at {util} % of requests is above the HPA's {target} % target; it wants "
                       f"{hpa.desired_replicas} replicas (now {hpa.current_replicas}, max {hpa.max_replicas}).")
        else:
            status = Status.OK
            summary = (f"HPA has headroom: {hpa.current_replicas} replicas of at most {hpa.max_replicas}"
                       f"{f', CPU {util} % of requests vs a {target} % target' if util is not None else ''}.")
        return Finding(self.name, self.title, status, summary, facts=tuple(facts), evidence=tuple(lines),
                       causes=tuple(causes), guide_section=self.guide_section)


def _at_max_cause(hpa: HpaInfo, deployment: str, busy: bool) -> Cause:
    evidence = [f"{hpa.current_replicas}/{hpa.max_replicas} replicas, desired {hpa.desired_replicas}"]
    if hpa.current_cpu_utilization is not None and hpa.target_cpu_utilization is not None:
        evidence.append(f"CPU {hpa.current_cpu_utilization} % of requests vs target {hpa.target_cpu_utilization} %")
    evidence.append(
        f"raise the ceiling: kubectl patch hpa {hpa.name} -p '{{\"spec\":{{\"maxReplicas\":N}}}}' "
        f"(a manual scale of {deployment} above {hpa.max_replicas} would be undone by the HPA)"
    )
    return Cause(
        key="hpa_at_max",
        title=f"Autoscaler at its maximum ({hpa.current_replicas}/{hpa.max_replicas}): raise maxReplicas",
        confidence=0.6 if busy else 0.3,
        evidence=tuple(evidence),
        guide_section="CPU Saturation",
        # At max, the HPA is why saturation persists: it corroborates CPU saturation when that is seen.
        supports=("cpu_saturation",),
    )
