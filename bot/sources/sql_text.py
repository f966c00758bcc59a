"""Statement text with its literal values masked, before it leaves the PostgreSQL source.

`pg_stat_activity.query` is the statement as the client sent it: `ALTER ROLE app PASSWORD 'hunter2'`,
`WHERE email = 'ann@example.com'`. Findings are posted to Slack, so string, dollar-quoted and numeric
literals become `'?'` / `?` (what pg_stat_statements does with `$1`), and comment bodies are dropped. Quoted
identifiers, `$n` placeholders and names that contain digits are left as they are: they say which table and
column, which is what the on-call engineer needs.
"""

from __future__ import annotations

import re

# One left-to-right scan, so a quote inside a comment or a `--` inside a string is read in its context.
# Unterminated forms run to the end: the source reads at most QUERY_TEXT_CHARS, which may cut a literal.
_TOKENS = re.compile(
    r"""
    (?P<dollar>\$(?P<tag>(?:[A-Za-z_][A-Za-z0-9_]*)?)\$.*?(?:\$(?P=tag)\$|\Z))  # $$..$$, $fn$..$fn$
    | (?P<escaped>[Ee]'(?:[^'\\]|''|\\.)*(?:'|\Z))                          # E'..\'..'
    | (?P<string>(?:[BbXxNn]|[Uu]&)?'(?:[^']|'')*(?:'|\Z))                  # '..', B'..', U&'..'
    | (?P<ident>"(?:[^"]|"")*(?:"|\Z))                                      # "Quoted Identifier"
    | (?P<line_comment>--[^\n]*)
    | (?P<block_comment>/\*.*?(?:\*/|\Z))
    | (?P<placeholder>\$\d+)
    | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)                                     # t1, col_2: not numbers
    | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[Ee][+-]?\d+)?)
    """,
    re.VERBOSE | re.DOTALL,
)
_MASKS = {"dollar": "'?'", "escaped": "'?'", "string": "'?'", "number": "?",
          "line_comment": "--", "block_comment": "/* */"}


def mask_literals(query: str) -> str:
    """`SELECT * FROM users WHERE email = 'a@b.c' LIMIT 5` -> `SELECT * FROM users WHERE email = '?' LIMIT ?`."""
    return _TOKENS.sub(_mask, query)


def _mask(match: re.Match[str]) -> str:
    kind = match.lastgroup
    return _MASKS.get(kind, match.group(0)) if kind else match.group(0)
