"""Datadog, PagerDuty, Opsgenie, Sentry, New Relic and AWS CloudWatch (via AWS Chatbot) messages.

Their Slack layouts are not published exactly (alert-formats.md), so these match key words and shapes,
not positions."""

from __future__ import annotations

import re

from bot.triage.labels import first, labels_from
from bot.triage.recognised import Alert, Recognised, severity_of
from bot.triage.result import Status
from bot.triage.slack_text import MessageText

_DATADOG_EVENT = re.compile(
    r"^\s*\[(P[1-5])\]\s*\[(Triggered|Re-Triggered|Warn|Recovered|No Data)(?: on (\{[^}]*\}))?\]\s*(.*)$",
    re.IGNORECASE,
)
_DATADOG_APP = re.compile(r"^\s*(Triggered|Re-Triggered|Warn|Recovered|No Data):\s*(?:\[(P[1-5])\]\s*)?(.*)$",
                          re.IGNORECASE)
_PD_TITLE = re.compile(r"^\s*#(\d+)\s+(.+)$")
_PD_STATUS = re.compile(r"(?im)^\W*status\W*:?\W*(triggered|acknowledged|resolved)\b")
_PD_URGENCY = re.compile(r"(?im)^\W*urgency\W*:?\W*(high|low)\b")
_PD_SERVICE = re.compile(r"(?im)^\W*service\W*:?\W*([^\n]+)")
_OG_STATE = re.compile(r"(?im)\bstate\W*:?\W*(open|acked|acknowledged|closed)\b")
_OG_PRIORITY = re.compile(r"(?im)\bpriority\W*:?\W*(P[1-5])\b")
_SENTRY_FOOTER = re.compile(r"Project:\s*([\w.-]+).*?(?:Short ID|Alert):", re.IGNORECASE | re.DOTALL)
_SENTRY_METRIC = re.compile(r"^\s*(Critical|Warning|Resolved):\s*(.+)$", re.IGNORECASE)
_SENTRY_PROJECT = re.compile(r"^\s*\[([\w.-]+)\]\s+(.+)$")
_SENTRY_STATE = re.compile(r"State:\W*(New|Ongoing|Regressed|Escalating|Resolved|Archived)", re.IGNORECASE)
_NR_STATE = re.compile(r"(?i)\bstate\W*:?\W*(created|activated|acknowledged|closed)\b")
_NR_PRIORITY = re.compile(r"(?i)\bpriority\W*:?\W*(critical|high|medium|low)\b")
_NR_ENTITIES = re.compile(r"(?im)(?:impacted entities|entities|entity)\W*:?\W*([^\n]+)")
_CLOUDWATCH = re.compile(r"CloudWatch Alarm\s*\|\s*([^|\n]+?)\s*\|\s*([\w-]+)", re.IGNORECASE)


def _one(source: str, status: Status | None, severity_word: str | None, text: str, labels: dict[str, list[str]],
         *, high_is_critical: bool = True) -> Recognised:
    return Recognised(source, status, severity_of(severity_word, high_is_critical=high_is_critical),
                      (Alert(status, labels, text),))


def datadog(text: MessageText, username: str) -> Recognised | None:
    for title in text.titles:
        event = _DATADOG_EVENT.match(title)
        app = _DATADOG_APP.match(title) if event is None else None
        if event is None and (app is None or "datadog" not in (username + " ".join(text.footers)).lower()):
            continue
        priority, transition, scope, name = (
            (event.group(1), event.group(2), event.group(3) or "", event.group(4)) if event
            else (app.group(2) if app else None, app.group(1) if app else "", "", app.group(3) if app else "")
        )
        whole = text.all_text()
        labels = labels_from(f"{scope}\n{whole}", text.fields)
        status: Status = "resolved" if transition.lower() == "recovered" else "firing"
        severity = priority or ("warning" if transition.lower() == "warn" else None)
        words = f"{name}\n{whole}" + ("\nnodata" if transition.lower() == "no data" else "")
        return _one("datadog", status, severity, words, labels)
    return None


def pagerduty(text: MessageText, username: str) -> Recognised | None:
    whole = text.all_text()
    titled = any(_PD_TITLE.match(t) for t in text.titles)
    status_match = _PD_STATUS.search(whole)
    if not ("pagerduty" in username.lower() or (titled and status_match)):
        return None
    word = status_match.group(1).lower() if status_match else "triggered"
    status: Status = "resolved" if word == "resolved" else "firing"
    labels = labels_from(whole, text.fields)
    service = _PD_SERVICE.search(whole)
    if service:
        labels.setdefault("service", []).insert(0, service.group(1).strip(" *`"))
    urgency = _PD_URGENCY.search(whole)
    severity = "critical" if urgency and urgency.group(1).lower() == "high" else None
    return _one("pagerduty", status, severity, whole, labels)


def opsgenie(text: MessageText, username: str) -> Recognised | None:
    whole = text.all_text()
    state = _OG_STATE.search(whole)
    priority = _OG_PRIORITY.search(whole)
    if not ("opsgenie" in username.lower() or (state and priority and "new relic" not in whole.lower())):
        return None
    # The message text stays frozen at "[FIRING:1] ..." after the alert closes: the state field decides.
    status: Status = "resolved" if state and state.group(1).lower() == "closed" else "firing"
    return _one("opsgenie", status, priority.group(1) if priority else None, whole, labels_from(whole, text.fields))


def sentry(text: MessageText, username: str) -> Recognised | None:
    whole = text.all_text()
    footer = _SENTRY_FOOTER.search("\n".join(text.footers) + "\n" + whole)
    from_sentry = "sentry" in username.lower() or footer is not None
    if not from_sentry:
        return None
    labels = labels_from(whole, text.fields)
    if footer:
        labels.setdefault("project", []).insert(0, footer.group(1))
    for title in text.titles:
        metric = _SENTRY_METRIC.match(title)
        if metric:
            level = metric.group(1).lower()
            status: Status = "resolved" if level == "resolved" else "firing"
            return _one("sentry", status, None if level == "resolved" else level, whole, labels)
        project = _SENTRY_PROJECT.match(title)
        if project and "project" not in labels:
            labels["project"] = [project.group(1)]
    state = _SENTRY_STATE.search(whole)
    issue_status: Status = "resolved" if state and state.group(1).lower() == "resolved" else "firing"
    # An issue's level (error, fatal) is not a severity: it says what was logged, not how urgent it is.
    return _one("sentry", issue_status, None, whole, labels)


def newrelic(text: MessageText, username: str) -> Recognised | None:
    whole = text.all_text()
    state = _NR_STATE.search(whole)
    marker = "new relic" in (username + " " + whole).lower() or "newrelic" in whole.lower()
    if not (marker and state) and not (marker and _NR_PRIORITY.search(whole)):
        return None
    status: Status = "resolved" if state and state.group(1).lower() == "closed" else "firing"
    labels = labels_from(whole, text.fields)
    entities = _NR_ENTITIES.search(whole)
    if entities:
        names = [n.strip(" *`") for n in entities.group(1).split(",")]
        labels["entities"] = [n for n in names if n] + labels.get("entities", [])
    priority = _NR_PRIORITY.search(whole)
    return _one("newrelic", status, priority.group(1) if priority else None, whole, labels, high_is_critical=False)


def cloudwatch(text: MessageText, username: str) -> Recognised | None:
    whole = text.all_text()
    alarm = _CLOUDWATCH.search(whole)
    if alarm is None:
        return None
    lowered = whole.lower()
    resolved = ":white_check_mark:" in lowered or "-> ok" in lowered or "to ok" in lowered
    status: Status = "resolved" if resolved and "-> alarm" not in lowered else "firing"
    labels = labels_from(whole, text.fields)
    return _one("cloudwatch", status, first(labels, "severity"), f"{alarm.group(1)}\n{whole}", labels)


RECOGNISERS = (datadog, pagerduty, opsgenie, sentry, newrelic, cloudwatch)
