"""What a format recogniser extracts from one message, before services are resolved."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.triage.result import Severity, Status
from bot.triage.slack_text import MessageText

_SEVERITY_WORDS: dict[str, Severity] = {
    "critical": "critical", "crit": "critical", "p1": "critical", "p2": "critical", "high": "critical",
    "error": "critical", "page": "critical",
    "warning": "warning", "warn": "warning", "p3": "warning", "medium": "warning",
    "info": "info", "p4": "info", "p5": "info", "low": "info",
}


def severity_of(word: str | None, *, high_is_critical: bool = True) -> Severity | None:
    """critical <- critical, P1, P2, urgency High; warning <- warning, P3, Warn; info <- P4, P5, info."""
    if not word:
        return None
    key = word.strip().strip("()[]*`").lower()
    if key == "high" and not high_is_critical:
        return "warning"
    return _SEVERITY_WORDS.get(key)


@dataclass(frozen=True)
class Alert:
    """One alert in a message (a grouped Alertmanager message holds several)."""

    status: Status | None
    labels: dict[str, list[str]]
    text: str  # the alert's own words (name, summary) for the symptom


@dataclass(frozen=True)
class Recognised:
    source: str
    status: Status | None
    severity: Severity | None
    alerts: tuple[Alert, ...]
    heartbeat: bool = False  # Watchdog-style "the pipeline is alive" alerts
    not_an_alert: str | None = None  # a known tool's message that is not a problem (Botkube "created")
    extra_text: str = field(default="")




def whole(text: MessageText) -> str:
    return text.all_text()
