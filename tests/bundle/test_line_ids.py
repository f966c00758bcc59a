"""The bundle's request-ID reader gives logscan's answers (the same IDs, in the same order) for every line."""

from __future__ import annotations

import re

import pytest

from bot.bundle.line_ids import request_ids
from bot.logscan import BARE_REQUEST_ID
from bot.logscan import request_ids as logscan_request_ids

LINES = [
    "2026-11-28T10:07:12.431Z ERROR [auth-service] request_id=req-8f2c1a9e POST /auth/validate 500 KeyError",
    "2026-11-28T10:07:12.431Z WARN [auth-service] Request-ID: AbC123xyz retry",
    'X-Request-Id: "Deadbeef-0001" trace_id=4bf92f3577b34da6a3ce929d0e0e4736 TRACE-ID = Ab.cd_ef-12',
    "reqid='abcdef' REQ_ID:zzzzzz9 req-id=short req_id=toolong" + "x" * 80,
    "upstream req-0a1b2c3d and req-0a1b2c3d again, xreq-0a1b2c3d, req-0A1B2C, req-0a1b2c3d4e5f",
    "req-req-0a1b2c3d4e req-12345 req-1234567890abcdef1234567890abcdef12 (req-abcdef)",
    "request_id=req-8f2c1a9e also req-8f2c1a9e",
    "nothing to see here",
    "",
    "request_id=",
    "ǅ request_id=req-8f2c1a9e (non-ASCII: handed to logscan)",
    "REQUEST_İD=abcdef123 KEY",
    "trace_id\t=\t'tab-separated-1'",
]


@pytest.mark.parametrize("line", LINES)
def test_the_same_ids_as_logscan(line: str) -> None:
    assert request_ids(line) == logscan_request_ids(line)


def test_the_same_ids_as_logscan_on_generated_lines() -> None:
    names = ["request_id", "Request-Id", "REQID", "req_id", "x-request-id", "X-REQUEST-ID", "trace-id", "TraceId"]
    seps = ["=", ": ", " = '", '":"', "=\"", ":"]
    values = ["req-0a1b2c", "AbCdEf-123", "x" * 70, "abc", "9f8e7d6c5b4a"]
    for n, (name, sep, value) in enumerate((a, b, c) for a in names for b in seps for c in values):
        line = f"{n} ERROR {name}{sep}{value} req-{n:08x} tail"
        assert request_ids(line) == logscan_request_ids(line), line


def test_bare_ids_start_with_the_literal_the_fast_path_looks_for() -> None:
    assert BARE_REQUEST_ID.pattern.startswith(r"\breq-") and not BARE_REQUEST_ID.flags & re.IGNORECASE
