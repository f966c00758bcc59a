"""Memory over time: is it growing (across pod ages and between samples), and have containers been OOMKilled?"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.checks.base import CheckContext, SourceSet
from bot.checks.formatting import percent
from bot.checks.growth import LineFit
from bot.checks.memory_signals import (
    PodMemory,
    SampleTrend,
    age_fit,
    oom_events,
    oom_killed,
    pod_memory,
    restarts,
    sample_trend,
)
from bot.checks.units import MIB, memory, memory_limit
from bot.model import Cause, Fact, Finding, Proposal, Status
from bot.sources.errors import SourceError
from bot.sources.records import EventInfo, PodInfo, PodUsage

# Growth that counts as a leak: this share of the memory limit per hour (2 %: a 2Gi pod fills in ~2 days).
MIN_GROWTH_SHARE_PER_HOUR = 0.02
MIN_GROWTH_NO_LIMIT = 32 * MIB  # per hour, for containers without a memory limit
MIN_AGE_SPREAD_HOURS = 0.5  # pods closer in age than this cannot show growth across ages
MIN_FIT = 0.6  # r²: below it, memory is not explained by running time
SOON_HOURS = 1.0  # a pod this close to its limit at the current growth is an incident now
MAX_BUMP_BYTES = 8 * 1024**3  # the action enforces its own ceiling (action_limits.max_memory)
BUMP_MINUTES = 60
PODS_SHOWN = 6


@dataclass(frozen=True)
class MemoryEvidence:
    pods: tuple[PodInfo, ...]
    rounds: tuple[tuple[PodUsage, ...], ...]  # metrics.k8s.io samples, oldest first
    events: tuple[EventInfo, ...] = ()
    events_error: str | None = None


@dataclass(frozen=True)
class _Signals:
    pods: list[PodMemory]
    fit: LineFit | None
    trend: SampleTrend
    min_growth: float
    killed: list[str]
    oom_events: list[EventInfo]

    @property
    def fit_leak(self) -> bool:
        return self.fit is not None and self.fit.slope >= self.min_growth and self.fit.r_squared >= MIN_FIT

    @property
    def sample_leak(self) -> bool:
        rate = self.trend.median_rate
        rising = len(self.trend.rising)
        return rate is not None and rate >= self.min_growth and rising * 3 >= len(self.trend.rates) * 2

    @property
    def growth(self) -> float | None:
        """Bytes per hour: the fit across ages when it holds, else what the samples saw."""
        if self.fit_leak and self.fit is not None:
            return self.fit.slope
        return self.trend.median_rate if self.sample_leak else None

    @property
    def oom(self) -> bool:
        return bool(self.killed or self.oom_events)


class MemoryTrendCheck:
    """Memory trend: growth per hour across pod ages and between samples; OOMKilled (137), restarts, OOM events."""

    name = "memory_trend"
    title = "Memory trend"
    guide_section = "Memory Leaks"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> MemoryEvidence:
        target = ctx.target
        pods, rounds, (events, events_error) = await asyncio.gather(
            sources.kube.pods(target), _sample(sources, ctx), _events(sources, ctx)
        )
        return MemoryEvidence(tuple(pods), rounds, events, events_error)

    def assess(self, evidence: MemoryEvidence, ctx: CheckContext) -> Finding:
        latest = evidence.rounds[-1] if evidence.rounds else ()
        signals = _signals(evidence, latest, ctx)
        if not signals.pods and not signals.oom:
            return Finding(self.name, self.title, Status.NO_DATA,
                           f"metrics.k8s.io has no memory samples for the pods of {ctx.target.service}.",
                           guide_section=self.guide_section)
        leak = signals.fit_leak or signals.sample_leak
        status = _status(signals, leak, ctx)
        facts = _facts(signals, evidence, ctx)
        lines = [_pod_line(p) for p in sorted(signals.pods, key=lambda p: -(p.running_hours or 0))[:PODS_SHOWN]]
        lines += signals.killed
        lines += [f"event {e.reason} x{e.count} on {e.name}: {e.message}" for e in signals.oom_events[:3]]
        if evidence.events_error:
            lines.append(f"events unavailable ({evidence.events_error})")
        cause = _leak_cause(signals, ctx) if leak else _oom_cause(signals) if signals.oom else None
        return Finding(self.name, self.title, status, _summary(signals, leak), facts=tuple(facts),
                       evidence=tuple(lines), causes=(cause,) if cause else (), guide_section=self.guide_section)


def sample_interval(ctx: CheckContext) -> float:
    """The configured interval, shortened so that all samples fit in half the check timeout: the other half
    is left for the reads themselves, so a short timeout costs resolution, not the whole finding."""
    gaps = ctx.diagnosis.memory_samples - 1
    if gaps <= 0:
        return 0.0
    return min(ctx.diagnosis.memory_sample_interval_s, ctx.diagnosis.check_timeout_s / 2 / gaps)


async def _sample(sources: SourceSet, ctx: CheckContext) -> tuple[tuple[PodUsage, ...], ...]:
    """`watch kubectl top pods`, briefly: a few samples a short interval apart."""
    interval = sample_interval(ctx)
    rounds = []
    for index in range(ctx.diagnosis.memory_samples):
        if index:
            await asyncio.sleep(interval)
        rounds.append(tuple(await sources.kube.pod_usage(ctx.target.namespace, ctx.target.selector)))
    return tuple(rounds)


async def _events(sources: SourceSet, ctx: CheckContext) -> tuple[tuple[EventInfo, ...], str | None]:
    # OOM events corroborate; not being allowed to list events must not hide the memory numbers.
    try:
        return tuple(await sources.kube.events(ctx.target)), None
    except SourceError as exc:
        return (), str(exc)


def _signals(evidence: MemoryEvidence, latest: tuple[PodUsage, ...], ctx: CheckContext) -> _Signals:
    pods = pod_memory(evidence.pods, latest, ctx.now)
    limits = [p.limit for p in pods if p.limit]
    min_growth = min(limits) * MIN_GROWTH_SHARE_PER_HOUR if limits else MIN_GROWTH_NO_LIMIT
    return _Signals(pods, age_fit(pods, MIN_AGE_SPREAD_HOURS), sample_trend(evidence.rounds), min_growth,
                    oom_killed(evidence.pods), oom_events(evidence.events))


def _hours_to_limit(pod: PodMemory, growth: float) -> float | None:
    return (pod.limit - pod.memory) / growth if pod.limit and growth > 0 else None


def _worst(pods: list[PodMemory]) -> PodMemory | None:
    return max(pods, key=lambda p: (p.share or 0, p.memory), default=None)


def _status(signals: _Signals, leak: bool, ctx: CheckContext) -> Status:
    worst = _worst(signals.pods)
    near = worst is not None and (worst.share or 0) >= ctx.thresholds.memory
    growth = signals.growth
    soon = worst is not None and growth is not None and (_hours_to_limit(worst, growth) or SOON_HOURS + 1) < SOON_HOURS
    if leak and (signals.oom or near or soon):
        return Status.CRIT
    return Status.WARN if leak or signals.oom or near else Status.OK


def _facts(signals: _Signals, evidence: MemoryEvidence, ctx: CheckContext) -> list[Fact]:
    threshold = f">= {memory(signals.min_growth)}/h"
    facts = []
    if signals.fit is not None:
        facts.append(Fact("growth across pod ages", f"{_signed(signals.fit.slope)}/h (r² {signals.fit.r_squared:.2f})",
                          threshold, Status.WARN if signals.fit_leak else Status.OK))
    else:
        facts.append(Fact("growth across pod ages", "pods too few or too alike in age to tell"))
    trend = signals.trend
    if trend.median_rate is not None:
        facts.append(Fact("growth between samples",
                          f"{_signed(trend.median_rate)}/h, rising in {len(trend.rising)} of {len(trend.rates)} pods",
                          threshold, Status.WARN if signals.sample_leak else Status.OK))
    else:
        no_scrape = f"no new scrape across {len(evidence.rounds)} samples (metrics-server refreshes every 15-60 s)"
        facts.append(Fact("growth between samples", no_scrape))
    worst = _worst(signals.pods)
    if worst is not None and worst.share is not None:
        facts.append(Fact("highest memory of limit", f"{percent(worst.share)} ({worst.pod})",
                          percent(ctx.thresholds.memory),
                          Status.CRIT if worst.share >= ctx.thresholds.memory else Status.OK))
    facts.append(Fact("OOMKilled containers", str(len(signals.killed)), None,
                      Status.CRIT if signals.killed else Status.OK))
    facts.append(Fact("restarts", str(sum(p.restarts for p in evidence.pods))))
    return facts


def _summary(signals: _Signals, leak: bool) -> str:
    parts = []
    growth = signals.growth
    if leak and growth is not None:
        parts.append(f"Memory grows about {memory(growth)} per hour of running time")
    else:
        parts.append("No steady memory growth seen")
    if signals.killed:
        parts.append(f"{len(signals.killed)} container(s) were OOMKilled (exit 137)")
    if signals.oom_events:
        parts.append(f"{len(signals.oom_events)} OOM event(s)")
    return "; ".join(parts) + "."


def _leak_cause(signals: _Signals, ctx: CheckContext) -> Cause:
    growth = signals.growth or 0.0
    evidence = []
    confidence_left = 1.0
    if signals.fit_leak and signals.fit is not None:
        fresh = memory(max(signals.fit.intercept, 0))
        evidence.append(f"older containers use more: {_signed(signals.fit.slope)}/h across {len(signals.pods)} pods "
                        f"(r² {signals.fit.r_squared:.2f}; a fresh one starts near {fresh})")
        confidence_left *= 1 - 0.6
    if signals.sample_leak and signals.trend.median_rate is not None:
        evidence.append(f"still rising now: {_signed(signals.trend.median_rate)}/h between samples in "
                        f"{len(signals.trend.rising)} of {len(signals.trend.rates)} pods")
        confidence_left *= 1 - 0.5
    if signals.oom:
        evidence.append("containers already OOMKilled: " + "; ".join(signals.killed[:3] or
                                                                      [e.message for e in signals.oom_events[:1]]))
        confidence_left *= 1 - 0.4
    worst = _worst(signals.pods)
    hours = _hours_to_limit(worst, growth) if worst else None
    if worst is not None and hours is not None:
        evidence.append(f"{worst.pod} reaches its {memory(worst.limit or 0)} limit in about {_duration(hours)}")
    return Cause(
        key="memory_leak",
        title=f"Memory leak: about {memory(growth)} per hour per pod",
        confidence=round(1 - confidence_left, 2),
        evidence=tuple(evidence),
        guide_section="Memory Leaks",
        proposals=_leak_proposals(worst),
    )


def _leak_proposals(worst: PodMemory | None) -> tuple[Proposal, ...]:
    """The guide's immediate fixes: restart the worst instance (or all), raise the limit for a while."""
    proposals = [Proposal("restart", {}, "rolling restart: every pod starts again from a fresh heap")]
    if worst is None:
        return tuple(proposals)
    proposals.insert(0, Proposal("delete-pod", {"pod": worst.pod},
                                 f"replace {worst.pod}, the pod closest to its limit"))
    if worst.limit:
        bump = min(2 * worst.limit, MAX_BUMP_BYTES)
        if bump > worst.limit:
            proposals.append(Proposal("memory-bump", {"limit": memory_limit(bump), "minutes": str(BUMP_MINUTES)},
                                      f"temporary: {memory_limit(worst.limit)} -> {memory_limit(bump)} buys time "
                                      "until the leak is fixed; it does not fix it"))
    return tuple(proposals)


def _oom_cause(signals: _Signals) -> Cause:
    worst = _worst(signals.pods)
    proposals: tuple[Proposal, ...] = ()
    if worst is not None and worst.limit:
        bump = min(2 * worst.limit, MAX_BUMP_BYTES)
        if bump > worst.limit:
            proposals = (Proposal("memory-bump", {"limit": memory_limit(bump), "minutes": str(BUMP_MINUTES)},
                                  f"temporary: {memory_limit(worst.limit)} -> {memory_limit(bump)}"),)
    return Cause(
        key="memory_pressure",
        title="OOMKilled without steady growth: the limit is too low for the load, or the leak is slower than seen",
        confidence=0.5,
        evidence=tuple(signals.killed[:3] + [f"{e.reason}: {e.message}" for e in signals.oom_events[:2]]),
        guide_section="Memory Leaks",
        proposals=proposals,
        supports=("memory_leak",),
    )


def _pod_line(pod: PodMemory) -> str:
    of_limit = f" of {memory(pod.limit)} ({percent(pod.share or 0)})" if pod.limit else ""
    running = f", running {_duration(pod.running_hours)}" if pod.running_hours is not None else ""
    return f"{pod.pod}: {memory(pod.memory)}{of_limit}{running}, {restarts(pod.restarts)}"


def _duration(hours: float) -> str:
    return f"{hours * 60:.0f} min" if hours < 1.5 else f"{hours:.1f} h"


def _signed(value: float) -> str:
    return ("+" if value >= 0 else "-") + memory(abs(value))
