"""Which platform services a message is about. Only configured services count: a label naming the
monitoring stack (`kube-prometheus-stack-kube-state-metrics`) is not a platform service."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from urllib.parse import urlsplit

# The order alert-formats.md gives: the label most likely to name the workload first.
SERVICE_LABELS = ("service", "app", "application", "deployment", "container", "project", "entity", "entities", "name")
_POD_SUFFIX = re.compile(r"-[a-z0-9]{6,10}-[a-z0-9]{5}$|-[a-z0-9]{5}$")


def _normalise(value: str, known: Collection[str]) -> str | None:
    value = value.strip().lower()
    if value in known:
        return value
    # New Relic entities carry an environment suffix: `auth-service (prod)`; Botkube/pods carry hashes.
    value = re.sub(r"\s*\(.*\)$", "", value)
    if value in known:
        return value
    stripped = _POD_SUFFIX.sub("", value)
    if stripped in known:
        return stripped
    return next((name for name in known if value.startswith(name + "-") and _POD_SUFFIX.search(value)), None)


def services_from_labels(labels: Mapping[str, list[str]], known: Collection[str]) -> list[str]:
    found: list[str] = []
    for key in (*SERVICE_LABELS, "pod"):
        for value in labels.get(key, []):
            name = _normalise(value, known)
            if name and name not in found:
                found.append(name)
        if found:
            return found
    for value in labels.get("instance", []):
        host = urlsplit(value if "//" in value else f"//{value}").hostname or ""
        name = _normalise(host.split(".")[0], known)
        if name and name not in found:
            found.append(name)
    return found


_TOKEN = re.compile(r"[a-z0-9][a-z0-9-]*[a-z0-9]|[a-z0-9]")


def services_in_text(text: str, known: Collection[str]) -> list[str]:
    """Configured service names written as words in free text, in order of mention. A word that extends a
    name (`auth-service-5xx-high`, a pod `auth-service-7d9f8c6b5-x2k4q`) counts for the longest name it
    extends, so `api-gateway` is never read as a service called `api`."""
    by_length = sorted(known, key=len, reverse=True)
    found: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        name = token if token in known else next((n for n in by_length if token.startswith(n + "-")), None)
        if name and name not in found:
            found.append(name)
    return found
