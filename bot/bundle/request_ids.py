"""Request IDs of failed requests, from three places — the logs, the metrics API's error samples and the
message that started the thread — each quoted with its own log lines, so support can follow one request."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice

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
    alert = _alert_ids(alert_text)
    first = _first_places(scan)
    # Every ID in order, but a `TracedRequest` only for those kept: a window can hold tens of thousands of
    # failed requests, and only the count of the others is reported.
    ordered = dict.fromkeys([*alert, *(sample.request_id for sample in samples), *_newest_first(logs, first)])
    traced = {rid: TracedRequest(rid) for rid in islice(ordered, MAX_REQUEST_IDS)}
    for rid in alert:
        if rid in traced:
            traced[rid].sources.append("alert")
    for sample in samples:
        entry = traced.get(sample.request_id)
        if entry is not None:
            entry.sources.append("metrics")
            entry.status, entry.endpoint, entry.message = sample.status, sample.endpoint, sample.message
    places = _places_of(scan, traced)
    searched = 0
    for entry in traced.values():
        found = places.get(entry.request_id)
        if found:
            entry.sources.append("logs")
            entry.lines = _lines_at(logs, found)
        elif searched < MAX_SEARCHED:
            searched += 1
            entry.lines = _search(logs, entry.request_id)
            if entry.lines:
                entry.sources.append("logs")
    return RequestIds(list(traced.values()), max(0, len(ordered) - MAX_REQUEST_IDS))


def _first_places(scan: ErrorScan) -> dict[str, Place]:
    first: dict[str, Place] = {}
    for rid, place in scan.failed_requests:
        first.setdefault(rid, place)
    return first


def _places_of(scan: ErrorScan, wanted: Container[str]) -> dict[str, list[Place]]:
    places: dict[str, list[Place]] = {}
    for rid, place in scan.failed_requests:
        if rid in wanted:
            places.setdefault(rid, []).append(place)
    return places


def _newest_first(logs: list[ContainerLog], first: dict[str, Place]) -> list[str]:
    def when(rid: str) -> datetime:
        log, line, _ = first[rid]
        return logs[log].lines[line].ts or _NEVER

    return sorted(first, key=when, reverse=True)


def _alert_ids(text: str | None) -> list[str]:
    if not text:
        return []
    found = list(ids_in_alert(text))
    found += [rid for rid in ids_in_line(text) if rid not in found]
    return found


def _lines_at(logs: list[ContainerLog], places: list[Place]) -> list[str]:
    out: list[str] = []
    for log, start, length in places:
        entry = logs[log]
        for line in entry.lines[start : start + length]:
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
