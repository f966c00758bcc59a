"""The core vocabulary: what a diagnosis is made of. Frozen values, no I/O, no Slack."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    """Outcome of one check. ERROR means the check could not look (a source failed), not that the
    service is broken; NO_DATA means the source answered but had nothing to judge."""

    OK = "ok"
    WARN = "warn"
    CRIT = "crit"
    NO_DATA = "no_data"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """Worst first: a critical finding outranks a source error, which outranks a warning-free OK."""
        return _STATUS_RANK[self]


_STATUS_RANK = {Status.CRIT: 4, Status.WARN: 3, Status.ERROR: 2, Status.NO_DATA: 1, Status.OK: 0}


class Symptom(StrEnum):
    """The stable symptom vocabulary (DESIGN.md): triage output, diagnose arguments, runbook names."""

    HIGH_LATENCY = "high_latency"
    HIGH_ERROR_RATE = "high_error_rate"
    SERVICE_UNAVAILABLE = "service_unavailable"
    MEMORY_LEAK = "memory_leak"
    CPU_SATURATION = "cpu_saturation"
    SLOW_QUERIES = "slow_queries"
    DB_CONNECTION_EXHAUSTION = "db_connection_exhaustion"
    REPLICATION_LAG = "replication_lag"
    FAILED_HEALTH_CHECK = "failed_health_check"
    CRASH_LOOP = "crash_loop"
    INVALID_JWT = "invalid_jwt"
    PERMISSION_DENIED = "permission_denied"
    DNS_FAILURE = "dns_failure"
    TIMEOUT = "timeout"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Target:
    """The service being diagnosed, resolved from the ops config."""

    service: str
    namespace: str
    selector: str
    deployment: str


@dataclass(frozen=True)
class Fact:
    """One measured number against its threshold, e.g. error rate 12.1 % vs 5 %."""

    label: str
    value: str
    threshold: str | None = None
    status: Status = Status.OK


@dataclass(frozen=True)
class Proposal:
    """A remediation the guide suggests for a cause. Proposing never executes anything."""

    action: str
    params: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""

    @property
    def label(self) -> str:
        args = " ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.action} {args}".strip()


@dataclass(frozen=True)
class Cause:
    """A candidate explanation with how sure the check is (0..1) and the evidence behind it.

    `key` names the explanation (deploy, dependency, database, ...) so that findings of several checks
    pointing at the same explanation are combined rather than listed twice."""

    key: str
    title: str
    confidence: float
    evidence: tuple[str, ...] = ()
    guide_section: str | None = None
    proposals: tuple[Proposal, ...] = ()
    # Keys of other causes this one corroborates (an unhandled exception supports "bad deploy"):
    # when such a cause is present this one folds into it instead of standing alone.
    supports: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """What one check concluded. `evidence` holds short excerpts (log lines, rows), already bounded."""

    check: str
    title: str
    status: Status
    summary: str
    facts: tuple[Fact, ...] = ()
    evidence: tuple[str, ...] = ()
    causes: tuple[Cause, ...] = ()
    guide_section: str | None = None
    duration_ms: float = 0.0


@dataclass(frozen=True)
class Diagnosis:
    """A runbook's result: findings worst first, and the causes ranked across all of them."""

    target: Target
    symptom: Symptom
    findings: tuple[Finding, ...]
    causes: tuple[Cause, ...]
    guide_section: str | None
    duration_ms: float

    @property
    def likely_cause(self) -> Cause | None:
        return self.causes[0] if self.causes else None

    @property
    def status(self) -> Status:
        """The worst finding; but checks with nothing to judge do not outweigh checks that found all well."""
        worst = max((f.status for f in self.findings), key=lambda s: s.rank, default=Status.NO_DATA)
        if worst is Status.NO_DATA and any(f.status is Status.OK for f in self.findings):
            return Status.OK
        return worst
