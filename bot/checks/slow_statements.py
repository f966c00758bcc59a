"""Statements slowest on average in pg_stat_statements, flagged above query_slow_s (guide: > 1 second)."""

from __future__ import annotations

import re

from bot.checks.base import CheckContext, SourceSet
from bot.checks.db_shared import POSTGRES_NOT_SET, duration, not_configured, one_line
from bot.model import Cause, Fact, Finding, Status
from bot.sources.db_records import StatementStats

TOP = 10
SHOWN = 5
FILTERS = re.compile(r"\b(where|join)\b", re.I)


class SlowStatementsCheck:
    """pg_stat_statements top statements by mean time; mean above query_slow_s (default 1 s) is slow."""

    name = "slow_statements"
    title = "Slow statements"
    guide_section = "Slow Database Queries"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> tuple[StatementStats, ...] | None:
        if sources.postgres is None:
            return None
        return await sources.postgres.top_statements(TOP)

    def assess(self, evidence: tuple[StatementStats, ...] | None, ctx: CheckContext) -> Finding:
        if evidence is None:
            return not_configured(self.name, self.title, self.guide_section, POSTGRES_NOT_SET)
        limit_s = ctx.thresholds.query_slow_s
        if not evidence:
            return Finding(self.name, self.title, Status.NO_DATA,
                           "pg_stat_statements has no statements for this database yet.",
                           guide_section=self.guide_section)
        ranked = sorted(evidence, key=lambda s: -s.mean_ms)
        slow = [s for s in ranked if s.mean_ms / 1000 > limit_s]
        worst = ranked[0]
        # Slower on average than a query the guide calls long-running is critical, not merely slow.
        status = (Status.CRIT if worst.mean_ms / 1000 > ctx.thresholds.query_long_s
                  else Status.WARN if slow else Status.OK)
        if slow:
            summary = (f"{len(slow)} statement(s) average more than {duration(limit_s)}; the slowest averages "
                       f"{duration(worst.mean_ms / 1000)} over {worst.calls:,} call(s).")
        else:
            summary = (f"No statement averages more than {duration(limit_s)}; the slowest averages "
                       f"{duration(worst.mean_ms / 1000)}.")
        facts = (
            Fact("slow statements", str(len(slow)), f"mean > {duration(limit_s)}", status),
            Fact("slowest mean", duration(worst.mean_ms / 1000)),
        )
        lines = tuple(_line(s) for s in (slow or ranked)[:SHOWN])
        causes = (_cause(slow),) if slow else ()
        return Finding(self.name, self.title, status, summary, facts=facts, evidence=lines, causes=causes,
                       guide_section=self.guide_section)


def _line(stmt: StatementStats) -> str:
    return (f"mean {duration(stmt.mean_ms / 1000)}, max {duration(stmt.max_ms / 1000)}, {stmt.calls:,} call(s): "
            f"{one_line(stmt.query)}")


def _cause(slow: list[StatementStats]) -> Cause:
    filtering = [s for s in slow if FILTERS.search(s.query)]
    # A missing index is the guide's first explanation for a slow statement that filters or joins; when
    # one is found those statements are its evidence rather than a separate cause. A bulk load or a
    # pg_sleep has nothing an index could speed up, so it stands on its own.
    shown = filtering or slow
    return Cause(
        key="slow_query",
        title=f"Slow statement: mean {duration(shown[0].mean_ms / 1000)}: {one_line(shown[0].query, 80)}",
        confidence=0.4,
        evidence=tuple(_line(s) for s in shown[:3]),
        guide_section="Slow Database Queries",
        supports=("missing_index",) if filtering else (),
    )
