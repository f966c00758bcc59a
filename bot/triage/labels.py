"""Finding labels (service=, app:, • *service:* `x`, {service:x,env:prod}) and request IDs in alert text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from bot.triage.slack_text import Field

LABEL_KEYS = (
    "alertname", "service", "app", "application", "deployment", "container", "pod", "instance", "job",
    "namespace", "severity", "priority", "urgency", "state", "status", "project", "entity", "entities",
    "name", "kind", "type", "reason", "rulename",
)
_KEYS = "|".join(LABEL_KEYS)
# `- service = auth-service` (Grafana), `• *service:* `auth-service`` (community templates), `service=x`,
# `service: x` at the start of a line.
_LINE_LABEL = re.compile(
    rf"(?im)^[\s\-•*_>]*({_KEYS})[*_`\s]*(?:=|:)[*_`\s]*([^\s`*,;]+)"
)
_INLINE_LABEL = re.compile(rf"(?i)(?<![\w.-])({_KEYS})=\"?([A-Za-z0-9._:/-]+)")
_SCOPE = re.compile(r"\{([a-z_]+:[^{}]+)\}")  # Datadog `{service:auth-service,env:prod}`
_TAG = re.compile(r"(?i)(?<![\w-])(service|app|env):([A-Za-z0-9._-]+)")

_REQUEST_ID = re.compile(
    r"(?i)(?:request[_-]?id|x-request-id|requestid)[\"'`*]*\s*[=:]\s*[\"'`*]*([A-Za-z0-9][A-Za-z0-9._:-]{3,63})"
)
_REQUEST_ID_LIST = re.compile(r"(?i)sample_request_ids[\"'`*]*\s*[=:]\s*\[?([^\]\n]{1,800})")
_ID_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{3,63}")
MAX_REQUEST_IDS = 50


def labels_from(text: str, fields: Iterable[Field] = ()) -> dict[str, list[str]]:
    """Every label value found, per lower-case key, in order of appearance (fields first)."""
    found: dict[str, list[str]] = {}

    def add(key: str, value: str) -> None:
        value = value.strip().strip("`*_\"'")
        if value and value not in found.setdefault(key.lower(), []):
            found[key.lower()].append(value)

    for item in fields:
        key = item.title.lower().strip(" *:")
        if key in LABEL_KEYS:
            for value in re.split(r"[,\s]+", item.value):
                add(key, value)
    for match in _LINE_LABEL.finditer(text):
        add(match.group(1), match.group(2))
    for match in _INLINE_LABEL.finditer(text):
        add(match.group(1), match.group(2))
    for scope in _SCOPE.findall(text):
        for pair in scope.split(","):
            key, _, value = pair.partition(":")
            add(key.strip(), value)
    for match in _TAG.finditer(text):
        add(match.group(1), match.group(2))
    return found


def request_ids(text: str) -> tuple[str, ...]:
    """Only explicit request IDs: `request_id=`, `X-Request-ID:`, `sample_request_ids`. Trace IDs don't count."""
    ids: list[str] = []
    for match in _REQUEST_ID.finditer(text):
        ids.append(match.group(1).rstrip(".:"))
    for match in _REQUEST_ID_LIST.finditer(text):
        ids.extend(token.rstrip(".:") for token in _ID_TOKEN.findall(match.group(1)))
    unique = list(dict.fromkeys(ids))
    return tuple(unique[:MAX_REQUEST_IDS])


def first(labels: Mapping[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        values = labels.get(key)
        if values:
            return values[0]
    return None
