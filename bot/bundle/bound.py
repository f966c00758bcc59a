"""Keeping a bundle under its size cap: log lines go, oldest first, across all containers at once.

The newest lines are what an incident is about, and errors, request IDs and metrics are already distilled
elsewhere in the bundle, so the raw log excerpt is what gives way. What was dropped is noted in the manifest.
"""

from __future__ import annotations

import bisect
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.bundle.collect import ContainerLog

_OLDEST = datetime.min.replace(tzinfo=UTC)
# JSON framing of one line in the `lines` array beyond its own quoted text: indent, comma, newline.
_LINE_OVERHEAD = 8


@dataclass(frozen=True)
class Fit:
    logs: list[ContainerLog]
    dropped_lines: int
    kept_from: datetime | None  # the oldest line kept, when some were dropped


def fit_logs(logs: list[ContainerLog], budget: int) -> Fit:
    """The newest lines whose serialised size fits `budget` characters; the rest dropped, oldest first.

    Each container's lines are in time order, so "keep everything from time T on" is a suffix of each;
    T is found by binary search over the candidate times, which stays fast for hundreds of thousands of lines.
    """
    logs = [_in_time_order(entry) for entry in logs]
    costs = [list(itertools.accumulate(_cost(line.text) for line in reversed(entry.lines))) for entry in logs]
    stamps = [[line.ts or _OLDEST for line in entry.lines] for entry in logs]
    total = sum(c[-1] for c in costs if c)
    if total <= budget:
        return Fit(logs, 0, None)
    candidates = sorted({ts for column in stamps for ts in column}, reverse=True)

    def size_from(cutoff: datetime) -> int:
        size = 0
        for column, cost in zip(stamps, costs, strict=True):
            kept = len(column) - bisect.bisect_left(column, cutoff)
            size += cost[kept - 1] if kept else 0
        return size

    # The largest number of candidate times (newest first) whose lines still fit.
    low, high = 0, len(candidates)
    while low < high:
        middle = (low + high + 1) // 2
        if size_from(candidates[middle - 1]) <= budget:
            low = middle
        else:
            high = middle - 1
    if low == 0:
        return Fit([_suffix(entry, 0) for entry in logs], sum(len(e.lines) for e in logs), None)
    cutoff = candidates[low - 1]
    kept = [_suffix(entry, len(column) - bisect.bisect_left(column, cutoff)) for entry, column in zip(logs, stamps,
                                                                                                        strict=True)]
    dropped = sum(len(e.lines) for e in logs) - sum(len(e.lines) for e in kept)
    return Fit(kept, dropped, cutoff)


def serialised_size(value: Any) -> int:
    return len(json.dumps(value, indent=1, ensure_ascii=False).encode())


def _cost(text: str) -> int:
    # A timestamp prefix (~33 chars) plus the JSON-quoted text; escapes make it a little longer, never shorter.
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
