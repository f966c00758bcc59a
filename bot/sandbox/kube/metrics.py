"""`metrics.k8s.io/v1beta1` PodMetrics, as metrics-server reports them for pods that exist."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import clock


class PodMetricsStore:
    def __init__(self) -> None:
        self._usage: dict[tuple[str, str], dict[str, dict[str, str]]] = {}

    def set(self, namespace: str, pod: str, usage: Mapping[str, Mapping[str, str]]) -> None:
        self._usage[(namespace, pod)] = {c: dict(u) for c, u in usage.items()}

    def forget_pod(self, namespace: str, pod: str) -> None:
        self._usage.pop((namespace, pod), None)

    def for_pod(self, pod: Mapping[str, Any]) -> dict[str, Any] | None:
        """The PodMetrics object for a stored pod, or None when nothing was scraped for it."""
        metadata = pod["metadata"]
        usage = self._usage.get((metadata["namespace"], metadata["name"]))
        if usage is None:
            return None
        moment = clock.now()
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
            "containers": [{"name": name, "usage": dict(values)} for name, values in usage.items()],
        }
