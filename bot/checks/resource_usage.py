"""Per-pod CPU and memory (metrics.k8s.io, `kubectl top pods`) against the containers' limits and requests."""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass

from bot.checks.base import CheckContext, SourceSet
from bot.checks.formatting import percent
from bot.checks.scaling import scale_out_target
from bot.checks.units import cores, memory, memory_limit
from bot.model import Cause, Fact, Finding, Proposal, Status
from bot.sources.errors import SourceError
from bot.sources.records import HpaInfo, PodInfo, PodUsage

# A container using this much of its CPU limit is held at its CFS quota: throttled, by definition of the quota.
THROTTLED = 0.95
# Below the memory threshold by this much is a warning: the headroom is going.
MEMORY_WARN_MARGIN = 0.10
MAX_BUMP_BYTES = 8 * 1024**3  # a memory-bump proposal never asks for more (the action has its own ceiling)
BUMP_MINUTES = 60
PODS_SHOWN = 6


@dataclass(frozen=True)
class PodLoad:
    """One pod's usage summed over its containers, with the limits and requests of those containers."""

    pod: str
    cpu: float
    memory: int
    cpu_limit: float | None
    cpu_request: float | None
    memory_limit: int | None
    memory_request: int | None

    @property
    def cpu_share(self) -> float | None:
        return self.cpu / self.cpu_limit if self.cpu_limit else None

    @property
    def memory_share(self) -> float | None:
        return self.memory / self.memory_limit if self.memory_limit else None


@dataclass(frozen=True)
class ResourceEvidence:
    pods: tuple[PodInfo, ...]
    usage: tuple[PodUsage, ...]
    hpa: HpaInfo | None = None
    hpa_error: str | None = None  # the HPA could not be read: then no scale proposal is bounded by it
    # The deployment's spec.replicas: what a scale proposal must exceed. None when it could not be read
    # (then nothing is proposed: the pods with metrics are not a count of the replicas).
    replicas: int | None = None


def pod_loads(pods: tuple[PodInfo, ...], usage: tuple[PodUsage, ...]) -> list[PodLoad]:
    """Usage joined to the pod specs by pod and container name; pods without a sample are left out."""
    by_name = {p.name: p for p in pods}
    loads = []
    for sample in usage:
        pod = by_name.get(sample.pod)
        if pod is None:
            continue
        specs = [pod.spec(c.name) for c in sample.containers]
        loads.append(PodLoad(
            pod=sample.pod,
            cpu=sample.cpu,
            memory=sample.memory,
            cpu_limit=_total([s.cpu_limit if s else None for s in specs]),
            cpu_request=_total([s.cpu_request if s else None for s in specs]),
            memory_limit=_int_total([s.memory_limit if s else None for s in specs]),
            memory_request=_int_total([s.memory_request if s else None for s in specs]),
        ))
    return loads


def _total(values: list[float | None]) -> float | None:
    # One container without a limit makes the pod's total meaningless (that container is unbounded).
    return None if not values or any(v is None for v in values) else sum(v for v in values if v is not None)


def _int_total(values: list[int | None]) -> int | None:
    total = _total([float(v) if v is not None else None for v in values])
    return int(total) if total is not None else None


class ResourceUsageCheck:
    """CPU and memory per pod vs limits: CPU saturation (>= 80 %), throttling, memory near the limit."""

    name = "resource_usage"
    title = "CPU and memory"
    guide_section = "CPU Saturation"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> ResourceEvidence:
        target = ctx.target
        pods, usage, (hpa, hpa_error), replicas = await asyncio.gather(
            sources.kube.pods(target), sources.kube.pod_usage(target.namespace, target.selector), _hpa(sources, ctx),
            _replicas(sources, ctx),
        )
        return ResourceEvidence(tuple(pods), tuple(usage), hpa, hpa_error, replicas)

    def assess(self, evidence: ResourceEvidence, ctx: CheckContext) -> Finding:
        loads = pod_loads(evidence.pods, evidence.usage)
        if not loads:
            return Finding(self.name, self.title, Status.NO_DATA,
                           f"metrics.k8s.io has no usage for the pods of {ctx.target.service} "
                           f"({len(evidence.pods)} listed by the API server).", guide_section=self.guide_section)
        cpu_status, cpu_facts, cpu_causes = self._cpu(loads, evidence, ctx)
        mem_status, mem_facts, mem_causes = self._memory(loads, ctx)
        status = max(cpu_status, mem_status, key=lambda s: s.rank)
        worst = sorted(loads, key=lambda ld: -max(ld.cpu_share or 0, ld.memory_share or 0))[:PODS_SHOWN]
        summary = " ".join(fact for fact in (_cpu_summary(loads, ctx), _memory_summary(loads, ctx)) if fact)
        return Finding(self.name, self.title, status, summary,
                       facts=tuple(cpu_facts + mem_facts + [Fact("pods sampled", f"{len(loads)}")]),
                       evidence=tuple(_pod_line(ld) for ld in worst), causes=tuple(cpu_causes + mem_causes),
                       guide_section=self.guide_section)

    def _cpu(self, loads: list[PodLoad], evidence: ResourceEvidence,
             ctx: CheckContext) -> tuple[Status, list[Fact], list[Cause]]:
        limit = ctx.thresholds.cpu
        shares = [ld.cpu_share for ld in loads if ld.cpu_share is not None]
        if not shares:
            status, facts = _cpu_without_limits(loads, ctx)
            return status, facts, []
        mean, hottest = statistics.fmean(shares), max(shares)
        throttled = [ld for ld in loads if (ld.cpu_share or 0) >= THROTTLED]
        hot = [ld for ld in loads if (ld.cpu_share or 0) >= limit]
        status = Status.CRIT if mean >= limit else Status.WARN if hot else Status.OK
        facts = [
            Fact("CPU of limit (mean)", percent(mean), percent(limit), status),
            Fact("CPU of limit (hottest pod)", percent(hottest), percent(limit),
                 Status.WARN if hottest >= limit else Status.OK),
            Fact("pods at the CPU limit (throttled)", f"{len(throttled)} of {len(loads)}", None,
                 Status.WARN if throttled else Status.OK),
        ]
        if status is Status.OK:
            return status, facts, []
        return status, facts, [self._cpu_cause(loads, mean, evidence, ctx)]

    def _cpu_cause(self, loads: list[PodLoad], mean: float, evidence: ResourceEvidence, ctx: CheckContext) -> Cause:
        limit = ctx.thresholds.cpu
        throttled = [ld for ld in loads if (ld.cpu_share or 0) >= THROTTLED]
        hot = [ld for ld in loads if (ld.cpu_share or 0) >= limit]
        lines = [f"{len(hot)} of {len(loads)} pods at or above {percent(limit)} of their CPU limit "
                 f"(mean {percent(mean)})"]
        if throttled:
            lines.append(
                f"{len(throttled)} pods use >= {percent(THROTTLED)} of their limit, so the CFS quota is holding them "
                "back (throttled); metrics.k8s.io has no throttling counter, cAdvisor's "
                "container_cpu_cfs_throttled_periods_total would say how often"
            )
        if mean < limit:
            return Cause("cpu_saturation", f"Uneven load: {len(hot)} of {len(loads)} pods CPU-saturated", 0.35,
                         tuple(lines), "CPU Saturation")
        return Cause(
            key="cpu_saturation",
            title=f"CPU saturation: pods at {percent(mean)} of their CPU limit (threshold {percent(limit)})",
            confidence=0.8 if throttled else 0.7,
            evidence=tuple(lines + _hpa_lines(evidence)),
            guide_section="CPU Saturation",
            proposals=_scale_proposal(mean, evidence, ctx),
        )

    def _memory(self, loads: list[PodLoad], ctx: CheckContext) -> tuple[Status, list[Fact], list[Cause]]:
        limit = ctx.thresholds.memory
        shares = [ld for ld in loads if ld.memory_share is not None]
        if not shares:
            # Without a limit there is no OOM line to be near: nothing to judge, which is not "fine".
            total = sum(ld.memory for ld in loads)
            return Status.NO_DATA, [Fact("memory limit", f"none set ({memory(total)} over {len(loads)} pods)",
                                         None, Status.NO_DATA)], []
        top = max(shares, key=lambda ld: ld.memory_share or 0)
        top_share = top.memory_share or 0
        near = [ld for ld in shares if (ld.memory_share or 0) >= limit]
        status = (Status.CRIT if near else Status.WARN if top_share >= limit - MEMORY_WARN_MARGIN else Status.OK)
        facts = [Fact("memory of limit (highest pod)", percent(top_share), percent(limit), status),
                 Fact("pods near the memory limit", f"{len(near)} of {len(loads)}")]
        over_request = [ld for ld in loads if ld.memory_request and ld.memory > ld.memory_request]
        if over_request:
            # Above its request a pod is among the first evicted when the node runs short of memory.
            facts.append(Fact("pods above their memory request", f"{len(over_request)} of {len(loads)}"))
        if not near:
            return status, facts, []
        assert top.memory_limit is not None
        bump = min(2 * top.memory_limit, MAX_BUMP_BYTES)
        proposals = [Proposal("delete-pod", {"pod": top.pod},
                              f"replace {top.pod} ({percent(top_share)} of its memory limit) before it is OOMKilled")]
        if bump > top.memory_limit:
            proposals.append(Proposal("memory-bump", {"limit": memory_limit(bump), "minutes": str(BUMP_MINUTES)},
                                      f"temporarily raise the limit from {memory_limit(top.memory_limit)}"))
        cause = Cause(
            key="memory_pressure",
            title=f"Memory pressure: {len(near)} of {len(loads)} pods at >= {percent(limit)} of their memory limit",
            confidence=0.5,
            evidence=tuple(f"{ld.pod}: {memory(ld.memory)} of {memory(ld.memory_limit or 0)} "
                           f"({percent(ld.memory_share or 0)})" for ld in near),
            guide_section="Memory Leaks",
            proposals=tuple(proposals),
            supports=("memory_leak",),
        )
        return status, facts, [cause]


def _cpu_without_limits(loads: list[PodLoad], ctx: CheckContext) -> tuple[Status, list[Fact]]:
    """No CPU limit: nothing throttles the pods, so "saturation" against a limit does not exist. Usage is
    compared with the requests instead, as the HPA measures utilisation: above the threshold of its request
    a pod is running on CPU the scheduler did not reserve for it (a warning, never critical). With no
    requests either there is nothing to compare with (no_data)."""
    total = sum(ld.cpu for ld in loads)
    no_limit = Fact("CPU limit", f"none set ({cores(total)} over {len(loads)} pods)", None, Status.NO_DATA)
    requested = [ld.cpu / ld.cpu_request for ld in loads if ld.cpu_request]
    if not requested:
        return Status.NO_DATA, [no_limit]
    mean = statistics.fmean(requested)
    status = Status.WARN if mean >= ctx.thresholds.cpu else Status.OK
    return status, [no_limit, Fact("CPU of request (mean, as the HPA measures)", percent(mean),
                                   percent(ctx.thresholds.cpu), status)]


async def _replicas(sources: SourceSet, ctx: CheckContext) -> int | None:
    # Like the HPA, the replica count only bounds a scale proposal: the usage numbers stand without it.
    try:
        return (await sources.kube.deployment(ctx.target)).replicas
    except SourceError:
        return None


async def _hpa(sources: SourceSet, ctx: CheckContext) -> tuple[HpaInfo | None, str | None]:
    # The HPA only bounds a scale proposal; not being able to read it must not hide the usage numbers.
    try:
        return await sources.kube.hpa(ctx.target), None
    except SourceError as exc:
        return None, str(exc)


def _hpa_lines(evidence: ResourceEvidence) -> list[str]:
    hpa = evidence.hpa
    if evidence.hpa_error:
        return [f"HPA unknown ({evidence.hpa_error})"]
    if hpa is None:
        return ["no HPA: nothing adds pods automatically"]
    if hpa.current_replicas >= hpa.max_replicas:
        return [f"HPA at its maximum ({hpa.current_replicas}/{hpa.max_replicas}): it cannot add pods"]
    return [f"HPA {hpa.current_replicas} replicas (min {hpa.min_replicas}, max {hpa.max_replicas})"]


def _scale_proposal(mean: float, evidence: ResourceEvidence, ctx: CheckContext) -> tuple[Proposal, ...]:
    """Scale out only where it can stick: with no HPA, or under an HPA's maximum (above it the HPA would
    scale straight back; raising maxReplicas is the fix then, and hpa_headroom says so). The step starts
    from the deployment's replicas, not the pods that happen to have metrics (a pending or just-started pod
    has none): counting those could propose fewer replicas than the deployment already asks for."""
    hpa, replicas = evidence.hpa, evidence.replicas
    if replicas is None or evidence.hpa_error or (hpa is not None and hpa.current_replicas >= hpa.max_replicas):
        return ()
    target = scale_out_target(replicas, mean, ctx.thresholds.cpu, hpa.max_replicas if hpa else None)
    if target is None:
        return ()
    return (Proposal("scale", {"replicas": str(target)},
                     f"{replicas} -> {target} pods brings mean CPU to about {percent(mean * replicas / target)} "
                     "of the limit (more if throttling hid demand)"),)


def _cpu_summary(loads: list[PodLoad], ctx: CheckContext) -> str:
    shares = [ld.cpu_share for ld in loads if ld.cpu_share is not None]
    if not shares:
        requested = [ld.cpu / ld.cpu_request for ld in loads if ld.cpu_request]
        if requested:
            return (f"No CPU limit set; CPU at {percent(statistics.fmean(requested))} of the requests on average "
                    f"(compared with requests, as the HPA does; threshold {percent(ctx.thresholds.cpu)}).")
        total = cores(sum(ld.cpu for ld in loads))
        return f"No CPU limit or request set: CPU {total} in total, nothing to compare with."
    return (f"CPU at {percent(statistics.fmean(shares))} of the limit on average "
            f"(hottest pod {percent(max(shares))}, threshold {percent(ctx.thresholds.cpu)}).")


def _memory_summary(loads: list[PodLoad], ctx: CheckContext) -> str:
    shares = [ld.memory_share for ld in loads if ld.memory_share is not None]
    if not shares:
        return "No memory limit set: nothing to judge the OOM risk against."
    return f"Memory up to {percent(max(shares))} of the limit (threshold {percent(ctx.thresholds.memory)})."


def _pod_line(load: PodLoad) -> str:
    cpu = f"CPU {cores(load.cpu)}"
    if load.cpu_limit:
        cpu += f" of {cores(load.cpu_limit)} ({percent(load.cpu_share or 0)})"
    mem = f"memory {memory(load.memory)}"
    if load.memory_limit:
        mem += f" of {memory(load.memory_limit)} ({percent(load.memory_share or 0)})"
    return f"{load.pod}: {cpu}, {mem}"
