"""Request IDs of failed requests: the alert's first, then the metrics API's, then the logs' newest; each quoted
with its own lines; only so many kept, the rest counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.bundle.collect import ContainerLog
from bot.bundle.error_groups import scan_errors
from bot.bundle.request_ids import MAX_REQUEST_IDS, trace_requests
from bot.sources.records import ErrorSample, LogLine

START = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def failing_log(pod: str, count: int) -> ContainerLog:
    lines = []
    for n in range(count):
        at = START + timedelta(seconds=n)
        lines.append(LogLine(pod, "app", f"{at:%H:%M:%S} ERROR request_id=req-{pod}{n:06x} POST /x 500 boom", ts=at))
        lines.append(LogLine(pod, "app", "Traceback (most recent call last):", ts=at))
        lines.append(LogLine(pod, "app", f"  File \"/app/x.py\", line {n}, in handler", ts=at))
        lines.append(LogLine(pod, "app", f"{at:%H:%M:%S} INFO request_id=req-0f{n:06x} GET /ok 200", ts=at))
    return ContainerLog(pod, "app", False, lines)


def test_the_alert_then_the_metrics_then_the_newest_failures_and_the_rest_counted() -> None:
    logs = [failing_log("aa", 300), failing_log("bb", 300)]
    logs[1].lines.append(LogLine("bb", "app", "12:00:00 WARN request_id=req-aa000005 retried", ts=START))
    scan = scan_errors(logs)
    sample = ErrorSample("req-bb000007", 500, "POST /x", "boom")
    traced = trace_requests(logs, scan, (sample,), "alert: sample_request_ids: [req-aa000005]")
    ids = [t.request_id for t in traced.requests]
    assert len(ids) == MAX_REQUEST_IDS and traced.dropped == 600 - MAX_REQUEST_IDS
    assert ids[:2] == ["req-aa000005", "req-bb000007"]
    assert ids[2:4] == ["req-aa00012b", "req-bb00012b"], "newest first; a tie keeps scan order"
    first, second = traced.requests[0], traced.requests[1]
    assert first.sources == ["alert", "logs"]
    # Its ERROR line with the stack trace under it, then the WARN line that named it again.
    assert first.lines == [f"aa/app: {line.text}" for line in logs[0].lines[20:23]] + \
        ["bb/app: 12:00:00 WARN request_id=req-aa000005 retried"]
    assert second.sources == ["metrics", "logs"] and second.status == 500 and second.endpoint == "POST /x"
    assert all(t.sources == ["logs"] and len(t.lines) == 3 for t in traced.requests[2:])


def test_an_id_only_the_alert_names_is_looked_for_in_every_line() -> None:
    logs = [failing_log("aa", 3)]
    traced = trace_requests(logs, scan_errors(logs), (), "see req-0f000001")
    assert traced.requests[0].request_id == "req-0f000001"
    assert traced.requests[0].lines == ["aa/app: " + logs[0].lines[7].text]
    assert traced.dropped == 0
