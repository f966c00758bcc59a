"""Requests running into the timeout: P99 against the 30 s request timeout, 504s, and the log lines
that say which upstream timed out ("upstream data-processor timed out after 30s", "deadline exceeded").
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from bot.checks.base import CheckContext, SourceSet
from bot.checks.excerpts import excerpt
from bot.checks.formatting import percent
from bot.logscan import LEVEL_WORD, TIMESTAMP, WARN
from bot.model import Cause, Fact, Finding, Status
from bot.sources.records import ErrorStats, LatencyStats, LogLine

GUIDE = "Timeout Errors"
# P99 at 80 % of the timeout or more: the slowest requests are already hitting it (the guide's symptom).
NEAR = 0.8
# From half the timeout, P99 is worth a mention even if nothing times out yet.
WATCH = 0.5
TIMEOUT_LINE = re.compile(
    r"timed out|deadline exceeded|\s504\s|gateway time-?out|ReadTimeout|ConnectTimeout", re.IGNORECASE
)
UPSTREAM = re.compile(r"\bupstream[\s=:\"']+([a-z0-9][-a-z0-9.]*[a-z0-9])", re.IGNORECASE)
UNNAMED = "(no upstream named)"
GROUPS_SHOWN = 4


@dataclass(frozen=True)
class TimeoutEvidence:
    latency: LatencyStats
    errors: ErrorStats
    lines: tuple[LogLine, ...]
    unreadable: tuple[str, ...] = ()  # pod/container logs that could not be read: said, not hidden


@dataclass
class UpstreamGroup:
    upstream: str
    count: int = 0
    pods: set[str] = field(default_factory=set)
    example: str = ""


class TimeoutsCheck:
    """P99 vs the request timeout (near = 80 %), 504s, and timed-out calls in logs grouped by upstream."""

    name = "timeouts"
    title = "Request timeouts"
    guide_section = GUIDE

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> TimeoutEvidence:
        period, service = ctx.diagnosis.metrics_period, ctx.target.service
        latency, errors, (lines, unreadable) = await asyncio.gather(
            sources.metrics.latency(service, period),
            sources.metrics.errors(service, period),
            sources.kube.recent_logs(ctx.target, ctx.diagnosis.log_tail_lines),
        )
        return TimeoutEvidence(latency, errors, tuple(lines), tuple(unreadable))

    def assess(self, evidence: TimeoutEvidence, ctx: CheckContext) -> Finding:
        latency, errors = evidence.latency, evidence.errors
        if latency.requests == 0 and errors.requests == 0 and not evidence.lines:
            return Finding(self.name, self.title, Status.NO_DATA, "No requests and no logs in the window.",
                           guide_section=GUIDE)
        limit_ms = ctx.thresholds.request_timeout_s * 1000
        share = latency.p99_ms / limit_ms
        gateway_timeouts = errors.by_status.get(504, 0)
        groups = group_by_upstream(evidence.lines, ctx.dependencies)
        timed_out = sum(g.count for g in groups)
        near = share >= NEAR
        status = Status.CRIT if near else Status.WARN if share >= WATCH or timed_out or gateway_timeouts \
            else Status.OK
        facts = (
            Fact("P99", f"{latency.p99_ms:,.0f} ms ({percent(share)} of the timeout{_exceeds(share)})",
                 f"{percent(NEAR)} of {ctx.thresholds.request_timeout_s} s", Status.CRIT if near else Status.OK),
            Fact("P95", f"{latency.p95_ms:,.0f} ms"),
            Fact("504 responses", f"{gateway_timeouts:,} of {errors.requests:,}"),
            Fact("timed-out calls in logs", f"{timed_out:,} lines"),
        )
        lines = tuple(_group_line(g) for g in groups[:GROUPS_SHOWN])
        summary = _summary(latency, share, ctx.thresholds.request_timeout_s, gateway_timeouts, groups)
        if evidence.unreadable:
            summary += f" Could not read {len(evidence.unreadable)} container log(s)."
        causes = () if status is Status.OK else _causes(groups, near, latency, ctx.thresholds.request_timeout_s,
                                                         gateway_timeouts)
        return Finding(self.name, self.title, status, summary, facts=facts, evidence=lines, causes=causes,
                       guide_section=GUIDE)


def group_by_upstream(lines: tuple[LogLine, ...], dependencies: tuple[str, ...]) -> list[UpstreamGroup]:
    """Timed-out calls in the logs, by the upstream they name (explicitly, or a known dependency).

    Only ERROR/WARN records count: the last line of a traceback repeats the exception ("ReadTimeout:
    timed out") and would count the same call twice, without naming the upstream."""
    groups: dict[str, UpstreamGroup] = {}
    for line in lines:
        if not TIMEOUT_LINE.search(line.text) or not (LEVEL_WORD.search(line.text) or WARN.search(line.text)):
            continue
        upstream = _upstream_of(line.text, dependencies)
        group = groups.setdefault(upstream, UpstreamGroup(upstream))
        group.count += 1
        group.pods.add(line.pod)
        group.example = group.example or excerpt(TIMESTAMP.sub("", line.text))
    return sorted(groups.values(), key=lambda g: (g.upstream == UNNAMED, -g.count))


def _upstream_of(text: str, dependencies: tuple[str, ...]) -> str:
    named = UPSTREAM.search(text)
    if named:
        return named.group(1).lower()
    for dependency in dependencies:
        if re.search(rf"\b{re.escape(dependency)}\b", text):
            return dependency
    return UNNAMED


def _upstream_confidence(near: bool, gateway: int) -> float:
    """Logs naming the upstream alone are a medium signal; with P99 at the timeout it is strong, and with
    the service also answering 504s every part of the mechanism is observed, not inferred."""
    if not near:
        return 0.6
    return 0.9 if gateway else 0.85


def _group_line(group: UpstreamGroup) -> str:
    return f"{group.upstream}: {group.count:,} timed-out calls on {len(group.pods)} pod(s), e.g. {group.example[:240]}"


def _summary(latency: LatencyStats, share: float, timeout_s: int, gateway: int, groups: list[UpstreamGroup]) -> str:
    text = f"P99 {latency.p99_ms / 1000:.1f} s is {percent(share)} of the {timeout_s} s request timeout"
    text += _against_timeout(share) + "."
    if gateway:
        text += f" {gateway:,} requests answered 504."
    named = [g for g in groups if g.upstream != UNNAMED]
    if named:
        text += f" Logs show timed-out calls to {', '.join(g.upstream for g in named[:3])}."
    return text


def _exceeds(share: float) -> str:
    return ", exceeds it" if share > 1 else ""


def _against_timeout(share: float) -> str:
    """Above the timeout the slowest requests are cut off by it: "near" would understate that."""
    if share > 1:
        return ": it exceeds the timeout, so the slowest requests are cut off"
    if share == 1:
        return ": at the timeout"
    return " (near it)" if share >= NEAR else ""


def _p99_line(latency: LatencyStats, timeout_s: int) -> str:
    verb = "exceeds" if latency.p99_ms > timeout_s * 1000 else "against"
    return f"P99 {latency.p99_ms:,.0f} ms {verb} the {timeout_s} s timeout"


def _causes(groups: list[UpstreamGroup], near: bool, latency: LatencyStats, timeout_s: int,
            gateway: int) -> tuple[Cause, ...]:
    named = [g for g in groups if g.upstream != UNNAMED]
    if named:
        top = named[0]
        evidence = [f"{top.count:,} log lines on {len(top.pods)} pod(s): {top.example[:240]}"]
        if near:
            evidence.append(_p99_line(latency, timeout_s))
        if gateway:
            evidence.append(f"{gateway:,} requests answered 504 Gateway Timeout")
        return (
            Cause(
                key="upstream_timeout",
                title=f"Upstream {top.upstream} times out: check {top.upstream} itself "
                      f"(/diagnose {top.upstream} high_latency) before raising timeouts",
                confidence=_upstream_confidence(near, gateway),
                evidence=tuple(evidence),
                guide_section=GUIDE,
            ),
        )
    if near:
        return (
            Cause(
                key="slow_requests",
                title="Requests run into the timeout, but no log line names an upstream: the service itself is slow",
                confidence=0.5,
                evidence=(_p99_line(latency, timeout_s),),
                guide_section=GUIDE,
            ),
        )
    return ()
