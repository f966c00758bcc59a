"""Typed records the write sources return (remediations). Plain frozen data, detached from client libraries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ContainerSpec:
    """What a remediation may change in one container of a deployment's pod template."""

    name: str
    image: str
    env: dict[str, str]  # literal values only; valueFrom entries are listed in env_refs
    memory_limit: str | None
    memory_request: str | None
    env_refs: frozenset[str] = frozenset()  # variables set from a ConfigMap/Secret/field reference


@dataclass(frozen=True)
class DeploymentSpecView:
    """A deployment as the remediations see it: spec, annotations and rollout status."""

    name: str
    namespace: str
    uid: str
    generation: int
    observed_generation: int
    revision: int | None
    replicas: int
    paused: bool
    annotations: dict[str, str]
    containers: tuple[ContainerSpec, ...]
    template: dict[str, Any] = field(repr=False)  # wire format, for undo comparisons
    match_labels: dict[str, str] = field(default_factory=dict)
    resource_version: str = ""
    updated_replicas: int = 0
    status_replicas: int = 0
    available_replicas: int = 0
    progress_deadline_exceeded: bool = False

    @property
    def rollout_complete(self) -> bool:
        """kubectl rollout status's "successfully rolled out"."""
        return (
            self.generation <= self.observed_generation
            and self.updated_replicas >= self.replicas
            and self.status_replicas == self.updated_replicas
            and self.available_replicas >= self.updated_replicas
        )

    def container(self, preferred: str) -> ContainerSpec:
        """The application container: the one named like the deployment, else the first."""
        for c in self.containers:
            if c.name == preferred:
                return c
        return self.containers[0]


@dataclass(frozen=True)
class ReplicaSetRevision:
    """One revision of `kubectl rollout history`, with what undo needs (template, annotations)."""

    revision: int
    name: str
    annotations: dict[str, str]
    template: dict[str, Any] = field(repr=False)
    images: tuple[str, ...] = ()


@dataclass(frozen=True)
class UndoResult:
    """What an undo did (or, dry run, would do). `skipped` mirrors kubectl's "skipped rollback"."""

    from_revision: int | None
    to_revision: int
    replicaset: str
    images_before: tuple[str, ...]
    images_after: tuple[str, ...]
    skipped: bool


@dataclass(frozen=True)
class ConfigMapView:
    name: str
    namespace: str
    resource_version: str
    data: dict[str, str]


@dataclass(frozen=True)
class IdleConnection:
    pid: int
    user: str | None
    application: str | None
    client: str | None
    state_change: datetime
    idle_s: float


@dataclass(frozen=True)
class BackendQuery:
    """One session of pg_stat_activity as cancel-query shows it."""

    pid: int
    database: str | None
    user: str | None
    application: str | None
    state: str | None
    query: str
    query_start: datetime | None
    duration_s: float | None
    own_session: bool


@dataclass(frozen=True)
class CacheInfo:
    host: str
    db: int
    keys: int
