"""From one Slack message event to a TriageResult: unwrap, drop what is never an alert, recognise the
tool by its shape (or read a person's words), resolve platform services, pick the symptom."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from bot.config import OpsConfig
from bot.model import Symptom
from bot.triage import human, kubernetes, prometheus, vendors
from bot.triage.labels import request_ids
from bot.triage.recognised import Recognised
from bot.triage.result import TriageResult, ignored
from bot.triage.services import services_from_labels, services_in_text
from bot.triage.slack_text import MessageText, message_text
from bot.triage.symptom import split_camel, symptom_of

# Subtypes that are never a problem report (channel membership, topic, pins, deletions, ...).
SYSTEM_SUBTYPES = {
    "channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name", "channel_archive",
    "channel_unarchive", "group_join", "group_leave", "pinned_item", "unpinned_item", "message_deleted",
    "ekm_access_denied", "reminder_add", "bot_add", "bot_remove", "channel_convert_to_private",
}
Recogniser = Callable[[MessageText, str], Recognised | None]
# Tools recognised by name or a distinctive shape go before Alertmanager's subject line, which others quote
# (Opsgenie keeps the "[FIRING:1] ..." text of the alert it received).
_ALERT_TOOLS: tuple[Recogniser, ...] = (
    *vendors.RECOGNISERS, prometheus.recognise, *kubernetes.RECOGNISERS,
)


def _s(value: object) -> str:
    """A field as text; events come from outside, so a field of the wrong type is treated as absent."""
    return value if isinstance(value, str) else ""


def _event(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = raw.get("event")
    return inner if isinstance(inner, Mapping) and raw.get("type") == "event_callback" else raw


def _is_thread_reply(message: Mapping[str, Any]) -> bool:
    thread_ts = _s(message.get("thread_ts"))
    return bool(thread_ts) and thread_ts != _s(message.get("ts"))


def triage_event(
    raw: Mapping[str, Any],
    config: OpsConfig,
    *,
    own_bot_ids: Collection[str] = (),
    allowed_bots: Collection[str] | None = None,
) -> TriageResult:
    """`allowed_bots`: bot IDs / app IDs that may trigger triage (None: any bot); people always may."""
    event = _event(raw)
    if _s(event.get("type")) not in {"message", "app_mention"}:
        return ignored(f"not a message event ({str(event.get('type'))[:40]})")
    subtype = _s(event.get("subtype"))
    if subtype in SYSTEM_SUBTYPES:
        return ignored(f"system message ({subtype})")
    edited = subtype == "message_changed"
    message = event.get("message") if edited else event
    if not isinstance(message, Mapping):
        return ignored("message_changed without a message")
    bot_id, app_id = _s(message.get("bot_id")), _s(message.get("app_id"))
    if (bot_id and bot_id in own_bot_ids) or (app_id and app_id in own_bot_ids):
        return ignored("the bot's own message")
    text = message_text(message)
    if bot_id or _s(message.get("subtype")) == "bot_message":
        if allowed_bots is not None and bot_id not in allowed_bots and app_id not in allowed_bots:
            return ignored("a bot that is not on the triage allowlist")
        return _from_tool(message, text, config)
    if edited:
        return ignored("a person edited a message")
    return _from_person(message, text, config)


def _username(message: Mapping[str, Any]) -> str:
    profile = message.get("bot_profile")
    name = _s(profile.get("name")) if isinstance(profile, Mapping) else ""
    return " ".join(n for n in (_s(message.get("username")), name) if n)


def _from_tool(message: Mapping[str, Any], text: MessageText, config: OpsConfig) -> TriageResult:
    username = _username(message)
    for recognise in _ALERT_TOOLS:
        found = recognise(text, username)
        if found is not None:
            return _from_recognised(found, text, config)
    whole = text.all_text()
    if human.deploy_bot(username, whole):
        return ignored("a deploy notification", source="bot")
    # An unknown bot: read it like a person's report, but it need not be phrased as one.
    return _free_text(whole, config, source="bot", request_text=whole)


def _from_recognised(found: Recognised, text: MessageText, config: OpsConfig) -> TriageResult:
    if found.not_an_alert:
        return ignored(found.not_an_alert, source=found.source)
    if found.heartbeat:
        return ignored("a heartbeat alert (Watchdog)", source=found.source)
    known = set(config.services)
    services: list[str] = []
    firing: list[str] = []
    for alert in found.alerts:
        # Labels first; then the subject line (Alertmanager's title values), whose words name the alerting
        # service, before the description, which may also name its upstreams.
        named = (
            services_from_labels(alert.labels, known)
            or services_in_text(found.extra_text, known)
            or services_in_text(alert.text, known)
        )
        services += [s for s in named if s not in services]
        if alert.status != "resolved":
            firing += [s for s in named if s not in firing]
    if not services:
        services = services_in_text(text.all_text(), known)
    first_alert = found.alerts[0] if found.alerts else None
    names = [split_camel(v) for a in found.alerts for v in a.labels.get("alertname", [])]
    symptom = symptom_of(*names, found.extra_text, first_alert.text if first_alert else "", text.all_text())
    status = "firing" if any(a.status == "firing" for a in found.alerts) else found.status
    return TriageResult(
        triage=True,
        services=tuple(services),
        firing_services=tuple(firing) if status == "firing" else (),
        symptom=symptom,
        status=status,
        severity=found.severity,
        request_ids=request_ids(text.all_text()),
        source=found.source,
        reason=f"{found.source} alert, {status or 'status unknown'}",
    )


def _from_person(message: Mapping[str, Any], text: MessageText, config: OpsConfig) -> TriageResult:
    if _is_thread_reply(message) or _s(message.get("subtype")) == "thread_broadcast":
        return ignored("a reply in a thread (a conversation, not a new alert)", source="human")
    whole = text.all_text()
    reason = human.noise_reason(whole, names_symptom=symptom_of(human.without_quotes(whole)) is not Symptom.UNKNOWN)
    if reason:
        return ignored(reason, source="human")
    return _free_text(human.without_quotes(whole), config, source="human", request_text=whole)


def _free_text(text: str, config: OpsConfig, *, source: str, request_text: str) -> TriageResult:
    symptom = symptom_of(text)
    services = services_in_text(text, set(config.services))
    if symptom is Symptom.UNKNOWN:
        return ignored("names no symptom", source=source)
    return TriageResult(
        triage=True,
        services=tuple(services),
        symptom=symptom,
        status="firing",
        severity=None,
        request_ids=request_ids(request_text),
        source=source,
        reason="a problem report in plain words",
    )
