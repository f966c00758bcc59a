"""Pods' clocks against the container runtime's: a clock off by more than the JWT leeway rejects valid tokens.

Each log line carries two times: the one the application printed at its start (its own clock) and the one
the container runtime recorded when the line arrived (`kubectl logs --timestamps`). Their difference,
taken as the median over recent lines, is how far the application's clock is off. A pod whose clock runs
ahead sees fresh tokens as expired; one behind sees them as not yet valid.
"""

from __future__ import annotations

import asyncio
import re
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.checks.base import CheckContext, SourceSet
from bot.model import Cause, Fact, Finding, Status
from bot.sources.errors import SourceError
from bot.sources.records import LogLine, PodInfo

SAMPLE_LINES = 200
MIN_SAMPLES = 5  # fewer timestamped lines than this do not make a median worth reporting
GUIDE = "Invalid JWT Token (401)"
# The application's own timestamp at the start of a line: 2026-11-28T10:07:12.431Z (zone optional: UTC).
APP_TIMESTAMP = re.compile(
    r"^\s*\[?(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?\]?\s"
)


@dataclass(frozen=True)
class PodClock:
    pod: str
    node: str | None
    offsets_s: tuple[float, ...]  # application timestamp minus runtime timestamp, per line

    @property
    def skew_s(self) -> float | None:
        return statistics.median(self.offsets_s) if len(self.offsets_s) >= MIN_SAMPLES else None


@dataclass(frozen=True)
class ClockEvidence:
    pods: tuple[PodClock, ...]
    unreadable: tuple[str, ...]


def app_time(text: str) -> datetime | None:
    """The timestamp the application printed at the start of the line, if any."""
    match = APP_TIMESTAMP.match(text)
    if match is None:
        return None
    day, clock, fraction, zone = match.groups()
    micros = (fraction or "0")[:6].ljust(6, "0")
    offset = "+00:00" if zone in (None, "Z") else zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    try:
        return datetime.fromisoformat(f"{day}T{clock}.{micros}{offset}")
    except ValueError:
        return None


def offsets(lines: list[LogLine]) -> tuple[float, ...]:
    found = []
    for line in lines:
        printed = app_time(line.text)
        if printed is not None and line.ts is not None:
            found.append((printed - line.ts.astimezone(UTC)).total_seconds())
    return tuple(found)


class ClockSkewCheck:
    """Each pod's clock offset (app log timestamp minus runtime timestamp) against the JWT leeway."""

    name = "clock_skew"
    title = "Pod clock skew"
    guide_section = GUIDE

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> ClockEvidence:
        pods = [p for p in await sources.kube.pods(ctx.target) if p.containers and p.phase == "Running"]
        results = await asyncio.gather(*(self._pod_clock(sources, ctx, pod) for pod in pods),
                                       return_exceptions=True)
        clocks, unreadable = [], []
        for pod, result in zip(pods, results, strict=True):
            if isinstance(result, SourceError):
                unreadable.append(pod.name)
            elif isinstance(result, BaseException):
                raise result
            else:
                clocks.append(result)
        return ClockEvidence(tuple(clocks), tuple(unreadable))

    async def _pod_clock(self, sources: SourceSet, ctx: CheckContext, pod: PodInfo) -> PodClock:
        container = pod.containers[0].name
        lines = await sources.kube.pod_log(ctx.target.namespace, pod.name, container, SAMPLE_LINES, timestamps=True)
        return PodClock(pod.name, pod.node, offsets(lines))

    def assess(self, evidence: ClockEvidence, ctx: CheckContext) -> Finding:
        measured = [(p, p.skew_s) for p in evidence.pods if p.skew_s is not None]
        if not measured:
            status = Status.ERROR if evidence.unreadable else Status.NO_DATA
            why = "no pod logs could be read" if evidence.unreadable else "no log lines carry a timestamp to compare"
            return Finding(self.name, self.title, status, f"Could not measure clocks: {why}.", guide_section=GUIDE)
        leeway = ctx.thresholds.clock_skew_s
        worst, worst_skew = max(measured, key=lambda m: abs(m[1]))
        status = Status.CRIT if abs(worst_skew) > leeway else Status.WARN if abs(worst_skew) > leeway / 2 else Status.OK
        facts = [Fact("worst skew", f"{worst_skew:+.1f} s ({worst.pod})", f"±{leeway:g} s", status),
                 Fact("pods measured", f"{len(measured)}")]
        lines = tuple(f"{pod.pod}{_on(pod.node)}: {skew:+.1f} s over {len(pod.offsets_s)} lines"
                      for pod, skew in sorted(measured, key=lambda m: -abs(m[1])))
        if evidence.unreadable:
            lines += (f"could not read: {', '.join(evidence.unreadable)}",)
        if status is Status.OK:
            summary = (f"All {len(measured)} pod clocks within {abs(worst_skew):.1f} s of the runtime "
                       f"(leeway {leeway:g} s).")
            return Finding(self.name, self.title, status, summary, facts=tuple(facts), evidence=lines,
                           guide_section=GUIDE)
        summary = f"{worst.pod}{_on(worst.node)} clock is {_direction(worst_skew)}; JWT leeway is {leeway:g} s."
        causes = (_cause(worst, worst_skew, leeway),) if status is Status.CRIT else ()
        return Finding(self.name, self.title, status, summary, facts=tuple(facts), evidence=lines,
                       causes=causes, guide_section=GUIDE)


def _on(node: str | None) -> str:
    return f" (node {node})" if node else ""


def _direction(skew: float) -> str:
    return f"{abs(skew):.1f} s {'ahead' if skew > 0 else 'behind'}"


def _cause(pod: PodClock, skew: float, leeway: float) -> Cause:
    effect = "sees valid tokens as expired" if skew > 0 else "sees fresh tokens as not yet valid"
    return Cause(
        key="clock_skew",
        title=f"Clock of {pod.pod} is {_direction(skew)} and {effect}: fix time sync (NTP){_on(pod.node)}",
        # Well past the leeway the skew alone explains rejections; just past it, only tokens near expiry.
        confidence=0.75 if abs(skew) > 4 * leeway else 0.55,
        evidence=(f"{pod.pod}: application timestamps {skew:+.1f} s off the runtime's over "
                  f"{len(pod.offsets_s)} lines (leeway {leeway:g} s)",),
        guide_section=GUIDE,
    )
