"""Botkube and kubernetes-event-exporter: Kubernetes events posted to Slack."""

from __future__ import annotations

import re

from bot.triage.labels import labels_from
from bot.triage.recognised import Alert, Recognised, severity_of
from bot.triage.slack_text import MessageText

# `❗ v1/pods error`, `:warning: apps/v1/deployments warning`, ` v1/pods updated`
_BOTKUBE_HEADER = re.compile(
    r"(?i)(?:^|\s)((?:[a-z0-9.-]+/)?v\d+(?:beta\d+)?/[a-z]+)\s+(error|warning|updated|created|deleted|info|normal)\b"
)
# What kubelet, the scheduler and controllers say when something is wrong (event-exporter's `{{ .Message }}`).
EVENT_PROBLEMS = re.compile(
    r"(?i)(readiness probe failed|liveness probe failed|startup probe failed|back-off restarting failed container"
    r"|oomkill|memory cgroup out of memory|insufficient (?:cpu|memory)|failed to pull image|imagepullbackoff"
    r"|errimagepull|failedscheduling|failedmount|crashloopbackoff|unhealthy|evicted|nodenotready)"
)


def botkube(text: MessageText, username: str) -> Recognised | None:
    whole = text.all_text()
    header = next((m for t in text.titles if (m := _BOTKUBE_HEADER.search(t))), None)
    if header is None and "botkube" not in username.lower():
        return None
    level = header.group(2).lower() if header else ""
    labels = labels_from(whole, text.fields)
    if level in {"updated", "created", "deleted", "info", "normal"} and not EVENT_PROBLEMS.search(whole):
        return Recognised("botkube", None, None, (), not_an_alert=f"a Kubernetes {level or 'info'} notification")
    return Recognised("botkube", "firing", severity_of(level), (Alert("firing", labels, whole),))


def event_exporter(text: MessageText, username: str) -> Recognised | None:
    whole = text.all_text()
    first_line = text.titles[0] if text.titles else ""
    if not (EVENT_PROBLEMS.search(first_line) or "event-exporter" in username.lower()):
        return None
    if not EVENT_PROBLEMS.search(whole):
        return Recognised("event-exporter", None, None, (), not_an_alert="a Kubernetes event that is not a problem")
    return Recognised("event-exporter", "firing", None, (Alert("firing", labels_from(whole, text.fields), whole),))


RECOGNISERS = (botkube, event_exporter)
