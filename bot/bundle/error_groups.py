"""ERROR lines and the stack traces under them, grouped by signature across pods and container instances.

Built on `bot.logscan`'s definitions (what an error line is, what continues a stack trace, how a line
becomes a signature, where request IDs sit) so a diagnosis and a bundle never disagree about what an error
is; this adds what support asks for on top: first/last seen, current vs previous instance, and where every
failed request's lines are, so each request ID can be quoted with its own lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.bundle.collect import ContainerLog
from bot.logscan import (
    CONTINUATION,
    LEVEL,
    LEVEL_WORD,
    MAX_IDS_PER_GROUP,
    MAX_STACK_LINES,
    TIMESTAMP,
    WARN,
    request_ids,
    signature,
)

MAX_GROUPS = 50


@dataclass
class ErrorGroup:
    signature: str
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    sources: set[str] = field(default_factory=set)  # "pod/container" or "pod/container (previous)"
    example: list[str] = field(default_factory=list)  # one full occurrence: the line and its stack trace
    request_ids: list[str] = field(default_factory=list)
    has_stack: bool = False

    def seen(self, at: datetime | None) -> None:
        if at is None:
            return
        self.first_seen = at if self.first_seen is None else min(self.first_seen, at)
        self.last_seen = at if self.last_seen is None else max(self.last_seen, at)


# Where a failed request's lines are: (log, first line, number of lines: the failed line and what continues it).
# A plain tuple of ints, not an object: a bundle notes tens of thousands of these, and the garbage collector stops
# tracking such tuples, where as many objects (or a list per request) would set off full collections that walk
# every log line held.
Place = tuple[int, int, int]


@dataclass
class ErrorScan:
    lines: int = 0
    error_lines: int = 0
    groups: list[ErrorGroup] = field(default_factory=list)
    dropped_groups: int = 0
    # (request ID, where) for each request ID logged on an ERROR or WARN line (a failed request), in scan order;
    # a request logged on several failed lines has several.
    failed_requests: list[tuple[str, Place]] = field(default_factory=list)


def scan_errors(logs: Iterable[ContainerLog]) -> ErrorScan:
    groups: dict[str, ErrorGroup] = {}
    out = ErrorScan()
    signatures = _Signatures()
    for index, entry in enumerate(logs):
        _scan_one(index, entry, groups, out, signatures)
    ordered = sorted(groups.values(), key=lambda g: -g.count)
    out.groups, out.dropped_groups = ordered[:MAX_GROUPS], max(0, len(ordered) - MAX_GROUPS)
    return out


def _scan_one(
    index: int, entry: ContainerLog, groups: dict[str, ErrorGroup], out: ErrorScan, signatures: _Signatures
) -> None:
    lines = entry.lines
    out.lines += len(lines)
    current: ErrorGroup | None = None
    collecting = False  # this occurrence is its group's example, so its stack trace is kept
    place: tuple[list[str], int] | None = None  # the request IDs of the open failed line, and where it was
    for number, line in enumerate(lines):
        text = line.text
        # Necessary conditions of logscan's LEVEL_WORD and (with "Traceback") LEVEL, for a fraction of a regex's
        # cost. A stack trace's own "Traceback" line has no level word: it is not searched for one.
        worded = "ERROR" in text or "FATAL" in text or "CRITICAL" in text or "SEVERE" in text or "PANIC" in text
        leveled = worded or "Traceback" in text
        if current is not None and CONTINUATION.match(text) and not (worded and LEVEL_WORD.search(text)):
            current.has_stack = True
            if collecting and len(current.example) < MAX_STACK_LINES:
                current.example.append(text)
            continue
        if place is not None:
            _place(out, place, index, number)
            place = None
        current, collecting = None, False
        if leveled and LEVEL.search(text):
            out.error_lines += 1
            ids = request_ids(text)
            current, collecting = _record(groups, entry, line.ts, text, ids, signatures=signatures)
            place = (ids, number)
        elif "WARN" in text and WARN.search(text):
            place = (request_ids(text), number)
    if place is not None:
        _place(out, place, index, len(lines))


class _Signatures:
    """logscan's `signature`, remembered per line shape.

    Error lines of one kind differ only in their timestamp and request ID, which `signature` replaces; so the
    line with both cut out (the shape) determines the signature, and the regexes run once per shape instead of
    once per line."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def __call__(self, text: str, ids: list[str]) -> str:
        shape = TIMESTAMP.sub("", text)
        for rid in ids:
            shape = shape.replace(rid, "\0")
        found = self._known.get(shape)
        if found is None:
            found = self._known[shape] = signature(text)
        return found


def _record(
    groups: dict[str, ErrorGroup], entry: ContainerLog, at: datetime | None, text: str, ids: list[str], *,
    signatures: _Signatures,
) -> tuple[ErrorGroup, bool]:
    sig = signatures(text, ids)
    group = groups.get(sig)
    is_new = group is None
    if group is None:
        group = groups[sig] = ErrorGroup(signature=sig, example=[text])
    group.count += 1
    group.seen(at)
    group.sources.add(entry.name)
    for rid in ids:
        if len(group.request_ids) < MAX_IDS_PER_GROUP and rid not in group.request_ids:
            group.request_ids.append(rid)
    return group, is_new


def _place(out: ErrorScan, place: tuple[list[str], int], log: int, end: int) -> None:
    ids, start = place
    for rid in ids:
        out.failed_requests.append((rid, (log, start, end - start)))
