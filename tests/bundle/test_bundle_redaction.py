"""Redaction across the whole bundle when the size cap drops lines: a private key cut by the cap is still a
mark, and a secret on a dropped line shows up nowhere else (error groups, request-ID lines, summary)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.bundle import Bundle, BundleRequest, process
from bot.bundle.collect import Collected, ContainerLog
from bot.model import Target
from bot.sandbox.planted_secrets import ERROR_MESSAGE, PLANTED, STARTUP_LINES, TRACEBACK
from bot.sources.records import LogLine
from tests.bundle.conftest import archive_members

START = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
TARGET = Target("auth-service", "default", "app=auth-service", "auth-service")
KEY_BODY = [f"{PLANTED['private_key_body']}{n:02d}" for n in range(20)]


def log_of(texts: list[str]) -> ContainerLog:
    lines = [LogLine("auth-0", "app", text, ts=START + timedelta(milliseconds=10 * n)) for n, text in enumerate(texts)]
    return ContainerLog("auth-0", "app", False, lines)


def bundle_of(log: ContainerLog, cap: int, alert: str | None = None) -> Bundle:
    until = log.lines[-1].ts or START
    collected = Collected(target=TARGET, since=START, until=until, logs=[log])
    return process(collected, BundleRequest("auth-service", "cli:ops", timedelta(hours=1), alert_text=alert), cap)


def kept_lines(bundle: Bundle) -> list[str]:
    doc = json.loads(archive_members(bundle.archive)["bundle.json"])
    return [line for entry in doc["logs"] for line in entry["lines"]]


def everything(bundle: Bundle) -> str:
    members = archive_members(bundle.archive)
    return "\n".join(data.decode() for data in members.values()) + bundle.summary_line


def test_a_private_key_cut_by_the_size_cap_is_still_redacted() -> None:
    filler = [f"INFO request_id=req-{n:08x} GET /health 200 " + "x" * 60 for n in range(600)]
    texts = [*filler[:300], "Loaded signing key:", "-----BEGIN RSA PRIVATE KEY-----", *KEY_BODY,
             "-----END RSA PRIVATE KEY-----", *filler[300:]]
    log = log_of(texts)
    begin = texts.index("-----BEGIN RSA PRIVATE KEY-----")
    end = texts.index("-----END RSA PRIVATE KEY-----")
    # The smallest cap whose bundle keeps the key's last line: its first lines are then dropped.
    low, high = 10_000, 2_000_000
    while low < high:
        middle = (low + high) // 2
        if len(kept_lines(bundle_of(log, middle))) >= len(texts) - end:
            high = middle
        else:
            low = middle + 1
    cut = bundle_of(log, low + 400)  # a few lines more: from inside the block
    kept = kept_lines(cut)
    first_kept = len(texts) - len(kept)
    assert begin < first_kept <= end, "the cap cuts through the key"
    text = everything(cut)
    assert PLANTED["private_key_body"] not in text
    assert kept[0].endswith("[REDACTED:private_key]")
    assert sum(line.endswith("[REDACTED:private_key]") for line in kept) == end - first_kept + 1
    manifest = json.loads(archive_members(cut.archive)["manifest.json"])
    assert manifest["truncated"] and manifest["redacted"] == {"private_key": 1}


def test_a_secret_on_a_dropped_line_shows_nowhere_else() -> None:
    old = [*STARTUP_LINES, f"ERROR request_id=req-0a1b2c3d POST /auth/validate 500 {ERROR_MESSAGE}", *TRACEBACK,
           f"WARN request_id=req-0e0f1a2b retry with api_key={PLANTED['generic_api_key']}"]
    filler = [f"INFO request_id=req-{n:08x} GET /health 200 " + "x" * 60 for n in range(3000)]
    log = log_of(old + filler)
    bundle = bundle_of(log, 120_000, alert="see sample_request_ids: [req-0a1b2c3d, req-0e0f1a2b]")
    kept = kept_lines(bundle)
    assert 0 < len(kept) < len(filler), "every line with a secret was dropped by the cap"
    text = everything(bundle)
    for kind, secret in PLANTED.items():
        assert secret not in text, kind
    doc = json.loads(archive_members(bundle.archive)["bundle.json"])
    [group] = [g for g in doc["errors"]["groups"] if "KeyError" in g["signature"]]
    assert "[REDACTED:auth_header]" in group["signature"] and group["has_stack_trace"]
    assert any("Bearer [REDACTED:bearer_token]" in line for line in group["example"])
    traced = {r["request_id"]: r for r in doc["request_ids"]}
    assert "[REDACTED:auth_header]" in traced["req-0a1b2c3d"]["lines"][0]
    assert "api_key=[REDACTED:api_key]" in traced["req-0e0f1a2b"]["lines"][0]
    summary = archive_members(bundle.archive)["summary.md"].decode()
    assert "[REDACTED:auth_header]" in summary
