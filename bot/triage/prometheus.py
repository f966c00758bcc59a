"""Prometheus Alertmanager (default and community templates) and Grafana Alerting messages."""

from __future__ import annotations

import re

from bot.triage.labels import first, labels_from
from bot.triage.recognised import Alert, Recognised, severity_of
from bot.triage.result import Status
from bot.triage.slack_text import MessageText

# `[FIRING:3] HighLatency production (warning)`, `[FIRING:1, RESOLVED:2] ...`, `[RESOLVED] ...`,
# optionally after an emoji such as `:fire:` that community templates put first.
_SUBJECT = re.compile(
    r"^\s*(?::[\w+-]+:\s*)*\[(FIRING|RESOLVED)(?::(\d+))?(?:,\s*RESOLVED:(\d+))?\]\s*(.*)$", re.IGNORECASE
)
_GRAFANA_SECTION = re.compile(r"\*\*(Firing|Resolved)\*\*", re.IGNORECASE)
_PER_ALERT = re.compile(r"(?im)^\s*(?:Labels:\s*$|\*?Alert:\*?)")
HEARTBEATS = {"watchdog", "deadmanssnitch", "heartbeat", "infoinhibitor"}


def _subject(text: MessageText) -> re.Match[str] | None:
    for title in text.titles:
        match = _SUBJECT.match(title)
        if match:
            return match
    return None


def _is_grafana(text: MessageText, username: str) -> bool:
    return (
        "grafana" in username.lower()
        or any(f.lower().startswith("grafana") for f in text.footers)
        or bool(_GRAFANA_SECTION.search("\n".join(text.body)))
    )


def _status(match: re.Match[str]) -> Status:
    firing = match.group(1).upper() == "FIRING"
    return "firing" if firing else "resolved"


def _alerts_in(chunk: str, status: Status | None) -> list[Alert]:
    parts = _PER_ALERT.split(chunk)
    bodies = [p for p in parts[1:] if p.strip()] if len(parts) > 1 else []
    return [Alert(status, labels_from(body), body) for body in bodies]


def recognise(text: MessageText, username: str) -> Recognised | None:
    match = _subject(text)
    if match is None:
        return None
    status = _status(match)
    values = match.group(4)
    title_words = [w.strip("()") for w in values.split()]
    body = "\n".join(text.body)
    grafana = _is_grafana(text, username)
    alerts: list[Alert] = []
    if grafana:
        sections = _GRAFANA_SECTION.split(body)
        for i in range(1, len(sections) - 1, 2):
            section_status: Status = "firing" if sections[i].lower() == "firing" else "resolved"
            alerts += _alerts_in(sections[i + 1], section_status)
    else:
        alerts = _alerts_in(body, None)
    common = labels_from(body if not alerts else "", text.fields)
    if not alerts:
        alerts = [Alert(status, common, f"{values}\n{body}")]
    else:
        alerts = [Alert(a.status or status, {**common, **a.labels}, f"{values}\n{a.text}") for a in alerts]
    names = {n.lower() for a in alerts for n in a.labels.get("alertname", [])} | {title_words[0].lower()}
    severity_word = first(common, "severity") or next(
        (s for a in alerts for s in a.labels.get("severity", [])), None
    ) or next(
        (w for w in title_words if severity_of(w) is not None and w.lower() in {"critical", "warning", "info"}), None
    )
    # A heartbeat only when every alert in the message is one: a Watchdog grouped with a real alert still counts.
    heartbeat = bool(names) and names <= HEARTBEATS
    return Recognised(
        source="grafana" if grafana else "alertmanager",
        status=status,
        severity=severity_of(severity_word),
        alerts=tuple(alerts),
        heartbeat=heartbeat,
        extra_text=values,
    )
