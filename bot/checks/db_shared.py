"""What the database and cache checks share: the finding for an unset URL, and how durations read."""

from __future__ import annotations

from bot.checks.excerpts import excerpt
from bot.model import Finding, Status

POSTGRES_NOT_SET = "TARGET_DATABASE_URL is not set; database checks skipped."
CACHE_NOT_SET = "CACHE_REDIS_URL is not set; cache checks skipped."
QUERY_SHOWN = 200


def not_configured(check: str, title: str, guide_section: str, summary: str) -> Finding:
    """An unset URL is a deployment choice, not a failure: no_data, naming the setting to set."""
    return Finding(check, title, Status.NO_DATA, summary, guide_section=guide_section)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def one_line(query: str, limit: int = QUERY_SHOWN) -> str:
    """Statement text on one line, bounded, for evidence excerpts; the source masked its literals, the
    redactor catches what a literal mask cannot (a DSN in a comment-free identifier, a token as a name)."""
    flat = " ".join(excerpt(query).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
