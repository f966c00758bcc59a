"""The guide's table of why a service crashes ("Service Crashes"), as data: log signatures and exit codes,
each with its explanation and the guide's fix. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

SECTION = "Service Crashes"


@dataclass(frozen=True)
class CrashKind:
    key: str
    title: str
    fix: str
    supports: tuple[str, ...] = ()


OOM = CrashKind("oom_killed", "Out of memory: containers OOMKilled (exit 137)",
                "Increase memory limits or fix the memory leak")
PORT = CrashKind("port_conflict", "Port already in use at start-up", "Change the port or fix the port conflict")
DEPENDENCY = CrashKind("missing_dependency", "Cannot connect to a dependency (database) at start-up",
                       "Check environment variables and secrets")
CONFIG = CrashKind("config_error", "Invalid or missing configuration at start-up",
                   "Check environment variables, ConfigMaps and secrets")
# A code bug is what a recent deploy brings: folds into the rollout cause (and its rollback) when present.
EXCEPTION = CrashKind("unhandled_exception", "Unhandled exception crashes the process",
                      "Add proper error handling; roll back if a recent deploy brought it", supports=("deploy",))

# Ordered: the most specific first. A line saying "unhandled exception: cannot connect to database" is a
# missing dependency, not a code bug, so the generic rule comes last.
LOG_SIGNATURES: tuple[tuple[re.Pattern[str], CrashKind], ...] = (
    (re.compile(r"address already in use|EADDRINUSE|bind: address", re.I), PORT),
    (re.compile(r"cannot connect to (the )?database|could not connect to server|"
                r"password authentication failed|could not translate host name|"
                r"connection refused.*(5432|3306|6379|postgres|mysql|redis)|"
                r"(database|postgres|redis|db) .*(unreachable|connection refused|timed out)", re.I), DEPENDENCY),
    (re.compile(r"OutOfMemoryError|MemoryError|Cannot allocate memory|JavaScript heap out of memory", re.I), OOM),
    (re.compile(r"environment variable .*(not set|missing|required)|missing required (env|config|setting)|"
                r"invalid configuration|config(uration)? (error|invalid)|KeyError: '[A-Z][A-Z0-9_]+'", re.I), CONFIG),
    (re.compile(r"traceback \(most recent call last\)|unhandled exception|uncaught|panic:|"
                r"segmentation fault|SIGSEGV|AssertionError|assertion .*failed|fatal error", re.I), EXCEPTION),
)

SIGNALS = {137: "SIGKILL", 143: "SIGTERM", 139: "SIGSEGV", 134: "SIGABRT"}


def classify_crash(reason: str | None, exit_code: int | None, lines: list[str]) -> tuple[CrashKind | None, int]:
    """The explanation of one crash and the index of the log line that shows it (-1: none).

    The kubelet's own verdict wins (OOMKilled); then the last line that names a known error (a traceback's
    last line is its error, so a database error raised through a traceback counts as the database error);
    then the exit code."""
    if reason == "OOMKilled":
        return OOM, -1
    for index in range(len(lines) - 1, -1, -1):
        for pattern, kind in LOG_SIGNATURES:
            if pattern.search(lines[index]):
                return kind, index
    if exit_code in (139, 134):
        return EXCEPTION, -1  # segfault / abort: the runtime died, whatever the log says
    return None, -1


def exit_text(reason: str | None, exit_code: int | None) -> str:
    if exit_code is None:
        return reason or "unknown"
    signal = SIGNALS.get(exit_code)
    return f"{reason or 'terminated'} exit {exit_code}" + (f" ({signal})" if signal else "")
