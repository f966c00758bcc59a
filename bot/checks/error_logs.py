"""ERROR lines and stack traces in the last N log lines of the service's pods, grouped and counted."""

from __future__ import annotations

from dataclasses import dataclass

from bot.checks.base import Check, CheckContext, SourceSet, graded
from bot.checks.excerpts import excerpt, excerpt_lines
from bot.checks.known_errors import classify
from bot.logscan import ErrorGroup, LogScan, scan
from bot.model import Cause, Fact, Finding, Status
from bot.sources.records import LogLine

TOP_GROUPS = 5
STACK_EXCERPT = 8
# Shares of error lines: a handful of errors in thousands of lines is background noise on a busy
# service; above 1 % it is worth a look, above 10 % the logs alone say the service is in trouble.
WARN_SHARE = 0.01
CRIT_SHARE = 0.10


@dataclass(frozen=True)
class LogEvidence:
    lines: tuple[LogLine, ...]
    unreadable: tuple[str, ...]
    pods: int


async def read_recent_logs(sources: SourceSet, ctx: CheckContext) -> LogEvidence:
    """The last `log_tail_lines` of every container of the service (kubectl logs -l ... --tail), shared by
    the checks that read logs, with the pods whose logs could not be read."""
    lines, unreadable = await sources.kube.recent_logs(ctx.target, ctx.diagnosis.log_tail_lines)
    pods = len({line.pod for line in lines} | {u.split("/")[0] for u in unreadable})
    return LogEvidence(tuple(lines), tuple(unreadable), pods)


def unread_finding(check: Check, evidence: LogEvidence) -> Finding:
    """No line could be read: an error when pods refused, no data when there was nothing to read."""
    status = Status.ERROR if evidence.unreadable else Status.NO_DATA
    return Finding(check.name, check.title, status, "No log lines could be read.",
                   evidence=tuple(f"unreadable: {u}" for u in evidence.unreadable[:10]),
                   guide_section=check.guide_section)


class ErrorLogsCheck:
    """ERROR lines and stack traces in recent logs (kubectl logs -l app=SERVICE --tail=1000 | grep ERROR)."""

    name = "error_logs"
    title = "Recent error logs"
    guide_section = "High Error Rates"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> LogEvidence:
        return await read_recent_logs(sources, ctx)

    def assess(self, evidence: LogEvidence, ctx: CheckContext) -> Finding:
        result = scan(evidence.lines)
        if result.lines == 0:
            return unread_finding(self, evidence)
        share = result.error_lines / result.lines
        status = graded(share, WARN_SHARE, CRIT_SHARE)
        tail = ctx.diagnosis.log_tail_lines
        summary = (
            f"{result.error_lines:,} ERROR lines in the last {tail:,} lines of {evidence.pods} pod(s) "
            f"({len(result.groups)} distinct)."
        )
        if evidence.unreadable:
            summary += f" Could not read {len(evidence.unreadable)} container log(s)."
        facts = (
            Fact("error lines", f"{result.error_lines:,} of {result.lines:,}", None, status),
            Fact("warnings", f"{result.warn_lines:,}"),
            Fact("request IDs seen", f"{len(result.request_ids):,}"),
        )
        return Finding(
            self.name,
            self.title,
            status,
            summary,
            facts=facts,
            evidence=tuple(_excerpt(group) for group in result.groups[:TOP_GROUPS]),
            causes=_causes(result),
            guide_section=self.guide_section,
        )


def _excerpt(group: ErrorGroup) -> str:
    first, *stack = excerpt_lines(group.example[:STACK_EXCERPT])
    ids = f" e.g. {', '.join(group.request_ids[:3])}" if group.request_ids else ""
    head = f"{group.count:,}x on {len(group.pods)} pod(s){ids}: {first.strip()}"
    return "\n".join([head, *stack])


def _causes(result: LogScan) -> tuple[Cause, ...]:
    causes: dict[str, Cause] = {}
    for group in result.groups[:TOP_GROUPS]:
        known = classify(group.signature, group.has_stack)
        if known is None or known.key in causes:
            continue
        share = group.count / max(result.error_lines, 1)
        causes[known.key] = Cause(
            key=known.key,
            title=known.title,
            confidence=round(0.3 + 0.4 * share, 2),
            evidence=(f"{group.count:,} log lines: {excerpt(group.example[0], 300)}",),
            guide_section=known.guide_section,
            supports=known.supports,
        )
    return tuple(causes.values())
