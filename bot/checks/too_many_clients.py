"""PostgreSQL refusing connections, as the service's own logs say it ("FATAL: sorry, too many clients")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.checks.base import CheckContext, SourceSet
from bot.checks.excerpts import excerpt
from bot.model import Cause, Fact, Finding, Status
from bot.sources.records import LogLine

# The server's two refusals: all slots taken, or only superuser-reserved slots left.
REFUSAL = re.compile(r"too many clients|remaining connection slots are reserved", re.I)
SHOWN = 3
LINE_SHOWN = 300


@dataclass(frozen=True)
class ClientLogEvidence:
    lines: tuple[LogLine, ...]
    unreadable: tuple[str, ...]


class TooManyClientsCheck:
    """"too many clients" / "remaining connection slots" in the service's recent pod logs."""

    name = "too_many_clients"
    title = "Connection refusals in logs"
    guide_section = "Connection Pool Exhaustion"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> ClientLogEvidence:
        lines, unreadable = await sources.kube.recent_logs(ctx.target, ctx.diagnosis.log_tail_lines)
        return ClientLogEvidence(tuple(lines), tuple(unreadable))

    def assess(self, evidence: ClientLogEvidence, ctx: CheckContext) -> Finding:
        if not evidence.lines:
            status = Status.ERROR if evidence.unreadable else Status.NO_DATA
            return Finding(self.name, self.title, status, "No log lines could be read.",
                           evidence=tuple(f"unreadable: {u}" for u in evidence.unreadable[:10]),
                           guide_section=self.guide_section)
        refused = [line for line in evidence.lines if REFUSAL.search(line.text)]
        pods = sorted({line.pod for line in refused})
        tail = ctx.diagnosis.log_tail_lines
        facts = (Fact("refusals logged", f"{len(refused):,}", "0", Status.CRIT if refused else Status.OK),
                 Fact("pods affected", str(len(pods))))
        if not refused:
            return Finding(self.name, self.title, Status.OK,
                           f"No \"too many clients\" refusals in the last {tail:,} lines of the service's logs.",
                           facts=facts, guide_section=self.guide_section)
        excerpts = tuple(f"{line.pod}: {excerpt(line.text, LINE_SHOWN)}" for line in refused[:SHOWN])
        summary = (f"PostgreSQL refused connections {len(refused):,} time(s) in the last {tail:,} log lines "
                   f"of {len(pods)} pod(s) (\"too many clients\").")
        cause = Cause(
            key="db_pool_exhausted",
            title="PostgreSQL is out of connection slots: clients get \"too many clients\"",
            confidence=0.6,
            evidence=(f"{len(refused):,} refusals logged by {', '.join(pods[:5])}", *excerpts),
            guide_section="Connection Pool Exhaustion",
        )
        return Finding(self.name, self.title, Status.CRIT, summary, facts=facts, evidence=excerpts,
                       causes=(cause,), guide_section=self.guide_section)
