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
    waiting_message: str | None = None
    started_at: datetime | None = None  # when the running instance started
    last_started_at: datetime | None = None  # when the previous (terminated) instance started
    last_message: str | None = None
    image_id: str = ""  # what the runtime pulled (`imageID`, with the digest); empty until pulled


@dataclass(frozen=True)
class ProbeSpec:
    """One probe of a container, as the pod spec declares it (`kind`: liveness, readiness, startup)."""

    kind: str
    handler: str  # "GET /health :8080", "tcp :8080", "exec"
    initial_delay_s: int
    period_s: int
    timeout_s: int
    failure_threshold: int


@dataclass(frozen=True)
class ContainerSpec:
    """What a container asks for: requests and limits (CPU in cores, memory in bytes), probes, env names."""

    name: str
    image: str
    cpu_request: float | None = None
    cpu_limit: float | None = None
    memory_request: int | None = None
    memory_limit: int | None = None
    probes: tuple[ProbeSpec, ...] = ()
    env: dict[str, str] = field(default_factory=dict)  # literal values only; valueFrom entries are left out


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
    namespace: str = ""
    uid: str = ""
    started: datetime | None = None  # status.startTime
    specs: tuple[ContainerSpec, ...] = ()
    conditions: tuple[tuple[str, str, str], ...] = ()  # (type, status, reason)

    @property
    def restarts(self) -> int:
        return sum(c.restart_count for c in self.containers)

    def spec(self, container: str) -> ContainerSpec | None:
        return next((s for s in self.specs if s.name == container), None)


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
    # opsbot's own annotations (`opsbot.io/...`, e.g. the replica count scale-to-zero recorded); never the
    # others, which can hold a whole applied manifest.
    opsbot_records: dict[str, str] = field(default_factory=dict)


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
    # The container runtime's own timestamp of the line (`kubectl logs --timestamps`), when asked for.
    ts: datetime | None = None
    previous: bool = False


@dataclass(frozen=True)
class EventInfo:
    """A core/v1 Event about one object (what `kubectl describe` and `kubectl get events` show)."""

    kind: str
    name: str
    type: str  # Normal / Warning
    reason: str
    message: str
    count: int
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True)
class ContainerUsage:
    name: str
    cpu: float  # cores
    memory: int  # bytes


@dataclass(frozen=True)
class PodUsage:
    """One metrics.k8s.io PodMetrics sample (`kubectl top pod`)."""

    pod: str
    timestamp: datetime | None
    containers: tuple[ContainerUsage, ...]

    @property
    def cpu(self) -> float:
        return sum(c.cpu for c in self.containers)

    @property
    def memory(self) -> int:
        return sum(c.memory for c in self.containers)


@dataclass(frozen=True)
class HpaInfo:
    name: str
    min_replicas: int
    max_replicas: int
    current_replicas: int
    desired_replicas: int
    target_cpu_utilization: int | None  # percent of requests
    current_cpu_utilization: int | None
    conditions: tuple[tuple[str, str, str, str], ...] = ()  # (type, status, reason, message)


@dataclass(frozen=True)
class EndpointAddress:
    ip: str
    pod: str | None
    ready: bool


@dataclass(frozen=True)
class ServiceEndpoints:
    """A Service and its Endpoints: does the name lead anywhere?"""

    name: str
    namespace: str
    exists: bool
    cluster_ip: str | None = None
    selector: dict[str, str] = field(default_factory=dict)
    ports: tuple[int, ...] = ()
    addresses: tuple[EndpointAddress, ...] = ()

    @property
    def ready(self) -> tuple[EndpointAddress, ...]:
        return tuple(a for a in self.addresses if a.ready)


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
