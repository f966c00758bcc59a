"""Literal values in statement text are masked; names, placeholders and quoted identifiers are kept."""

import pytest

from bot.sources.sql_text import mask_literals


@pytest.mark.parametrize(("query", "masked"), [
    ("ALTER ROLE app PASSWORD 'hun''ter2'", "ALTER ROLE app PASSWORD '?'"),
    ("SELECT * FROM users WHERE email = 'ann@example.com' LIMIT 5", "SELECT * FROM users WHERE email = '?' LIMIT ?"),
    ("SELECT $$s3cret$$, $fn$a $$ b$fn$, 1", "SELECT '?', '?', ?"),
    (r"SELECT E'it\'s', U&'d\0061t', B'101', x'1F'", "SELECT '?', '?', '?', '?'"),
    ('SELECT t1.col_2 FROM "Weird ""T9""" WHERE a = $1 AND b = -3.5e2 AND c = .5',
     'SELECT t1.col_2 FROM "Weird ""T9""" WHERE a = $1 AND b = -? AND c = ?'),
    ("SELECT 1 -- password=x\nFROM t /* key=y */", "SELECT ? --\nFROM t /* */"),
    # The source reads at most 500 characters: a literal cut short is still masked to the end.
    ("UPDATE users SET token = 'abcdefgh", "UPDATE users SET token = '?'"),
    ("SELECT $$never closed", "SELECT '?'"),
    ("SELECT '--not a comment', 2", "SELECT '?', ?"),
])
def test_literals_are_masked(query: str, masked: str) -> None:
    assert mask_literals(query) == masked
