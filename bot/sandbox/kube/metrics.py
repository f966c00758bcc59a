"""`metrics.k8s.io/v1beta1` PodMetrics, as metrics-server reports them for pods that exist."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import clock


@dataclass(frozen=True)
class MemoryGrowth:
    """A leaking container: its memory grows by `bytes_per_hour` of running time, up to `cap_bytes`.

    The running time is read from the pod's own container status at each scrape, so a container that
    was restarted (OOMKilled) starts over from its base usage, as a real process does."""

    bytes_per_hour: float
    cap_bytes: int | None = None


class PodMetricsStore:
    def __init__(self) -> None:
        self._usage: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
        self._growth: dict[tuple[str, str], dict[str, MemoryGrowth]] = {}

    def set(self, namespace: str, pod: str, usage: Mapping[str, Mapping[str, str]],
            growth: Mapping[str, MemoryGrowth] | None = None) -> None:
        self._usage[(namespace, pod)] = {c: dict(u) for c, u in usage.items()}
        self._growth[(namespace, pod)] = dict(growth or {})

    def forget_pod(self, namespace: str, pod: str) -> None:
        self._usage.pop((namespace, pod), None)
        self._growth.pop((namespace, pod), None)

    def for_pod(self, pod: Mapping[str, Any]) -> dict[str, Any] | None:
        """The PodMetrics object for a stored pod, or None when nothing was scraped for it."""
        metadata = pod["metadata"]
        key = (metadata["namespace"], metadata["name"])
        usage = self._usage.get(key)
        if usage is None:
            return None
        # Usage is computed for the second the timestamp names, so a client fitting growth over
        # timestamps sees numbers consistent with them.
        moment = clock.now().replace(microsecond=0)
        growth = self._growth.get(key, {})
        containers = [
            {"name": name, "usage": _grown(values, growth.get(name), _running_since(pod, name), moment)}
            for name, values in usage.items()
        ]
        return {
            "kind": "PodMetrics",
            "apiVersion": "metrics.k8s.io/v1beta1",
            "metadata": {
                "name": metadata["name"],
                "namespace": metadata["namespace"],
                "labels": dict(metadata.get("labels") or {}),
                "creationTimestamp": clock.rfc3339(moment),
            },
            "timestamp": clock.rfc3339(moment),
            "window": "30s",
            "containers": containers,
        }


def _grown(values: Mapping[str, str], growth: MemoryGrowth | None, since: datetime | None,
           moment: datetime) -> dict[str, str]:
    if growth is None or since is None or "memory" not in values:
        return dict(values)
    hours = max(0.0, (moment - since).total_seconds() / 3600)
    memory = _kibibytes(values["memory"]) * 1024 + growth.bytes_per_hour * hours
    if growth.cap_bytes is not None:
        memory = min(memory, growth.cap_bytes)
    return {**values, "memory": f"{round(memory / 1024)}Ki"}


def _kibibytes(text: str) -> int:
    units = {"Ki": 1, "Mi": 1024, "Gi": 1024 * 1024}
    return int(text[:-2]) * units[text[-2:]] if text[-2:] in units else int(text) // 1024


def _running_since(pod: Mapping[str, Any], container: str) -> datetime | None:
    """When the container's running instance started; the pod's start when the status says nothing."""
    status = pod.get("status") or {}
    for entry in status.get("containerStatuses") or []:
        if entry.get("name") == container:
            started = ((entry.get("state") or {}).get("running") or {}).get("startedAt")
            if started:
                return _parse(started)
            return None  # not running (waiting, terminated): no process, nothing grows
    start = status.get("startTime")
    return _parse(start) if start else None


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
