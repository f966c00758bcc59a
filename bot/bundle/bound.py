"""Keeping a bundle under its size cap: log lines go, oldest first, across all containers at once.

The newest lines are what an incident is about, and errors, request IDs and metrics are already distilled
elsewhere in the bundle, so the raw log excerpt is what gives way. What was dropped is noted in the manifest.
"""

from __future__ import annotations

import bisect
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.bundle.collect import ContainerLog

_OLDEST = datetime.min.replace(tzinfo=UTC)
# JSON framing of one line in the `lines` array beyond its own quoted text: indent, comma, newline.
_LINE_OVERHEAD = 8
_STEP = timedelta(microseconds=1)


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
        self.logs = [_in_time_order(entry) for entry in logs]
        # costs[i][k-1]: the serialised size of the last k lines of log i.
        self.costs = [list(itertools.accumulate(map(_cost, [line.text for line in reversed(entry.lines)])))
                      for entry in self.logs]
        self.stamps = [[line.ts or _OLDEST for line in entry.lines] for entry in self.logs]
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


def _cost(text: str) -> int:
    # A timestamp prefix (~33 chars) plus the JSON-quoted text (quotes and backslashes are escaped). Non-ASCII
    # text takes more bytes than characters: the caller checks the real size and tightens the budget if needed.
    return len(text) + 33 + _LINE_OVERHEAD + text.count('"') + text.count("\\")


def _in_time_order(entry: ContainerLog) -> ContainerLog:
    """Runtime timestamps normally only grow; if a log says otherwise, order it so that bisecting holds."""
    stamps = [line.ts or _OLDEST for line in entry.lines]
    if all(a <= b for a, b in itertools.pairwise(stamps)):
        return entry
    lines = sorted(entry.lines, key=lambda line: line.ts or _OLDEST)
    return ContainerLog(entry.pod, entry.container, entry.previous, lines)


def _suffix(entry: ContainerLog, keep: int) -> ContainerLog:
    lines = entry.lines[len(entry.lines) - keep :] if keep else []
    return ContainerLog(entry.pod, entry.container, entry.previous, lines)
