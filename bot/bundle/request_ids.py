"""Request IDs of failed requests, from three places — the logs, the metrics API's error samples and the
message that started the thread — each quoted with its own log lines, so support can follow one request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.bundle.collect import ContainerLog
from bot.bundle.error_groups import ErrorScan, Place
from bot.logscan import request_ids as ids_in_line
from bot.sources.records import ErrorSample
from bot.triage.labels import request_ids as ids_in_alert

MAX_REQUEST_IDS = 50
MAX_LINES_PER_ID = 40
# IDs named by the metrics API or the alert but logged on no failed line are looked for in every line;
# this bounds that slower search.
MAX_SEARCHED = 20
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass
class TracedRequest:
    request_id: str
    sources: list[str] = field(default_factory=list)  # "alert", "metrics", "logs"
    status: int | None = None
    endpoint: str | None = None
    message: str | None = None
    lines: list[str] = field(default_factory=list)  # "pod/container: <line>"


@dataclass(frozen=True)
class RequestIds:
    requests: list[TracedRequest]
    dropped: int  # failed requests beyond MAX_REQUEST_IDS, left out


def trace_requests(
    logs: list[ContainerLog], scan: ErrorScan, samples: tuple[ErrorSample, ...], alert_text: str | None
) -> RequestIds:
    """The alert's IDs first (that is what the person is asking about), then the metrics API's, then the
    logs' newest failures."""
    traced: dict[str, TracedRequest] = {}
    for rid in _alert_ids(alert_text):
        traced.setdefault(rid, TracedRequest(rid)).sources.append("alert")
    for sample in samples:
        entry = traced.setdefault(sample.request_id, TracedRequest(sample.request_id))
        entry.sources.append("metrics")
        entry.status, entry.endpoint, entry.message = sample.status, sample.endpoint, sample.message
    for rid in _newest_first(logs, scan):
        traced.setdefault(rid, TracedRequest(rid))
    kept = list(traced.values())[:MAX_REQUEST_IDS]
    searched = 0
    for entry in kept:
        places = scan.failed_requests.get(entry.request_id)
        if places:
            entry.sources.append("logs")
            entry.lines = _lines_at(logs, places)
        elif searched < MAX_SEARCHED:
            searched += 1
            entry.lines = _search(logs, entry.request_id)
            if entry.lines:
                entry.sources.append("logs")
    return RequestIds(kept, max(0, len(traced) - MAX_REQUEST_IDS))


def _newest_first(logs: list[ContainerLog], scan: ErrorScan) -> list[str]:
    def when(rid: str) -> datetime:
        place = scan.failed_requests[rid][0]
        return logs[place.log].lines[place.line].ts or _NEVER

    return sorted(scan.failed_requests, key=when, reverse=True)


def _alert_ids(text: str | None) -> list[str]:
    if not text:
        return []
    found = list(ids_in_alert(text))
    found += [rid for rid in ids_in_line(text) if rid not in found]
    return found


def _lines_at(logs: list[ContainerLog], places: list[Place]) -> list[str]:
    out: list[str] = []
    for place in places:
        entry = logs[place.log]
        for line in entry.lines[place.line : place.line + place.length]:
            out.append(f"{entry.name}: {line.text}")
            if len(out) >= MAX_LINES_PER_ID:
                return out
    return out


def _search(logs: list[ContainerLog], request_id: str) -> list[str]:
    out: list[str] = []
    for entry in logs:
        for line in entry.lines:
            if request_id in line.text:
                out.append(f"{entry.name}: {line.text}")
                if len(out) >= MAX_LINES_PER_ID:
                    return out
    return out
