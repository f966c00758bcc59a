"""Small formatting helpers shared by checks' `assess` (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta


def percent(fraction: float) -> str:
    return f"{fraction * 100:.1f} %"


def age(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "unknown age"
    return ago(now - then)


def ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 90 * 60:
        return f"{seconds // 60} min ago"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def short_image(image: str) -> str:
    """`registry.example.com/team/auth-service:2.5.0` -> `auth-service:2.5.0`."""
    return image.rsplit("/", 1)[-1]
