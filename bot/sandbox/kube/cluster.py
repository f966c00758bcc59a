"""`FakeCluster`: the state behind the fake apiserver, usable directly by scenarios and tests."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from .controller import Controller
from .errors import KubeError
from .logs import LogBuffers, LogQuery
from .metrics import MemoryGrowth, PodMetricsStore
from .recording import RecordedRequest, append_bounded
from .selectors import build_filter
from .store import ObjectStore

__all__ = ["FakeCluster", "KubeError", "RecordedRequest"]

# Spelled out once here: inside the class body `list` names the method.
Objects = list[dict[str, Any]]
Lines = list[str]


class FakeCluster:
    """Thread-safe in-memory store of wire-format (camelCase JSON dict) objects plus a controller step.

    Every public method takes `lock` (an RLock), so scenario code, the HTTP server's thread and test
    threads can share one cluster. Returned dicts are copies: mutate them and `update()` to write back.

    `pod_created_hooks` are called INSIDE the lock, right after the controller stores a new pod and
    before anyone else can observe it; the lock is re-entrant, so a hook may call `set_logs`,
    `set_pod_metrics` or `update` on this cluster (but should not block on other threads).
    """

    def __init__(self, *, auto_reconcile: bool = True, seed: int | None = None) -> None:
        self.lock = threading.RLock()
        self.auto_reconcile = auto_reconcile
        # False simulates a cluster without metrics-server: the metrics API 404s with a plain-text body.
        self.metrics_available = True
        self.pod_created_hooks: list[Callable[[dict[str, Any]], None]] = []
        self.requests: list[RecordedRequest] = []
        self._rng = random.Random(seed)
        self._store = ObjectStore(self._rng)
        self._logs = LogBuffers()
        self._metrics = PodMetricsStore()
        self._controller = Controller(self._store, self._rng, self._run_pod_hooks, self._forget_pod)

    # -- objects ------------------------------------------------------------------------------------

    def create(self, obj: dict[str, Any], *, dry_run: bool = False,
               created_at: datetime | None = None) -> dict[str, Any]:
        """Fill uid/resourceVersion/creationTimestamp/generation, validate, store; 409/422 as KubeError.

        `created_at` backdates `creationTimestamp`, for scenarios whose objects predate the sandbox.
        """
        with self.lock:
            return self._store.create(obj, dry_run=dry_run, created_at=created_at)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            return self._store.get(kind, namespace, name)

    def list(self, kind: str, namespace: str | None, label_selector: str | None = None,
             field_selector: str | None = None) -> Objects:
        """Objects of a kind (all namespaces when `namespace` is None); bad selectors raise a 400."""
        accept = build_filter(kind, label_selector, field_selector)
        with self.lock:
            return self._store.list(kind, namespace, accept)

    def update(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        with self.lock:
            return self._store.update(obj, dry_run=dry_run)

    def delete(self, kind: str, namespace: str, name: str, *, dry_run: bool = False) -> dict[str, Any]:
        """Remove at once (no graceful termination) and return the object as it was."""
        with self.lock:
            deleted = self._store.delete(kind, namespace, name, dry_run=dry_run)
            if kind == "Pod" and not dry_run:
                self._forget_pod(namespace, name)
            return deleted

    @property
    def resource_version(self) -> str:
        with self.lock:
            return self._store.revision

    # -- logs and metrics ---------------------------------------------------------------------------

    def set_logs(self, namespace: str, pod: str, container: str, lines: Lines, *,
                 previous: bool = False, times: Sequence[datetime] | None = None) -> None:
        """Replace a container's log (or, with previous=True, its previous instance's log); `times`, when
        given, are the runtime timestamps of the lines."""
        with self.lock:
            self._logs.set(namespace, pod, container, lines, previous=previous, times=times)

    def append_logs(self, namespace: str, pod: str, container: str, lines: Lines) -> None:
        with self.lock:
            self._logs.append(namespace, pod, container, lines)

    def read_logs(self, namespace: str, pod: str, query: LogQuery) -> str:
        with self.lock:
            stored = self._store.get("Pod", namespace, pod)
            if stored is None:
                raise KubeError(404, f'pods "{pod}" not found', details={"name": pod, "kind": "pods"})
            return self._logs.read(stored, query)

    def set_pod_metrics(self, namespace: str, pod: str, usage: dict[str, dict[str, str]], *,
                        growth: dict[str, MemoryGrowth] | None = None) -> None:
        """`{container: {"cpu": "250m", "memory": "300Mi"}}`, served as PodMetrics while the pod exists;
        `growth` makes a container's memory rise with its running time (a leak)."""
        with self.lock:
            self._metrics.set(namespace, pod, usage, growth)

    def pod_metrics(self, namespace: str | None, label_selector: str | None = None,
                    field_selector: str | None = None) -> Objects:
        with self.lock:
            pods = self.list("Pod", namespace, label_selector, field_selector)
            return [m for m in (self._metrics.for_pod(p) for p in pods) if m is not None]

    # -- controller ---------------------------------------------------------------------------------

    def reconcile(self) -> None:
        """One controller pass: ReplicaSets for deployments, pods for ReplicaSets, statuses, GC."""
        with self.lock:
            self._controller.reconcile()

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            append_bounded(self.requests, request)

    def _run_pod_hooks(self, pod: dict[str, Any]) -> None:
        for hook in list(self.pod_created_hooks):
            hook(pod)

    def _forget_pod(self, namespace: str, name: str) -> None:
        self._logs.forget_pod(namespace, name)
        self._metrics.forget_pod(namespace, name)

