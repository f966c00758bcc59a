"""`?watch=true` on a list: the changes after a resourceVersion, as the apiserver's watch events.

The store keeps no history, so the events come from comparing snapshots (the HTTP layer polls a few
times a second): an object whose resourceVersion is newer than the one last seen is ADDED (a name not
seen before) or MODIFIED, and a name that no longer matches the selectors is DELETED. An object created
and deleted between two looks is never reported, as if the real apiserver had compacted it away; that
is enough for `kubectl rollout status` and informers, which re-list on start.
"""

from __future__ import annotations

import copy
from typing import Any

from .cluster import FakeCluster
from .errors import KubeError
from .protocol import ApiRequest
from .routes import ResourceRoute
from .selectors import build_filter

POLL_INTERVAL_S = 0.05

Event = dict[str, Any]


class Watcher:
    """One watch stream's memory: the objects it has reported, by namespace and name."""

    def __init__(self, cluster: FakeCluster, route: ResourceRoute, request: ApiRequest) -> None:
        self._cluster = cluster
        self._route = route
        self._labels = request.query.get("labelSelector")
        self._fields = request.query.get("fieldSelector")
        build_filter(route.resource.kind, self._labels, self._fields)  # a bad selector is a 400 up front
        # The stream ends after the client's timeoutSeconds (the HTTP layer serves no watch without one).
        self.timeout_s = request.int_param("timeoutSeconds") or 0
        if self.timeout_s < 0:
            raise KubeError(400, "timeoutSeconds must not be negative")
        since = request.query.get("resourceVersion", "")
        if since not in ("", "0") and not since.isdigit():
            raise KubeError(400, f"invalid resource version: {since!r}")
        # Without a resourceVersion (or "0") the stream starts with every current object as ADDED.
        self._since = int(since) if since not in ("", "0") else 0
        self._seen: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self._started = False

    def poll(self) -> list[Event]:
        """The events since the last poll (the first poll: since the client's resourceVersion)."""
        objects = self._cluster.list(self._route.resource.kind, self._route.namespace, self._labels, self._fields)
        current = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objects}
        events: list[Event] = []
        for key, obj in current.items():
            version = int(obj["metadata"].get("resourceVersion", "0"))
            seen = self._seen.get(key)
            self._seen[key] = (version, obj)
            if seen is not None:
                if version > seen[0]:
                    events.append(_event("MODIFIED", obj))
            elif self._started or version > self._since:
                # Changed after the client's resourceVersion: created or modified since, the store
                # cannot tell which; MODIFIED, which informers take as an add for an unknown object.
                events.append(_event("MODIFIED" if not self._started and self._since else "ADDED", obj))
        for key in [k for k in self._seen if k not in current]:
            _, last = self._seen.pop(key)
            events.append(_event("DELETED", last))
        self._started = True
        return events


def _event(kind: str, obj: dict[str, Any]) -> Event:
    return {"type": kind, "object": copy.deepcopy(obj)}
