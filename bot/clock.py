"""The one wall clock the core reads by default; components take a `clock` argument so tests can move time."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
