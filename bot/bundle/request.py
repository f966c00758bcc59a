"""What a bundle is asked for with, and what comes out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.config import OpsConfig
from bot.model import Diagnosis, Symptom

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class BundleRequest:
    service: str  # a configured service (validated by the caller against the ops config)
    requester: str  # Slack user id, `cli:<login>` or `console`
    window: timedelta
    # The thread's diagnosis when there is one; otherwise the bundle runs `symptom`'s runbook itself.
    diagnosis: Diagnosis | None = None
    symptom: Symptom = Symptom.UNKNOWN
    # The message that started the thread (an alert, say): request IDs in it are looked up in the logs.
    alert_text: str | None = field(default=None, repr=False)
    origin: str | None = None  # where it was asked: "slack:C123/1718000000.000100", "cli", "console"


@dataclass(frozen=True)
class Bundle:
    """The archive and what people are told about it. Everything in here is already redacted."""

    filename: str
    archive: bytes
    manifest: Mapping[str, Any]
    summary_line: str  # one short paragraph for the Slack message / the terminal


def bundle_window(config: OpsConfig) -> timedelta:
    """The configured look-back (`bundle.window`, validated as <digits><s|m|h|d>) as a duration."""
    text = config.bundle.window
    return timedelta(seconds=int(text[:-1]) * _UNITS[text[-1]])
