"""The object store: wire-format dicts keyed by (kind, namespace, name), with apiserver bookkeeping.

Not locked itself: `FakeCluster` serialises access with its RLock. Every read hands out a deep copy so
callers can never mutate stored state behind the store's back.
"""

from __future__ import annotations

import copy
import random
import string
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from . import clock
from .defaults import apply_defaults
from .errors import KubeError, already_exists, conflict, not_found
from .resources import ResourceType, by_kind
from .validation import check_immutable_selector, validate

Key = tuple[str, str, str]  # kind, namespace, name


def resource_for(kind: str) -> ResourceType:
    resource = by_kind(kind)
    if resource is None or resource.model is None:
        raise KubeError(404, f"the server could not find the requested resource (kind {kind})")
    return resource


class ObjectStore:
    def __init__(self, rng: random.Random) -> None:
        self._objects: dict[Key, dict[str, Any]] = {}
        self._revision = 0
        self._rng = rng

    @property
    def revision(self) -> str:
        """The latest resourceVersion handed out; lists carry it as `metadata.resourceVersion`."""
        return str(self._revision)

    def _next_revision(self) -> str:
        self._revision += 1
        return str(self._revision)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        found = self._objects.get((kind, namespace, name))
        return copy.deepcopy(found) if found is not None else None

    def items(self, kind: str, namespace: str | None = None) -> Iterator[dict[str, Any]]:
        """Stored objects of a kind, in etcd key order (namespace, then name); not copies."""
        keys = [k for k in self._objects if k[0] == kind and namespace in (None, k[1])]
        for key in sorted(keys):
            yield self._objects[key]

    def list(self, kind: str, namespace: str | None, accept: Callable[[Mapping[str, Any]], bool]) -> list[
            dict[str, Any]]:
        return [copy.deepcopy(obj) for obj in self.items(kind, namespace) if accept(obj)]

    def create(self, obj: Mapping[str, Any], *, dry_run: bool = False,
               created_at: datetime | None = None) -> dict[str, Any]:
        resource = resource_for(str(obj.get("kind", "")))
        new = copy.deepcopy(dict(obj))
        new["apiVersion"] = resource.api_version
        metadata = new.setdefault("metadata", {})
        if not isinstance(metadata, dict):
            raise KubeError(400, "metadata must be an object")
        if not metadata.get("name") and metadata.get("generateName"):
            suffix = "".join(self._rng.choices(string.ascii_lowercase + string.digits, k=5))
            metadata["name"] = f"{metadata['generateName']}{suffix}"
        metadata["namespace"] = metadata.get("namespace") or "default"
        for server_owned in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds",
                             "selfLink"):
            metadata.pop(server_owned, None)
        metadata["uid"] = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        metadata["creationTimestamp"] = clock.rfc3339(created_at or clock.now())
        if resource.has_spec:
            metadata["generation"] = 1
        apply_defaults(new)
        validate(resource, new)
        key = (resource.kind, metadata["namespace"], metadata["name"])
        if key in self._objects:
            raise already_exists(resource.group_resource, metadata["name"])
        if not dry_run:
            metadata["resourceVersion"] = self._next_revision()
            self._objects[key] = new
        return copy.deepcopy(new)

    def update(self, obj: Mapping[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """Replace an object; a stale `resourceVersion`, when given, is a 409 like optimistic locking."""
        resource = resource_for(str(obj.get("kind", "")))
        new = copy.deepcopy(dict(obj))
        new["apiVersion"] = resource.api_version
        metadata = new.setdefault("metadata", {})
        namespace = metadata.get("namespace") or "default"
        name = str(metadata.get("name", ""))
        key = (resource.kind, namespace, name)
        old = self._objects.get(key)
        if old is None:
            raise not_found(resource.group_resource, name)
        wanted_version = metadata.get("resourceVersion")
        if wanted_version and wanted_version != old["metadata"]["resourceVersion"]:
            raise conflict(resource.group_resource, name)
        old_meta = old["metadata"]
        metadata["namespace"] = namespace
        for immutable in ("uid", "creationTimestamp", "generation", "resourceVersion"):
            if immutable in old_meta:
                metadata[immutable] = old_meta[immutable]
        apply_defaults(new)
        if resource.has_spec and new.get("spec") != old.get("spec"):
            metadata["generation"] = int(old_meta.get("generation", 1)) + 1
        validate(resource, new)
        check_immutable_selector(resource, old, new)
        if new == old:
            return copy.deepcopy(old)  # a no-op write does not bump resourceVersion, as in the real server
        if not dry_run:
            metadata["resourceVersion"] = self._next_revision()
            self._objects[key] = new
        return copy.deepcopy(new)

    def delete(self, kind: str, namespace: str, name: str, *, dry_run: bool = False) -> dict[str, Any]:
        resource = resource_for(kind)
        key = (resource.kind, namespace, name)
        old = self._objects.get(key)
        if old is None:
            raise not_found(resource.group_resource, name)
        if not dry_run:
            del self._objects[key]
        return copy.deepcopy(old)
