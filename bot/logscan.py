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
    found = [m.group(1) for m in REQUEST_ID.finditer(line)]
    found += [m.group(0) for m in BARE_REQUEST_ID.finditer(line) if m.group(0) not in found]
    return found


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
