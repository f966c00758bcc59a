"""`bot.logscan.request_ids`: the named IDs, then the bare `req-...` ones, in order — on ASCII lines (the fast
path: the pattern on the lower-cased line) and on non-ASCII ones (the case-insensitive pattern) alike."""

from __future__ import annotations

import re

import pytest

from bot.logscan import BARE_REQUEST_ID, REQUEST_ID, request_ids

CASES = [
    ("2026-11-28T10:07:12.431Z ERROR [auth-service] request_id=req-8f2c1a9e POST /auth/validate 500 KeyError",
     ["req-8f2c1a9e"]),
    ("2026-11-28T10:07:12.431Z WARN [auth-service] Request-ID: AbC123xyz retry", ["AbC123xyz"]),
    ('X-Request-Id: "Deadbeef-0001" trace_id=4bf92f3577b34da6a3ce929d0e0e4736 TRACE-ID = Ab.cd_ef-12',
     ["Deadbeef-0001", "4bf92f3577b34da6a3ce929d0e0e4736", "Ab.cd_ef-12"]),
    # Too short a value is no ID; too long a one is cut at 64 characters.
    ("reqid='abcdef' REQ_ID:zzzzzz9 req-id=short req_id=toolong" + "x" * 80,
     ["abcdef", "zzzzzz9", "toolong" + "x" * 57]),
    # Bare IDs: a word of their own, 6 to 32 hex digits; repeated ones are listed as often as they occur.
    ("upstream req-0a1b2c3d and req-0a1b2c3d again, xreq-0a1b2c3d, req-0A1B2C, req-0a1b2c3d4e5f",
     ["req-0a1b2c3d", "req-0a1b2c3d", "req-0A1B2C", "req-0a1b2c3d4e5f"]),
    ("req-req-0a1b2c3d4e req-12345 req-1234567890abcdef1234567890abcdef12 (req-abcdef)",
     ["req-0a1b2c3d4e", "req-abcdef"]),
    # A bare ID already named is not listed twice.
    ("request_id=req-8f2c1a9e also req-8f2c1a9e", ["req-8f2c1a9e"]),
    ("nothing to see here", []),
    ("", []),
    ("request_id=", []),
    ("trace_id\t=\t'tab-separated-1'", ["tab-separated-1"]),
    # Non-ASCII lines take the case-insensitive pattern (lower-casing may change them).
    ("ǅ request_id=req-8f2c1a9e (non-ASCII)", ["req-8f2c1a9e"]),
    ("REQUEST_İD=abcdef123 KEY", ["abcdef123"]),
    ("Ünïcode REQUEST-ID: AbC123xyz then req-0a1b2c3d", ["AbC123xyz", "req-0a1b2c3d"]),
]


@pytest.mark.parametrize(("line", "ids"), CASES)
def test_request_ids(line: str, ids: list[str]) -> None:
    assert request_ids(line) == ids


def _as_the_patterns_read(line: str) -> list[str]:
    """The definition the fast path must keep: the case-insensitive pattern on the line as written."""
    found = [m.group(1) for m in REQUEST_ID.finditer(line)]
    return found + [m.group(0) for m in BARE_REQUEST_ID.finditer(line) if m.group(0) not in found]


@pytest.mark.parametrize("prefix", ["", "é "])  # ASCII lines, and the same lines made non-ASCII
def test_generated_lines_give_what_the_patterns_read(prefix: str) -> None:
    names = ["request_id", "Request-Id", "REQID", "req_id", "x-request-id", "X-REQUEST-ID", "trace-id", "TraceId"]
    seps = ["=", ": ", " = '", '":"', "=\"", ":"]
    values = ["req-0a1b2c", "AbCdEf-123", "x" * 70, "abc", "9f8e7d6c5b4a"]
    for n, (name, sep, value) in enumerate((a, b, c) for a in names for b in seps for c in values):
        line = f"{prefix}{n} ERROR {name}{sep}{value} req-{n:08x} tail"
        assert request_ids(line) == _as_the_patterns_read(line), line


def test_bare_ids_start_with_the_literal_the_fast_path_looks_for() -> None:
    assert BARE_REQUEST_ID.pattern.startswith(r"\breq-") and not BARE_REQUEST_ID.flags & re.IGNORECASE
