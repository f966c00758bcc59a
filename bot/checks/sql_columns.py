"""Which columns of a table a statement filters or joins on, read from its (normalised) text.

A heuristic over pg_stat_statements text, good enough to name candidates for an index hint: it finds
the WHERE and JOIN ... ON clauses, resolves table aliases, and keeps the identifiers that are columns
of the table. It never has to be complete; an empty answer only makes the hint less specific.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# A bare identifier, or a double-quoted one (which may hold spaces, capitals and doubled quotes).
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_TABLE_REF = re.compile(rf"\b(?:from|join|update)\s+(?:{_IDENT}\.)?({_IDENT})(?:\s+(?:as\s+)?({_IDENT}))?", re.I)
# A clause runs from WHERE or ON to the next keyword that ends it.
_CLAUSE = re.compile(
    r"\b(?:where|on)\b(.*?)(?=\b(?:group\s+by|order\s+by|limit|offset|having|union|returning|window|join|"
    r"left|right|inner|full|cross|where|on)\b|\)\s*$|$)",
    re.I | re.S,
)
# An identifier, optionally qualified, that is not a function call.
_COLUMN = re.compile(rf"(?:({_IDENT})\.)?({_IDENT})(?!\s*\()")
_NOT_ALIASES = frozenset({"where", "on", "join", "left", "right", "inner", "full", "cross", "group", "order",
                          "limit", "using", "natural", "set", "values", "returning", "offset", "for"})


def filtered_columns(statement: str, table: str, columns: Iterable[str]) -> tuple[str, ...]:
    """Columns of `table` used in the statement's WHERE/ON clauses, in order of first use."""
    names = {_bare(table)} | _aliases_of(statement, table)
    if _bare(table) not in {_bare(m.group(1)) for m in _TABLE_REF.finditer(statement)}:
        return ()
    known = {c.lower(): c for c in columns}
    found: list[str] = []
    for clause in _CLAUSE.finditer(statement):
        for match in _COLUMN.finditer(clause.group(1)):
            qualifier, name = match.group(1), _bare(match.group(2))
            if qualifier is not None and _bare(qualifier) not in names:
                continue
            column = known.get(name)
            if column is not None and column not in found:
                found.append(column)
    return tuple(found)


def _aliases_of(statement: str, table: str) -> set[str]:
    aliases = set()
    for match in _TABLE_REF.finditer(statement):
        alias = match.group(2)
        if _bare(match.group(1)) == _bare(table) and alias and _bare(alias) not in _NOT_ALIASES:
            aliases.add(_bare(alias))
    return aliases


def _bare(identifier: str) -> str:
    # Case-insensitive even for quoted names: a rare false match costs only a less specific hint.
    if identifier.startswith('"') and identifier.endswith('"'):
        identifier = identifier[1:-1].replace('""', '"')
    return identifier.lower()
