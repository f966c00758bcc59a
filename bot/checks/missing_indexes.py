"""Tables read by sequential scans far more than by index scans: the guide's "add missing indices"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.checks.base import CheckContext, SourceSet
from bot.checks.db_shared import POSTGRES_NOT_SET, not_configured, one_line
from bot.checks.sql_columns import filtered_columns
from bot.model import Cause, Fact, Finding, Status
from bot.sources.db_records import StatementStats, TableScans
from bot.sources.errors import SourceError

# Below this many rows a sequential scan is as cheap as an index lookup; the planner is right to use it.
MIN_ROWS = 10_000
# A handful of scans (a nightly report, an ANALYZE) is not a pattern.
MIN_SEQ_SCANS = 5
# "Many sequential scans and few index scans": sequential scans outnumber index scans this many times.
SEQ_TO_INDEX_RATIO = 10
STATEMENTS_READ = 50
SHOWN = 3
PLAIN_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class IndexEvidence:
    tables: tuple[TableScans, ...]
    statements: tuple[StatementStats, ...]
    statements_error: str | None = None


@dataclass(frozen=True)
class Suspect:
    table: TableScans
    columns: tuple[str, ...]
    statement: StatementStats | None

    @property
    def hint(self) -> str:
        """The guide's CREATE INDEX, as text for a person to review; opsbot never runs it."""
        name = f"{_ident(self.table.schema)}.{_ident(self.table.table)}"
        if not self.columns:
            return (f"EXPLAIN ANALYZE the statements filtering {name}, then CREATE INDEX on the columns in "
                    "their WHERE/JOIN clauses")
        cols = self.columns[:2]  # the guide's composite example uses two columns
        index = _ident(f"idx_{self.table.table}_{'_'.join(cols)}")
        return f"CREATE INDEX {index} ON {name}({', '.join(_ident(c) for c in cols)});"


class MissingIndexesCheck:
    """Tables with many rows read by sequential scans far more than by index scans, with the filtered columns."""

    name = "missing_indexes"
    title = "Missing indexes"
    guide_section = "Slow Database Queries"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> IndexEvidence | None:
        if sources.postgres is None:
            return None
        tables = await sources.postgres.table_scans()
        try:
            statements = await sources.postgres.top_statements(STATEMENTS_READ)
        except SourceError as exc:
            # Scan counters alone still name the table; the statements only add the columns.
            return IndexEvidence(tables, (), exc.message)
        return IndexEvidence(tables, statements)

    def assess(self, evidence: IndexEvidence | None, ctx: CheckContext) -> Finding:
        if evidence is None:
            return not_configured(self.name, self.title, self.guide_section, POSTGRES_NOT_SET)
        suspects = [_suspect(t, evidence.statements) for t in evidence.tables if _scanned_without_index(t)]
        suspects.sort(key=lambda s: -s.table.seq_tup_read)
        note = f" Statement texts unavailable: {evidence.statements_error}" if evidence.statements_error else ""
        if not suspects:
            return Finding(self.name, self.title, Status.OK,
                           f"No table of {MIN_ROWS:,}+ rows is read mostly by sequential scans.{note}",
                           guide_section=self.guide_section)
        summary = f"{len(suspects)} table(s) read mostly by sequential scans: " + "; ".join(
            _describe(s) for s in suspects[:SHOWN]) + f".{note}"
        facts = tuple(
            Fact(f"{s.table.table} scans", f"{s.table.seq_scan:,} seq / {s.table.idx_scan:,} index",
                 f"{SEQ_TO_INDEX_RATIO}:1", Status.WARN)
            for s in suspects[:SHOWN]
        )
        lines = tuple(line for s in suspects[:SHOWN] for line in _lines(s))
        return Finding(self.name, self.title, Status.WARN, summary, facts=facts, evidence=lines,
                       causes=(_cause(suspects),), guide_section=self.guide_section)


def _scanned_without_index(table: TableScans) -> bool:
    return (
        table.live_rows >= MIN_ROWS
        and table.seq_scan >= MIN_SEQ_SCANS
        and table.seq_scan > SEQ_TO_INDEX_RATIO * table.idx_scan
    )


def _suspect(table: TableScans, statements: tuple[StatementStats, ...]) -> Suspect:
    # Slowest statements first: their columns are the ones worth an index.
    for stmt in sorted(statements, key=lambda s: -s.mean_ms):
        used = filtered_columns(stmt.query, table.table, table.columns)
        # A column already leading an index and still scanned sequentially is not selective enough to help.
        columns = tuple(c for c in used if c not in table.indexed_columns)
        if columns:
            return Suspect(table, columns, stmt)
    return Suspect(table, (), None)


def _describe(suspect: Suspect) -> str:
    t = suspect.table
    on = f", filtered on {', '.join(suspect.columns)}" if suspect.columns else ""
    return f"{t.schema}.{t.table} ({t.live_rows:,} rows, {t.seq_scan:,} seq scans vs {t.idx_scan:,} index scans{on})"


def _lines(suspect: Suspect) -> list[str]:
    lines = [_describe(suspect), f"hint (not executed): {suspect.hint}"]
    if suspect.statement is not None:
        lines.append(f"statement: {one_line(suspect.statement.query)}")
    return lines


def _cause(suspects: list[Suspect]) -> Cause:
    top = suspects[0]
    on = f" ({', '.join(top.columns)})" if top.columns else ""
    return Cause(
        key="missing_index",
        title=f"Missing index on {top.table.schema}.{top.table.table}{on}",
        # Naming the column from a real statement makes the explanation much more specific.
        confidence=0.5 if top.columns else 0.35,
        evidence=tuple(line for s in suspects[:SHOWN] for line in _lines(s)),
        guide_section="Slow Database Queries",
    )


def _ident(name: str) -> str:
    """An identifier as it must be written in the hint: bare when plain, else double-quoted."""
    return name if PLAIN_IDENTIFIER.fullmatch(name) else '"' + name.replace('"', '""') + '"'
