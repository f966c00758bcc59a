"""Keeping a bundle under its size cap: log lines go, oldest first, across all containers at once.

The newest lines are what an incident is about, and errors, request IDs and metrics are already distilled
elsewhere in the bundle, so the raw log excerpt is what gives way. What was dropped is noted in the manifest.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate, islice, repeat
from operator import add, attrgetter, le
from typing import Any, cast

from bot.bundle.collect import ContainerLog
from bot.sources.records import LogLine

_OLDEST = datetime.min.replace(tzinfo=UTC)
# JSON framing of one line in the `lines` array beyond its own quoted text: indent, comma, newline.
_LINE_OVERHEAD = 8
# A timestamp prefix (~33 chars) and the framing: a line's size beyond its text and the text's escapes.
_LINE_FIXED = 33 + _LINE_OVERHEAD
_STEP = timedelta(microseconds=1)
_TS = attrgetter("ts")
_TEXT = attrgetter("text")


@dataclass(frozen=True)
class Fit:
    logs: list[ContainerLog]
    dropped_lines: int
    kept_from: datetime | None  # the oldest line kept, when some were dropped


class LogFitter:
    """Keeps the newest lines whose serialised size fits a budget; the rest are dropped, oldest first.

    Each container's lines are in time order, so "keep everything from time T on" is a suffix of each; T is
    found by bisecting time, which stays fast for hundreds of thousands of lines. Sizes are prepared once, so
    trying a tighter budget (when the estimate fell short) costs only the search.
    """

    def __init__(self, logs: list[ContainerLog]) -> None:
        self.logs: list[ContainerLog] = []
        self.stamps: list[list[datetime]] = []
        for entry in logs:
            ordered, stamps = _in_time_order(entry)
            self.logs.append(ordered)
            self.stamps.append(stamps)
        # costs[i][k-1]: the serialised size of the last k lines of log i.
        self.costs = [_suffix_costs(entry.lines) for entry in self.logs]
        self.lines = sum(len(entry.lines) for entry in self.logs)

    def fit(self, budget: int) -> Fit:
        if sum(c[-1] for c in self.costs if c) <= budget:
            return Fit(self.logs, 0, None)
        columns = [column for column in self.stamps if column]
        newest, oldest = max(c[-1] for c in columns), min(c[0] for c in columns)
        if self._size_from(newest) > budget:
            return Fit([_suffix(entry, 0) for entry in self.logs], self.lines, None)
        low, high = 0, (newest - oldest) // _STEP  # steps back from the newest line: low fits, high may not
        while low < high:
            middle = (low + high + 1) // 2
            if self._size_from(newest - middle * _STEP) <= budget:
                low = middle
            else:
                high = middle - 1
        cutoff = newest - low * _STEP
        kept = [_suffix(entry, len(column) - bisect.bisect_left(column, cutoff))
                for entry, column in zip(self.logs, self.stamps, strict=True)]
        dropped = self.lines - sum(len(e.lines) for e in kept)
        return Fit(kept, dropped, min((e.lines[0].ts for e in kept if e.lines and e.lines[0].ts), default=cutoff))

    def _size_from(self, cutoff: datetime) -> int:
        size = 0
        for column, cost in zip(self.stamps, self.costs, strict=True):
            kept = len(column) - bisect.bisect_left(column, cutoff)
            size += cost[kept - 1] if kept else 0
        return size


def fit_logs(logs: list[ContainerLog], budget: int) -> Fit:
    return LogFitter(logs).fit(budget)


def serialised_size(value: Any) -> int:
    return len(json.dumps(value, indent=1, ensure_ascii=False).encode())


def _suffix_costs(lines: list[LogLine]) -> list[int]:
    """Running totals, from the newest line back, of each line's serialised size: its text, its JSON escapes
    (quotes and backslashes) and `_LINE_FIXED`. Non-ASCII text takes more bytes than characters: the caller
    checks the real size and tightens the budget if needed. Built from `map` over C functions rather than a
    Python function per line: this runs over every line a bundle collects (200,000 in the bench)."""
    texts = list(map(_TEXT, reversed(lines)))
    sizes: Iterator[int] = map(len, texts)
    joined = "".join(texts)
    for escaped in ('"', "\\"):
        if escaped in joined:  # many logs hold no backslash (or quote) at all: then there is nothing to count
            sizes = map(add, sizes, map(str.count, texts, repeat(escaped)))
    return list(accumulate(map(add, sizes, repeat(_LINE_FIXED))))


def _in_time_order(entry: ContainerLog) -> tuple[ContainerLog, list[datetime]]:
    """Runtime timestamps normally only grow; if a log says otherwise, order it so that bisecting holds.
    Returns the log and its lines' timestamps (a line without one counts as the oldest)."""
    stamps = _stamps(entry.lines)
    if all(map(le, stamps, islice(stamps, 1, None))):
        return entry, stamps
    lines = sorted(entry.lines, key=lambda line: line.ts or _OLDEST)
    return ContainerLog(entry.pod, entry.container, entry.previous, lines), _stamps(lines)


def _stamps(lines: list[LogLine]) -> list[datetime]:
    stamps: list[datetime | None] = list(map(_TS, lines))
    if all(stamps):  # a datetime is always true: this only looks for missing ones, at C speed
        return cast(list[datetime], stamps)
    return [at or _OLDEST for at in stamps]


def _suffix(entry: ContainerLog, keep: int) -> ContainerLog:
    lines = entry.lines[len(entry.lines) - keep :] if keep else []
    return ContainerLog(entry.pod, entry.container, entry.previous, lines)
