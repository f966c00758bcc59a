"""The pure parts of `opsbot act` / `opsbot audit`: --param and --since parsing, the trail's text lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.cli_remediation import _record_text, parse_duration, parse_params
from bot.store.approvals import AuditEntry, AuditEvent, AuditRecord


def test_parse_params() -> None:
    assert parse_params(["replicas=5", " pod = auth-1 "]) == {"replicas": "5", "pod": "auth-1"}
    assert parse_params(["note=a=b"]) == {"note": "a=b"}  # only the first = separates
    for bad in (["replicas"], ["=5"]):
        with pytest.raises(ValueError, match="KEY=VALUE"):
            parse_params(bad)
    with pytest.raises(ValueError, match=r"--param replicas given twice \(5, 7\): give it once"):
        parse_params(["replicas=5", "replicas=7"])


@pytest.mark.parametrize(("text", "expected"), [("90s", 90), ("30m", 1800), ("2h", 7200), ("7d", 604800)])
def test_parse_duration(text: str, expected: int) -> None:
    assert parse_duration(text) == timedelta(seconds=expected)


@pytest.mark.parametrize("text", ["2", "h", "2 hours", "-1h", "yesterday"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_record_text_names_who_what_and_where() -> None:
    entry = AuditEntry("U0ADMIN", AuditEvent.SUCCEEDED, "scale", "auth-service", "req_abc", {"replicas": "5"},
                       "Scaled auth-service from 3 to 5 replicas", "C0OPS", "1700000000.000100")
    line = _record_text(AuditRecord(seq=1, at=datetime(2026, 11, 28, 11, 2, 3, tzinfo=UTC), entry=entry))
    assert line.startswith("2026-11-28 11:02:03Z  U0ADMIN")
    for part in ("succeeded", "scale auth-service replicas=5", "req_abc", "from 3 to 5",
                 "https://slack.com/archives/C0OPS/p1700000000000100"):
        assert part in line


def test_record_text_abbreviates_a_long_list_the_trail_keeps_whole() -> None:
    pids = ",".join(str(pid) for pid in range(2611, 2623))
    entry = AuditEntry("U0ADMIN", AuditEvent.PROPOSED, "terminate-idle", "api-gateway", "req_abc",
                       {"older_than": "1h", "pids": pids}, "Terminate 12 connection(s)")
    line = _record_text(AuditRecord(seq=1, at=datetime(2026, 11, 28, 11, 2, 3, tzinfo=UTC), entry=entry))
    assert "older_than=1h pids=2611,…(12)" in line and "2622" not in line
    assert entry.params["pids"] == pids  # the record itself is exact; only the display is short
    short = AuditEntry("U0ADMIN", AuditEvent.PROPOSED, "terminate-idle", "api-gateway", "req_abc",
                       {"pids": "7,8,9"}, "")
    assert "pids=7,8,9" in _record_text(AuditRecord(seq=2, at=datetime(2026, 11, 28, tzinfo=UTC), entry=short))
