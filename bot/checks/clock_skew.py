"""Pods' and nodes' clocks: a clock off by more than the JWT leeway rejects valid tokens.

Two measures, because each is blind where the other looks:

- In the pod: each log line carries the time the application printed (its own clock) and the time the
  container runtime stamped it (`kubectl logs --timestamps`, the node's clock). The median difference is
  how far the application's clock is off the node's. A container normally reads the node's clock, so this
  sees an application that keeps its own time (a faked or frozen clock, a wrong zone), and cannot see a
  node whose clock is off: both timestamps then come from the same wrong clock and agree.
- On the node: the runtime timestamps of each node's newest lines against the API server's clock, read
  (HTTP `Date`, whole seconds) after the logs. A line cannot be written after it was read, so a newest
  line stamped later than the API server's time proves that node's clock ahead by at least the gap. A node
  behind cannot be told from a quiet log (both leave the newest line in the past): a small gap bounds how
  far behind the node can be; a large one says nothing, and the finding says so.

A clock ahead sees fresh tokens as expired; one behind sees them as not yet valid.
"""

from __future__ import annotations

import asyncio
import re
import statistics
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

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
    newest: datetime | None = None  # the runtime timestamp of the newest line (the node's clock)

    @property
    def skew_s(self) -> float | None:
        return statistics.median(self.offsets_s) if len(self.offsets_s) >= MIN_SAMPLES else None


@dataclass(frozen=True)
class ClockEvidence:
    pods: tuple[PodClock, ...]
    unreadable: tuple[str, ...]
    # The API server's clock, read after every log; None when it could not be read (`server_error` says why).
    server_time: datetime | None = None
    server_error: str | None = None


@dataclass(frozen=True)
class NodeClock:
    """A node's newest runtime timestamp against the API server's clock: `gap_s` > 0 proves the node ahead
    by at least that; < 0 bounds how far behind it can be (or the log was quiet)."""

    node: str
    gap_s: float
    pods: int


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
        # After the logs, so every line read was written before this moment.
        try:
            server_time, server_error = await sources.kube.server_time(), None
        except SourceError as exc:
            server_time, server_error = None, str(exc)
        return ClockEvidence(tuple(clocks), tuple(unreadable), server_time, server_error)

    async def _pod_clock(self, sources: SourceSet, ctx: CheckContext, pod: PodInfo) -> PodClock:
        container = pod.containers[0].name
        lines = await sources.kube.pod_log(ctx.target.namespace, pod.name, container, SAMPLE_LINES, timestamps=True)
        stamps = [line.ts.astimezone(UTC) for line in lines if line.ts is not None]
        return PodClock(pod.name, pod.node, offsets(lines), max(stamps, default=None))

    def assess(self, evidence: ClockEvidence, ctx: CheckContext) -> Finding:
        pod_finding = self._assess_pods(evidence, ctx)
        nodes = node_clocks(evidence)
        if not nodes:
            if evidence.server_error:
                return replace(pod_finding, evidence=(*pod_finding.evidence,
                                                      f"node clocks not measured: {evidence.server_error}"))
            return pod_finding
        leeway = ctx.thresholds.clock_skew_s
        ahead = max(nodes, key=lambda n: n.gap_s)
        status = _node_status(ahead.gap_s, leeway)
        facts = (*pod_finding.facts, Fact("node clock ahead (at least)", f"{max(ahead.gap_s, 0):.1f} s ({ahead.node})",
                                          f"{leeway:g} s", status))
        lines = (*pod_finding.evidence, *(_node_line(n, leeway) for n in nodes))
        # Lines without an application timestamp leave the in-pod measure nothing to judge; the node measure
        # still judged, so its verdict stands rather than "no data".
        worst = status if pod_finding.status is Status.NO_DATA else max(pod_finding.status, status,
                                                                          key=lambda s: s.rank)
        if status is Status.OK:
            summary = f"{pod_finding.summary} No node clock is ahead of the API server's by more than {leeway / 2:g} s."
            return replace(pod_finding, status=worst, summary=summary, facts=facts, evidence=lines)
        if status.rank <= pod_finding.status.rank:
            return replace(pod_finding, status=worst, facts=facts, evidence=lines)
        summary = (f"Node {ahead.node}'s clock is at least {ahead.gap_s:.1f} s ahead of the API server's; "
                   f"JWT leeway is {leeway:g} s. " + pod_finding.summary)
        causes = pod_finding.causes + ((_node_cause(ahead, leeway),) if status is Status.CRIT else ())
        return replace(pod_finding, status=worst, summary=summary, facts=facts, evidence=lines, causes=causes)

    def _assess_pods(self, evidence: ClockEvidence, ctx: CheckContext) -> Finding:
        """The in-pod measure: application timestamps against the runtime's, per pod."""
        measured = [(p, p.skew_s) for p in evidence.pods if p.skew_s is not None]
        if not measured:
            status = Status.ERROR if evidence.unreadable else Status.NO_DATA
            why = "no pod logs could be read" if evidence.unreadable else "no log lines carry a timestamp to compare"
            return Finding(self.name, self.title, status, f"Could not measure pod clocks: {why}.",
                           guide_section=GUIDE)
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
            summary = (f"All {len(measured)} pod clocks within {abs(worst_skew):.1f} s of their node's runtime "
                       f"(leeway {leeway:g} s).")
            return Finding(self.name, self.title, status, summary, facts=tuple(facts), evidence=lines,
                           guide_section=GUIDE)
        summary = f"{worst.pod}{_on(worst.node)} clock is {_direction(worst_skew)}; JWT leeway is {leeway:g} s."
        causes = (_cause(worst, worst_skew, leeway),) if status is Status.CRIT else ()
        return Finding(self.name, self.title, status, summary, facts=tuple(facts), evidence=lines,
                       causes=causes, guide_section=GUIDE)


def node_clocks(evidence: ClockEvidence) -> list[NodeClock]:
    """Per node, its newest runtime timestamp minus the API server's clock. The Date header truncates to
    the second, so the true read time lies in [server_time, server_time + 1 s): the gap is taken against
    its end, never claiming a node ahead by less than the header can resolve."""
    if evidence.server_time is None:
        return []
    read_by = evidence.server_time + timedelta(seconds=1)
    newest: dict[str, list[datetime]] = {}
    for pod in evidence.pods:
        if pod.node and pod.newest is not None:
            newest.setdefault(pod.node, []).append(pod.newest)
    return [NodeClock(node, (max(stamps) - read_by).total_seconds(), len(stamps))
            for node, stamps in sorted(newest.items())]


def _node_status(gap_s: float, leeway: float) -> Status:
    return Status.CRIT if gap_s > leeway else Status.WARN if gap_s > leeway / 2 else Status.OK


def _node_line(node: NodeClock, leeway: float) -> str:
    where = f"node {node.node} ({node.pods} pod(s))"
    if node.gap_s > 0:
        return f"{where}: newest line stamped {node.gap_s:.1f} s after the API server's clock: ahead by at least that"
    behind = -node.gap_s
    if behind <= leeway:
        return f"{where}: newest line {behind:.1f} s before the API server's clock: not ahead, at most that behind"
    return (f"{where}: newest line {behind:.1f} s before the API server's clock: a quiet log or a clock behind, "
            "which this measure cannot tell apart")


def _node_cause(node: NodeClock, leeway: float) -> Cause:
    return Cause(
        key="clock_skew",
        title=(f"Clock of node {node.node} is at least {node.gap_s:.1f} s ahead and its pods see valid tokens "
               "as expired: fix time sync (NTP) on the node"),
        confidence=0.75 if node.gap_s > 4 * leeway else 0.55,
        evidence=(f"node {node.node}: its runtime stamped log lines {node.gap_s:.1f} s later than the API server's "
                  f"clock when they were read (leeway {leeway:g} s); in-pod timestamps cannot show this, they "
                  "come from the same clock",),
        guide_section=GUIDE,
    )


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
