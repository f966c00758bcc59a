"""The most specific symptom an alert's words fit (alert-formats.md's triage conventions)."""

from __future__ import annotations

import re

from bot.model import Symptom
from bot.symptoms import match_symptoms

# Checked before the free-word vocabulary: these words decide even when broader ones come first.
_RULES: tuple[tuple[re.Pattern[str], Symptom], ...] = (
    (re.compile(r"(?i)\bno ?data\b|datasourcenodata|\[no value\]"), Symptom.UNKNOWN),
    (re.compile(r"(?i)\b504\b|gateway time-?out|upstream .{0,40}tim(?:ed|e) ?out|deadline exceeded"), Symptom.TIMEOUT),
    (re.compile(r"(?i)(?:readiness|liveness|startup) ?probe|healthcheck ?fail|health check fail"),
     Symptom.FAILED_HEALTH_CHECK),
    (re.compile(r"(?i)oom ?kill|out of memory|memory cgroup"), Symptom.MEMORY_LEAK),
    (re.compile(r"(?i)crash ?loop|back-off restarting"), Symptom.CRASH_LOOP),
    (re.compile(r"(?i)too many clients|remaining connection slots|too many connections"),
     Symptom.DB_CONNECTION_EXHAUSTION),
    (re.compile(r"(?i)could not resolve|nxdomain|name or service not known|no such host"), Symptom.DNS_FAILURE),
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def split_camel(text: str) -> str:
    """`HighErrorRate` -> `High Error Rate`, so alert names match the same words people type."""
    return _CAMEL.sub(" ", text)


def symptom_of(*texts: str) -> Symptom:
    """The first text that names a symptom decides: callers pass the alert name before the description."""
    joined = "\n".join(texts)
    for pattern, symptom in _RULES:
        if pattern.search(joined):
            return symptom
    for text in texts:
        found = match_symptoms(split_camel(text))
        if found:
            return found[0]
    return Symptom.UNKNOWN
