"""Timestamps in the apiserver's wire formats."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    """`2024-05-01T12:00:00Z`: seconds precision, as metadata timestamps are serialized."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_nano(moment: datetime) -> str:
    """`2024-05-01T12:00:00.123456000Z`: what `kubectl logs --timestamps` prefixes lines with."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def rfc3339_micro(moment: datetime) -> str:
    """MicroTime (`eventTime`, lease `renewTime`)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
