"""Typed records the sources return. Plain frozen data, detached from client libraries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ContainerState:
    name: str
    ready: bool
    restart_count: int
    waiting_reason: str | None = None
    last_terminated_reason: str | None = None
    last_exit_code: int | None = None
    last_finished_at: datetime | None = None


@dataclass(frozen=True)
class PodInfo:
    name: str
    phase: str
    ready: bool
    created: datetime | None
    images: tuple[str, ...]
    containers: tuple[ContainerState, ...]
    node: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def restarts(self) -> int:
        return sum(c.restart_count for c in self.containers)


@dataclass(frozen=True)
class DeploymentInfo:
    name: str
    namespace: str
    uid: str
    generation: int
    observed_generation: int
    revision: int | None
    replicas: int
    ready_replicas: int
    available_replicas: int
    updated_replicas: int
    images: tuple[str, ...]
    paused: bool
    version: str | None
    conditions: tuple[tuple[str, str, str], ...]  # (type, status, reason)
    match_labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RevisionInfo:
    """One entry of `kubectl rollout history`: a ReplicaSet owned by the deployment."""

    revision: int
    replicaset: str
    images: tuple[str, ...]
    change_cause: str | None
    created: datetime | None
    replicas: int


@dataclass(frozen=True)
class LogLine:
    pod: str
    container: str
    text: str


@dataclass(frozen=True)
class LatencyStats:
    service: str
    period: str
    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True)
class EndpointErrors:
    endpoint: str
    requests: int
    errors: int
    by_status: dict[int, int]


@dataclass(frozen=True)
class ErrorSample:
    request_id: str
    status: int
    endpoint: str
    message: str


@dataclass(frozen=True)
class ErrorStats:
    service: str
    period: str
    requests: int
    errors: int
    error_rate: float
    by_status: dict[int, int]
    by_endpoint: tuple[EndpointErrors, ...]
    samples: tuple[ErrorSample, ...]


@dataclass(frozen=True)
class HealthReport:
    service: str
    status: str
    version: str | None
    checks: dict[str, str]
    dependencies: dict[str, str]
    circuit_breaker: str | None
