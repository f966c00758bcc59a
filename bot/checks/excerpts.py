"""Log text bound for a Finding: credentials redacted, then shortened.

Services print tokens, passwords and headers into their logs; a finding is posted to a Slack channel, so
every log excerpt a check shows passes through here first. Redaction runs before clipping: a clipped token
may no longer look like one and would slip through.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bundle.redact import Redactor


def excerpt(text: str, limit: int | None = None) -> str:
    """One log line, stripped, its credentials replaced by `[REDACTED:<kind>]`, at most `limit` characters."""
    clean = _redactor().text(text).strip()
    if limit is None or len(clean) <= limit:
        return clean
    return clean[: limit - 1] + "…"


def excerpt_lines(lines: Iterable[str], limit: int | None = None) -> list[str]:
    """Consecutive log lines (a stack trace): redacted together, so a PEM key spread over lines is caught."""
    redacted = _redactor().lines(lines)
    return [text if limit is None or len(text) <= limit else text[: limit - 1] + "…" for text in redacted]


def _redactor() -> Redactor:
    # Imported on use: the `bot.bundle` package imports the wiring, which imports every check, so a
    # module-level import here would be circular. The bundle's redactor is the one set of credential
    # patterns the project keeps; a second copy here would drift from it.
    from bot.bundle.redact import Redactor

    return Redactor()
