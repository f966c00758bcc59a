"""Active queries running longer than query_long_s (the guide's pg_stat_activity query, > 5 seconds)."""

from __future__ import annotations

from bot.checks.base import CheckContext, SourceSet
from bot.checks.db_shared import POSTGRES_NOT_SET, duration, not_configured, one_line
from bot.model import Cause, Fact, Finding, Proposal, Status
from bot.sources.db_records import ActiveQuery

SHOWN = 5
CANCEL_PROPOSED = 3
# A query running ten times the limit is no longer "slow": it holds locks and a connection indefinitely.
CRIT_FACTOR = 10


class LongQueriesCheck:
    """Active queries older than query_long_s (default 5 s), longest first, with their pid."""

    name = "long_queries"
    title = "Long-running queries"
    guide_section = "Slow Database Queries"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> tuple[ActiveQuery, ...] | None:
        if sources.postgres is None:
            return None
        return await sources.postgres.long_queries(ctx.thresholds.query_long_s)

    def assess(self, evidence: tuple[ActiveQuery, ...] | None, ctx: CheckContext) -> Finding:
        if evidence is None:
            return not_configured(self.name, self.title, self.guide_section, POSTGRES_NOT_SET)
        limit = ctx.thresholds.query_long_s
        queries = sorted(evidence, key=lambda q: -q.duration_s)
        if not queries:
            return Finding(self.name, self.title, Status.OK,
                           f"No active query has been running longer than {duration(limit)}.",
                           facts=(Fact("queries > limit", "0", duration(limit)),), guide_section=self.guide_section)
        longest = queries[0]
        status = Status.CRIT if longest.duration_s >= CRIT_FACTOR * limit else Status.WARN
        summary = (
            f"{len(queries)} active quer{'y has' if len(queries) == 1 else 'ies have'} been running longer than "
            f"{duration(limit)}; the longest, pid {longest.pid} ({longest.application or 'no application_name'}), "
            f"for {duration(longest.duration_s)}."
        )
        facts = (
            Fact("queries > limit", str(len(queries)), duration(limit), status),
            Fact("longest", duration(longest.duration_s)),
        )
        lines = tuple(_line(q) for q in queries[:SHOWN])
        return Finding(self.name, self.title, status, summary, facts=facts, evidence=lines,
                       causes=(_cause(queries, limit),), guide_section=self.guide_section)


def _line(query: ActiveQuery) -> str:
    wait = f", waiting on {query.wait_event}" if query.wait_event else ""
    app = query.application or "no application_name"
    return f"pid {query.pid} ({app}, {duration(query.duration_s)}{wait}): {one_line(query.query)}"


def _cause(queries: list[ActiveQuery], limit: float) -> Cause:
    proposals = tuple(
        Proposal("cancel-query", {"pid": str(q.pid)},
                 f"cancel pid {q.pid} ({q.application or 'no application_name'}), running {duration(q.duration_s)}")
        for q in queries[:CANCEL_PROPOSED]
    )
    return Cause(
        key="long_running_query",
        title=f"Long-running query: pid {queries[0].pid} for {duration(queries[0].duration_s)}",
        confidence=round(min(0.5 + 0.1 * (len(queries) - 1), 0.8), 2),
        evidence=(f"active queries over {duration(limit)}: {len(queries)}", *(_line(q) for q in queries[:3])),
        guide_section="Slow Database Queries",
        proposals=proposals,
    )
