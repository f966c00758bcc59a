"""Latency percentiles from the metrics API against the guide's P95 lines (alert 150 ms, symptom 200 ms),
and the same numbers for the service's configured dependencies, to tell slow code from a slow callee."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.checks.base import CheckContext, SourceSet, graded
from bot.model import Cause, Fact, Finding, Status
from bot.sources.errors import SourceError
from bot.sources.records import LatencyStats

# A dependency explains the caller's latency when its own P95 takes at least this share of the caller's.
DEPENDENCY_SHARE = 0.5


@dataclass(frozen=True)
class DependencyLatency:
    name: str
    stats: LatencyStats | None
    error: str | None = None


@dataclass(frozen=True)
class LatencyEvidence:
    stats: LatencyStats
    dependencies: tuple[DependencyLatency, ...] = ()


class LatencyCheck:
    """P50/P95/P99 vs the 150/200 ms P95 thresholds, and which dependency (if any) is as slow."""

    name = "latency"
    title = "Latency"
    guide_section = "High Latency"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> LatencyEvidence:
        period = ctx.diagnosis.metrics_period
        own, deps = await asyncio.gather(
            sources.metrics.latency(ctx.target.service, period),
            _dependencies(sources, ctx.dependencies, period),
        )
        return LatencyEvidence(own, deps)

    def assess(self, evidence: LatencyEvidence, ctx: CheckContext) -> Finding:
        stats = evidence.stats
        if stats.requests == 0:
            return Finding(self.name, self.title, Status.NO_DATA, f"No requests in the last {stats.period}.",
                           guide_section=self.guide_section)
        p95 = p95_status(stats.p95_ms, ctx)
        p99 = p99_status(stats.p99_ms, ctx)
        # The worse of the two: a tail can go bad while the P95 still looks fine (a lock, a slow callee).
        status = max(p95, p99, key=lambda s: s.rank)
        warn, crit = ctx.thresholds.latency_p95_warn_ms, ctx.thresholds.latency_p95_crit_ms
        warn99, crit99 = ctx.thresholds.latency_p99_warn_ms, ctx.thresholds.latency_p99_crit_ms
        facts = [
            Fact("p50", _ms(stats.p50_ms)),
            Fact("p95", _ms(stats.p95_ms), f"warn {_ms(warn)}, crit {_ms(crit)}", p95),
            Fact("p99", _ms(stats.p99_ms), f"warn {_ms(warn99)}, crit {_ms(crit99)}", p99),
            Fact("requests", f"{stats.requests:,} in {stats.period}"),
        ]
        lines = [_dependency_line(d, ctx) for d in evidence.dependencies]
        facts += [Fact(f"dependency {d.name} p95", _ms(d.stats.p95_ms), None, p95_status(d.stats.p95_ms, ctx))
                  for d in evidence.dependencies if d.stats is not None]
        where = "above the" if stats.p95_ms >= warn else "below the"
        summary = (f"P95 {_ms(stats.p95_ms)} over {stats.period} ({where} {_ms(warn)} alert line"
                   f"{'; the guide calls >' + _ms(crit) + ' the symptom' if p95 is Status.CRIT else ''}); "
                   f"P50 {_ms(stats.p50_ms)}, P99 {_ms(stats.p99_ms)}"
                   f"{_tail_words(p99, warn99, crit99)}.")
        causes = () if status is Status.OK else self._slow_dependencies(evidence, ctx)
        return Finding(self.name, self.title, status, summary, facts=tuple(facts), evidence=tuple(lines),
                       causes=causes, guide_section=self.guide_section)

    def _slow_dependencies(self, evidence: LatencyEvidence, ctx: CheckContext) -> tuple[Cause, ...]:
        own = evidence.stats.p95_ms
        slow = sorted(
            (d for d in evidence.dependencies if d.stats is not None
             and p95_status(d.stats.p95_ms, ctx) is not Status.OK and d.stats.p95_ms >= own * DEPENDENCY_SHARE),
            key=lambda d: -(d.stats.p95_ms if d.stats else 0),
        )
        if not slow:
            return ()
        names = ", ".join(d.name for d in slow)
        return (
            Cause(
                key="dependency",
                title=f"Slow dependency: {names}",
                # Latency alone cannot prove the call path (the health endpoint's view corroborates it), and
                # a dependency merely over the alert line is a weaker suspect than one over the symptom line.
                confidence=0.6 if any(p95_status(d.stats.p95_ms, ctx) is Status.CRIT
                                      for d in slow if d.stats is not None) else 0.35,
                evidence=tuple(
                    f"{d.name} P95 {_ms(d.stats.p95_ms)} = {d.stats.p95_ms / own:.0%} of "
                    f"{evidence.stats.service}'s {_ms(own)}"
                    for d in slow if d.stats is not None
                ),
                guide_section="High Latency",
                # In the timeout runbook the slow dependency and the timed-out upstream are one explanation.
                supports=("upstream_timeout",),
            ),
        )


def p99_status(p99_ms: float, ctx: CheckContext) -> Status:
    return graded(p99_ms, ctx.thresholds.latency_p99_warn_ms, ctx.thresholds.latency_p99_crit_ms)


def _tail_words(status: Status, warn_ms: float, crit_ms: float) -> str:
    if status is Status.CRIT:
        return f" (above the {_ms(crit_ms)} P99 line)"
    if status is Status.WARN:
        return f" (above the {_ms(warn_ms)} P99 line)"
    return ""


def p95_status(p95_ms: float, ctx: CheckContext) -> Status:
    return graded(p95_ms, ctx.thresholds.latency_p95_warn_ms, ctx.thresholds.latency_p95_crit_ms)


async def _dependencies(sources: SourceSet, names: tuple[str, ...], period: str) -> tuple[DependencyLatency, ...]:
    return tuple(await asyncio.gather(*(_dependency(sources, name, period) for name in names)))


async def _dependency(sources: SourceSet, name: str, period: str) -> DependencyLatency:
    # A dependency the metrics API does not know (a database) must not sink the service's own numbers.
    try:
        return DependencyLatency(name, await sources.metrics.latency(name, period))
    except SourceError as exc:
        return DependencyLatency(name, None, str(exc))


def _dependency_line(dep: DependencyLatency, ctx: CheckContext) -> str:
    if dep.stats is None:
        return f"{dep.name}: latency unavailable ({dep.error})"
    s = dep.stats
    state = p95_status(s.p95_ms, ctx).value
    return f"{dep.name}: P50 {_ms(s.p50_ms)}, P95 {_ms(s.p95_ms)}, P99 {_ms(s.p99_ms)} ({state})"


def _ms(value: float) -> str:
    return f"{value:,.0f} ms"
