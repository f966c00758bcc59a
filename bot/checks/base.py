"""What a check is: `collect` does the I/O through sources, `assess` is pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.access_policy import AccessPolicy
from bot.config import DiagnosisConfig, Thresholds
from bot.model import Finding, Status, Target
from bot.sources.cache import CacheSource
from bot.sources.dns import DnsSource
from bot.sources.kube import KubeSource
from bot.sources.metrics import MetricsSource
from bot.sources.postgres import PostgresSource


def graded(value: float, warn: float, crit: float) -> Status:
    """CRIT at or above `crit`, WARN at or above `warn`, else OK: how a number meets the guide's two lines."""
    if value >= crit:
        return Status.CRIT
    return Status.WARN if value >= warn else Status.OK


@dataclass(frozen=True)
class SourceSet:
    """The sources a check may use. Built once in wiring; tests build it against the sandbox."""

    kube: KubeSource
    metrics: MetricsSource
    postgres: PostgresSource | None = None
    cache: CacheSource | None = None
    # Cluster DNS; the default asks the system resolver, as a pod would.
    dns: DnsSource = field(default_factory=DnsSource)


@dataclass(frozen=True)
class CheckContext:
    target: Target
    thresholds: Thresholds
    diagnosis: DiagnosisConfig
    dependencies: tuple[str, ...]
    now: datetime
    # The services' own RBAC from the ops config, to explain 403s (access_policy check).
    access_policy: AccessPolicy = field(default_factory=AccessPolicy)


class Check(Protocol):
    """One aspect of one symptom. The docstring's first line is the help text."""

    name: str
    title: str
    guide_section: str

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> Any: ...

    def assess(self, evidence: Any, ctx: CheckContext) -> Finding: ...
