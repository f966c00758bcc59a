"""Log signatures the guide names, mapped to the explanation they point at. Data, not logic."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.checks.auth_causes import JWT_REASON_KEYS, JWT_REJECTED


@dataclass(frozen=True)
class KnownError:
    key: str
    pattern: re.Pattern[str]
    title: str
    guide_section: str
    supports: tuple[str, ...] = ()


KNOWN_ERRORS = (
    KnownError("db_connection_exhaustion", re.compile(r"too many clients|remaining connection slots", re.I),
               "Database connection pool exhausted", "Connection Pool Exhaustion"),
    KnownError("database", re.compile(r"cannot connect to database|could not connect to server|"
                                      r"connection refused.*(5432|postgres)", re.I),
               "Database connectivity failure", "High Error Rates"),
    KnownError("memory", re.compile(r"OutOfMemory|MemoryError|\bOOM\b|Cannot allocate memory", re.I),
               "Memory exhaustion (OOM)", "Memory Leaks"),
    KnownError("timeout", re.compile(r"timed out|timeout|deadline exceeded", re.I),
               "Upstream timeouts", "Timeout Errors"),
    KnownError("dns", re.compile(r"could not resolve host|name or service not known|NXDOMAIN|"
                                 r"temporary failure in name resolution", re.I),
               "DNS resolution failures", "DNS Resolution Failures"),
    KnownError("port_conflict", re.compile(r"address already in use", re.I),
               "Port already in use", "Service Crashes"),
    KnownError(JWT_REJECTED, re.compile(r"invalid jwt|jwt.*(expired|signature)|token (expired|blacklisted)", re.I),
               "Requests rejected with invalid JWTs", "Invalid JWT Token (401)", supports=JWT_REASON_KEYS),
    # Last: a generic unhandled exception is evidence of a code bug, which a recent deploy explains.
    KnownError("code_bug", re.compile(r"unhandled exception|uncaught|traceback|exception|panic", re.I),
               "Unhandled exceptions in application code", "High Error Rates", supports=("deploy",)),
)


def classify(signature: str, has_stack: bool) -> KnownError | None:
    for known in KNOWN_ERRORS:
        if known.pattern.search(signature):
            return known
    return KNOWN_ERRORS[-1] if has_stack else None
