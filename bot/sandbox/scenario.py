"""Scenario data: the schema a `scenarios/*.yaml` file must follow, and loading it.

A scenario is pure data. It names the services, each with its deployment's revision history, and a
behaviour profile per image: the traffic it serves, how it fails, what it logs, how its health
endpoint answers and, optionally, what state its pods are in (CrashLoopBackOff, OOMKilled, not ready).
The platform model (`platform.py`) turns this into Kubernetes objects and live metrics, so a new
failure mode is a new YAML file, not new code.

Every model forbids unknown keys, and a load error names the file and the offending key path.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SCENARIO_DIR = ("bot.sandbox", "scenarios")
# Shares are written by hand in YAML; this much rounding slack keeps "0.33/0.33/0.34" valid.
_SHARE_TOLERANCE = 0.005


class ScenarioError(ValueError):
    """A scenario is unknown or its data is invalid; the message names the key."""


def parse_duration(text: str) -> int:
    """`"20m"` -> 1200 seconds. Accepts `<digits><s|m|h|d>` only."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"invalid duration {text!r}: expected e.g. 30s, 20m, 1h, 9d")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


Duration = Annotated[str, Field(pattern=_DURATION.pattern)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
HealthState = Literal["healthy", "degraded", "unhealthy"]


def _check_status_keys(split: dict[str, float], what: str) -> None:
    for status in split:
        if not status.isdigit() or not 400 <= int(status) <= 599:
            raise ValueError(f"{what}: {status!r} is not an HTTP error status (400-599)")


def _check_sums_to_one(values: list[float], what: str) -> None:
    if values and abs(sum(values) - 1.0) > _SHARE_TOLERANCE:
        raise ValueError(f"{what} must add up to 1.0, got {sum(values):.3f}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- behaviour profiles -------------------------------------------------------------------------


class Latency(_Strict):
    p50_ms: float = Field(gt=0)
    p95_ms: float = Field(gt=0)
    p99_ms: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Latency:
        if not self.p50_ms <= self.p95_ms <= self.p99_ms:
            raise ValueError("latency percentiles must satisfy p50_ms <= p95_ms <= p99_ms")
        return self


class Endpoint(_Strict):
    """One route. `traffic` is its share of requests, `errors` its share of the errors."""

    endpoint: str = Field(pattern=r"^(GET|POST|PUT|PATCH|DELETE) /\S*$")
    traffic: Share
    errors: Share = 0.0
    # Which statuses this endpoint's errors have; defaults to the profile's `status_split`.
    status_split: dict[str, Share] | None = None

    @field_validator("status_split")
    @classmethod
    def _split_valid(cls, split: dict[str, float] | None) -> dict[str, float] | None:
        if split is not None:
            _check_status_keys(split, "status_split")
            _check_sums_to_one(list(split.values()), "status_split")
        return split


class LogMessage(_Strict):
    """How one failed request is logged. `text` and `traceback` may use $service, $version, $pod."""

    text: str
    level: Literal["WARN", "ERROR"] | None = None  # default: ERROR for 5xx, WARN for 4xx
    traceback: list[str] = Field(default_factory=list)


class Logs(_Strict):
    # Request lines generated per pod that has been up for `coverage` or longer; younger pods get
    # proportionally fewer (but at least `min_entries`), so lines per second stay plausible.
    entries: int = Field(default=1200, ge=0)
    min_entries: int = Field(default=150, ge=0)
    coverage: Duration = "20m"
    startup: list[str] = Field(default_factory=list)
    # Lines unrelated to requests (cache stats, pool stats), sprinkled in at `periodic_every`.
    periodic: list[str] = Field(default_factory=list)
    periodic_every: int = Field(default=40, ge=1)
    # What the previous instance of a restarted container logged (`kubectl logs --previous`).
    previous: list[str] = Field(default_factory=list)
    # How long before its end the previous instance wrote its first line: its lines are spread evenly
    # over this span (a slow start-up killed by the liveness probe). None: 250 ms apart.
    previous_span: Duration | None = None
    # By HTTP status ("500", "401"): the messages failures of that status are logged with.
    errors: dict[str, list[LogMessage]] = Field(default_factory=dict)
    # Sandbox only: also log one credential of every kind the support bundle redacts (at start-up and in
    # one failed request's headers and traceback; values in `planted_secrets.py`), to test the redaction.
    plant_secrets: bool = False

    @field_validator("errors")
    @classmethod
    def _status_keys(cls, errors: dict[str, list[LogMessage]]) -> dict[str, list[LogMessage]]:
        _check_status_keys({k: 0.0 for k in errors}, "errors")
        return errors


class Dependency(_Strict):
    status: HealthState = "healthy"
    latency_ms: float = Field(default=2.0, ge=0)


class CircuitBreaker(_Strict):
    state: Literal["closed", "open", "half_open"] = "closed"
    failures: int = Field(default=0, ge=0)
    recovery_timeout_s: int = Field(default=30, ge=0)


def _all_healthy(*names: str) -> dict[str, HealthState]:
    return dict.fromkeys(names, "healthy")


class Health(_Strict):
    # None: derived — "degraded" when a check/dependency is not healthy or the breaker is not closed.
    status: HealthState | None = None
    checks: dict[str, HealthState] = Field(default_factory=lambda: _all_healthy("database", "redis"))
    dependencies: dict[str, Dependency] = Field(default_factory=dict)
    circuit_breaker: CircuitBreaker = Field(default_factory=CircuitBreaker)


class Usage(_Strict):
    """Per pod, as `kubectl top` shows it."""

    cpu: str = Field(default="150m", pattern=r"^\d+(\.\d+)?m?$")
    memory: str = Field(default="256Mi", pattern=r"^\d+(Ki|Mi|Gi)$")
    # A leak: each container's memory grows by this much per hour of its running time (from its last
    # (re)start), on top of `memory`, capped at the container's memory limit. None: memory is flat.
    memory_growth_per_hour: str | None = Field(default=None, pattern=r"^\d+(Ki|Mi|Gi)$")


class Terminated(_Strict):
    reason: str
    exit_code: int
    finished_ago: Duration = "1m"
    started_ago: Duration | None = None


class PodState(_Strict):
    """Overrides for one pod of an image: the i-th pod of the image gets `pod_states[i]`."""

    ready: bool = True
    phase: Literal["Pending", "Running", "Succeeded", "Failed", "Unknown"] = "Running"
    restart_count: int = Field(default=0, ge=0)
    waiting_reason: str | None = None  # CrashLoopBackOff, ImagePullBackOff, ...
    waiting_message: str | None = None
    last_terminated: Terminated | None = None
    # Seconds the pod's own clock runs ahead (+) or behind (-) true time: the app's log timestamps (and
    # its JWT expiry checks) use it, the container runtime's `--timestamps` do not.
    clock_offset_s: float = 0.0
    # Seeding only: the pod was created this long ago instead of with its ReplicaSet (the HPA added it
    # later, or it replaced an evicted pod). Must not be older than the live revision.
    created_ago: Duration | None = None
    # When the running container instance started (after its last restart); default: with the pod.
    running_since_ago: Duration | None = None


class Profile(_Strict):
    """How pods running one image behave. Rates are for the whole service running this image."""

    requests_per_second: float = Field(gt=0)
    error_rate: Share
    status_split: dict[str, Share] = Field(default_factory=lambda: {"500": 1.0})
    endpoints: list[Endpoint] = Field(min_length=1)
    latency: Latency
    usage: Usage = Field(default_factory=Usage)
    logs: Logs = Field(default_factory=Logs)
    health: Health = Field(default_factory=Health)
    pod_states: list[PodState] = Field(default_factory=list)

    @field_validator("status_split")
    @classmethod
    def _split_valid(cls, split: dict[str, float]) -> dict[str, float]:
        _check_status_keys(split, "status_split")
        _check_sums_to_one(list(split.values()), "status_split")
        return split

    @model_validator(mode="after")
    def _shares_add_up(self) -> Profile:
        _check_sums_to_one([e.traffic for e in self.endpoints], "endpoints[].traffic")
        if self.error_rate > 0:
            _check_sums_to_one([e.errors for e in self.endpoints], "endpoints[].errors")
        return self


# --- Kubernetes shape ---------------------------------------------------------------------------


class Resources(_Strict):
    requests: dict[str, str] = Field(default_factory=lambda: {"cpu": "250m", "memory": "256Mi"})
    limits: dict[str, str] = Field(default_factory=lambda: {"cpu": "1", "memory": "512Mi"})


class Probe(_Strict):
    path: str = "/health"
    initial_delay_seconds: int = 10
    period_seconds: int = 10
    timeout_seconds: int = 5
    failure_threshold: int = 3


class Revision(_Strict):
    """One rollout of the deployment. The last one listed is live; earlier ones are history."""

    revision: int = Field(ge=1)
    version: str
    image: str | None = None  # default: registry.example.com/<service>:<version>
    change_cause: str | None = None
    rolled_out_ago: Duration
    profile: str  # key into the scenario's `profiles`
    # Per-revision overrides of the service's container settings.
    resources: Resources | None = None
    env: dict[str, str] | None = None


class Hpa(_Strict):
    min_replicas: int = Field(ge=1)
    max_replicas: int = Field(ge=1)
    current_replicas: int | None = None  # default: the deployment's replicas
    target_cpu_utilization: int = Field(default=70, ge=1, le=100)
    current_cpu_utilization: int = Field(default=45, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> Hpa:
        if self.min_replicas > self.max_replicas:
            raise ValueError("min_replicas must not exceed max_replicas")
        return self


class ServicePort(_Strict):
    port: int = 80
    target_port: int = 8080
    # Overrides the Service's selector (default `app: <name>`); a mismatch leaves no endpoints.
    selector: dict[str, str] | None = None


class EventSpec(_Strict):
    """A Kubernetes event. `object` is `Deployment`, `ReplicaSet` (live one) or `Pod` (`pod_index`)."""

    object: Literal["Deployment", "ReplicaSet", "Pod"] = "Deployment"
    pod_index: int = Field(default=0, ge=0)
    type: Literal["Normal", "Warning"] = "Normal"
    reason: str
    message: str
    count: int = Field(default=1, ge=1)
    first_ago: Duration = "5m"
    last_ago: Duration = "1m"


class ServiceSpec(_Strict):
    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    namespace: str = "default"
    replicas: int = Field(ge=0)
    port: int = 8080
    # Recreate stops every old pod before starting new ones (a queue consumer that must not run two
    # versions at once); a new image that cannot start then leaves no pod at all.
    strategy: Literal["RollingUpdate", "Recreate"] = "RollingUpdate"
    resources: Resources = Field(default_factory=Resources)
    liveness: Probe = Field(default_factory=Probe)
    readiness: Probe = Field(default_factory=lambda: Probe(path="/ready", initial_delay_seconds=5))
    env: dict[str, str] = Field(default_factory=lambda: {"LOG_LEVEL": "INFO"})
    revisions: list[Revision] = Field(min_length=1)
    hpa: Hpa | None = None
    service: ServicePort = Field(default_factory=ServicePort)
    events: list[EventSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _revisions_ordered(self) -> ServiceSpec:
        numbers = [r.revision for r in self.revisions]
        if numbers != sorted(set(numbers)):
            raise ValueError("revisions must be listed oldest first with increasing revision numbers")
        ages = [parse_duration(r.rolled_out_ago) for r in self.revisions]
        if ages != sorted(ages, reverse=True):
            raise ValueError("revisions[].rolled_out_ago must decrease from the oldest to the live one")
        return self

    @property
    def live(self) -> Revision:
        return self.revisions[-1]

    def image_of(self, revision: Revision) -> str:
        return revision.image or f"registry.example.com/{self.name}:{revision.version}"


class CoreDns(_Strict):
    """The cluster DNS (CoreDNS in kube-system, pods labelled `k8s-app=kube-dns`) and the sandbox DNS server.

    Healthy by default. `pod_states` work as for services (the i-th pod gets the i-th state). While no
    CoreDNS pod is ready, the sandbox DNS server answers as `when_down` says: `timeout` (no answer at all,
    what clients see when the kube-dns Service has no endpoints) or `servfail`."""

    replicas: int = Field(default=2, ge=0)
    version: str = "1.11.1"
    pod_states: list[PodState] = Field(default_factory=list)
    when_down: Literal["timeout", "servfail"] = "timeout"
    # What the previous instance of a restarted CoreDNS container logged (`kubectl logs --previous`).
    previous_logs: list[str] = Field(default_factory=list)


class Scenario(_Strict):
    name: str
    description: str
    services: list[ServiceSpec] = Field(min_length=1)
    profiles: dict[str, Profile]
    coredns: CoreDns = Field(default_factory=CoreDns)

    @model_validator(mode="after")
    def _references_resolve(self) -> Scenario:
        names = [s.name for s in self.services]
        if len(names) != len(set(names)):
            raise ValueError("services[].name must be unique")
        for i, service in enumerate(self.services):
            for j, revision in enumerate(service.revisions):
                if revision.profile not in self.profiles:
                    raise ValueError(
                        f"services.{i}.revisions.{j}.profile: unknown profile {revision.profile!r}"
                        f" (defined: {', '.join(sorted(self.profiles))})"
                    )
        return self

    def service(self, name: str) -> ServiceSpec | None:
        return next((s for s in self.services if s.name == name), None)


# --- loading ------------------------------------------------------------------------------------


def _format_errors(source: str, error: ValidationError) -> str:
    lines = [f"invalid scenario {source}:"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {key}: {item['msg']}")
    return "\n".join(lines)


def parse_scenario(data: Any, source: str = "<data>") -> Scenario:
    """Validate already-parsed YAML; raises ScenarioError naming each bad key."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(_format_errors(source, error)) from None


def load_scenario_file(path: Path) -> Scenario:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ScenarioError(f"invalid scenario {path}: not YAML: {error}") from None
    return parse_scenario(data, str(path))


def _packaged() -> dict[str, str]:
    """Scenario name -> YAML text of the scenarios shipped in the package."""
    folder = resources.files(_SCENARIO_DIR[0]) / _SCENARIO_DIR[1]
    return {
        entry.name.removesuffix(".yaml"): entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    }


def load_scenario(name: str) -> Scenario:
    """A packaged scenario by name (`bad-deploy`), or a path to a YAML file."""
    if name.endswith((".yaml", ".yml")) and Path(name).is_file():
        return load_scenario_file(Path(name))
    packaged = _packaged()
    if name not in packaged:
        raise ScenarioError(f"unknown scenario {name!r}; valid: {', '.join(sorted(packaged))}")
    try:
        data = yaml.safe_load(packaged[name])
    except yaml.YAMLError as error:
        raise ScenarioError(f"invalid scenario {name}: not YAML: {error}") from None
    return parse_scenario(data, f"{name}.yaml")


def list_scenarios() -> list[tuple[str, str]]:
    """(name, one-line description) of every packaged scenario, sorted by name."""
    return [(name, load_scenario(name).description.strip().splitlines()[0]) for name in sorted(_packaged())]
