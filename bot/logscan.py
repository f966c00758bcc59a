"""Reading application logs the way an SRE greps them: error lines grouped by signature, with their
stack traces and request IDs. Pure functions; used by diagnoses and, later, the support bundle."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.sources.records import LogLine

LEVEL_WORD = re.compile(r"\b(ERROR|FATAL|CRITICAL|SEVERE|PANIC)\b")
# A traceback with no ERROR line before it (printed by the runtime itself) still counts as an error.
LEVEL = re.compile(LEVEL_WORD.pattern + r"|^\s*Traceback \(most recent call last\)")
WARN = re.compile(r"\bWARN(ING)?\b")
TIMESTAMP = re.compile(r"^\s*\[?\d{4}-\d{2}-\d{2}[T ][\d:.,]+(Z|[+-]\d{2}:?\d{2})?\]?\s*")
CONTINUATION = re.compile(r"^(\s+\S|Traceback \(most recent|Caused by:|\s*at [\w.$]+\(|[\w.]+(Error|Exception)\b)")
REQUEST_ID = re.compile(
    r"(?:request[_-]?id|req[_-]?id|x-request-id|trace[_-]?id)[\"']?\s*[=:]\s*[\"']?([A-Za-z0-9][A-Za-z0-9._-]{5,63})",
    re.IGNORECASE,
)
BARE_REQUEST_ID = re.compile(r"\breq-[0-9a-fA-F]{6,32}\b")
# `request_ids`' fast path: REQUEST_ID without IGNORECASE, run on lower-cased ASCII text.
_REQUEST_ID_IN_LOWER = re.compile(REQUEST_ID.pattern)
_BARE_START = "req-"  # every BARE_REQUEST_ID match starts with it
VOLATILE = [
    (re.compile(r"(request[_-]?id|req[_-]?id|trace[_-]?id)\s*[=:]\s*\S+", re.IGNORECASE), r"\1=*"),
    (BARE_REQUEST_ID, "req-*"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE), "<uuid>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<addr>"),
    (re.compile(r"\b\d{4,}\b"), "<n>"),
    (re.compile(r"\b\d+(\.\d+)?\s?(ms|s)\b"), "<dur>"),
]
MAX_STACK_LINES = 30
MAX_IDS_PER_GROUP = 10


@dataclass
class ErrorGroup:
    signature: str
    count: int = 0
    example: list[str] = field(default_factory=list)
    pods: set[str] = field(default_factory=set)
    request_ids: list[str] = field(default_factory=list)
    has_stack: bool = False


@dataclass(frozen=True)
class LogScan:
    lines: int
    error_lines: int
    warn_lines: int
    groups: tuple[ErrorGroup, ...]
    request_ids: tuple[str, ...]


def signature(line: str) -> str:
    """The error's identity: the line without its timestamp and the parts that differ per request."""
    text = TIMESTAMP.sub("", line).strip()
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text[:200]


def request_ids(line: str) -> list[str]:
    """The named IDs (`REQUEST_ID`), then the bare `req-...` ones not already named, in order of appearance.

    A bundle asks this of every failed line (15,000 in the bench), and `REQUEST_ID`'s case-insensitive search is
    the slow part: `re` cannot skip ahead to the first letters of case-insensitive alternatives. For ASCII text,
    matching case-insensitively is matching the lower-cased text case-sensitively (the pattern spells its names
    in lower case, and lowering keeps every offset), so the IDs are found in `line.lower()` and cut from `line`.
    Non-ASCII text (where lowering may change lengths or letters) takes the case-insensitive pattern."""
    if line.isascii():
        found = [line[m.start(1) : m.end(1)] for m in _REQUEST_ID_IN_LOWER.finditer(line.lower())]
    else:
        found = [m.group(1) for m in REQUEST_ID.finditer(line)]
    found += [rid for rid in _bare_ids(line) if rid not in found]
    return found


def _bare_ids(line: str) -> list[str]:
    """`BARE_REQUEST_ID.finditer(line)`: every match starts with `req-`, so trying the pattern only there, left
    to right and past the end of the last match, finds the same ones (`\\b` still sees the character before)."""
    out: list[str] = []
    at = line.find(_BARE_START)
    while at >= 0:
        match = BARE_REQUEST_ID.match(line, at)
        if match is not None:
            out.append(match.group(0))
            at = match.end()
        else:
            at += 1
        at = line.find(_BARE_START, at)
    return out


def scan(lines: Iterable[LogLine]) -> LogScan:
    """Group error lines (and the stack traces that follow them) by signature, most frequent first."""
    groups: dict[str, ErrorGroup] = {}
    all_ids: dict[str, None] = {}
    total = errors = warns = 0
    current: ErrorGroup | None = None
    current_is_new_example = False
    for entry in lines:
        total += 1
        text = entry.text
        if current is not None and CONTINUATION.match(text) and not LEVEL_WORD.search(text):
            current.has_stack = True
            if current_is_new_example and len(current.example) < MAX_STACK_LINES:
                current.example.append(text)
            continue
        current = None
        if LEVEL.search(text):
            errors += 1
            current, current_is_new_example = _record(groups, entry, all_ids)
        elif WARN.search(text):
            warns += 1
            for rid in request_ids(text):
                all_ids.setdefault(rid)
    ordered = sorted(groups.values(), key=lambda g: -g.count)
    return LogScan(total, errors, warns, tuple(ordered), tuple(all_ids))


def _record(groups: dict[str, ErrorGroup], entry: LogLine, all_ids: dict[str, None]) -> tuple[ErrorGroup, bool]:
    sig = signature(entry.text)
    group = groups.get(sig)
    is_new = group is None
    if group is None:
        group = groups[sig] = ErrorGroup(signature=sig, example=[entry.text])
    group.count += 1
    group.pods.add(entry.pod)
    for rid in request_ids(entry.text):
        all_ids.setdefault(rid)
        if len(group.request_ids) < MAX_IDS_PER_GROUP and rid not in group.request_ids:
            group.request_ids.append(rid)
    return group, is_new
