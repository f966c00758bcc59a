"""Reading everything the bundle holds, through the sources only, in parallel.

A source that fails or takes too long is recorded as unavailable with its reason and the rest still
arrives: a bundle with a gap that says so beats no bundle in the middle of an incident.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from bot.bundle.request import BundleRequest
from bot.model import Diagnosis, Target
from bot.sources.errors import SourceError
from bot.sources.kube import KubeSource
from bot.sources.pod_images import ContainerImage, images_of
from bot.sources.records import (
    DeploymentInfo,
    ErrorStats,
    EventInfo,
    HealthReport,
    LatencyStats,
    LogLine,
    PodInfo,
    PodUsage,
    RevisionInfo,
)
from bot.store.approvals import ApprovalStoreError, AuditRecord
from bot.wiring import Deps

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Unavailable:
    part: str
    reason: str


@dataclass(frozen=True)
class ContainerLog:
    pod: str
    container: str
    previous: bool
    lines: list[LogLine]

    @property
    def name(self) -> str:
        return f"{self.pod}/{self.container}" + (" (previous)" if self.previous else "")


@dataclass
class Collected:
    target: Target
    since: datetime
    until: datetime
    deployment: DeploymentInfo | None = None
    history: list[RevisionInfo] = field(default_factory=list)
    pods: list[PodInfo] = field(default_factory=list)
    images: list[ContainerImage] = field(default_factory=list)
    logs: list[ContainerLog] = field(default_factory=list)
    events: list[EventInfo] = field(default_factory=list)
    latency: LatencyStats | None = None
    errors: ErrorStats | None = None
    health: HealthReport | None = None
    usage: list[PodUsage] = field(default_factory=list)
    audit: list[AuditRecord] = field(default_factory=list)
    diagnosis: Diagnosis | None = None
    unavailable: list[Unavailable] = field(default_factory=list)


class _Attempts:
    """Runs one read under the timeout; a failure becomes an `Unavailable` entry instead of an exception."""

    def __init__(self, collected: Collected, timeout_s: float) -> None:
        self.collected = collected
        self.timeout_s = timeout_s

    async def __call__(self, part: str, read: Awaitable[T]) -> T | None:
        try:
            return await asyncio.wait_for(read, self.timeout_s)
        except TimeoutError:
            reason = f"no answer within {self.timeout_s:g} s"
        except (SourceError, ApprovalStoreError) as exc:
            reason = str(exc)
        except Exception as exc:
            # A bug in one part must not cost the whole bundle; the traceback goes to the bot's log.
            log.exception("bundle part %s failed", part)
            reason = f"failed ({type(exc).__name__}); see the bot's logs"
        self.collected.unavailable.append(Unavailable(part, reason))
        return None


async def collect(deps: Deps, request: BundleRequest, now: datetime) -> Collected:
    target = deps.config.target(request.service)
    settings = deps.config.bundle
    collected = Collected(target=target, since=now - request.window, until=now)
    attempt = _Attempts(collected, settings.timeout_s)
    period = _period(request.window)
    await asyncio.gather(
        _kubernetes(deps, target, attempt, settings.log_tail_lines),
        _metrics(deps, target, period, attempt),
        _audit(deps, target, attempt),
        _diagnosis(deps, request, attempt),
    )
    collected.logs = [_within(entry, collected.since) for entry in collected.logs]
    return collected


async def _kubernetes(deps: Deps, target: Target, attempt: _Attempts, tail: int) -> None:
    kube = deps.sources.kube
    out = attempt.collected
    deployment = await attempt("deployment", kube.deployment(target))
    pods = await attempt("pods", kube.pods(target))
    reads: list[Awaitable[object]] = [_events(kube, target, attempt)]
    if deployment is not None:
        out.deployment = deployment
        reads.append(_history(kube, deployment, attempt))
    if pods is not None:
        out.pods, out.images = pods, images_of(pods)
        reads.append(_logs(deps, out.pods, target, attempt, tail))
    await asyncio.gather(*reads)


async def _events(kube: KubeSource, target: Target, attempt: _Attempts) -> None:
    attempt.collected.events = await attempt("events", kube.events(target)) or []


async def _history(kube: KubeSource, deployment: DeploymentInfo, attempt: _Attempts) -> None:
    attempt.collected.history = await attempt("rollout history", kube.rollout_history(deployment)) or []


async def _logs(deps: Deps, pods: list[PodInfo], target: Target, attempt: _Attempts, tail: int) -> None:
    """Every container's log with the runtime's timestamps, and the previous instance's where it restarted."""
    kube = deps.sources.kube
    wanted = [
        (pod.name, state.name, previous)
        for pod in pods
        for state in pod.containers
        for previous in ((False, True) if state.restart_count > 0 else (False,))
    ]
    reads = [
        attempt(
            f"logs {pod}/{container}" + (" (previous)" if previous else ""),
            kube.pod_log(target.namespace, pod, container, tail, previous=previous, timestamps=True),
        )
        for pod, container, previous in wanted
    ]
    results = await asyncio.gather(*reads)
    attempt.collected.logs = [
        ContainerLog(pod, container, previous, lines)
        for (pod, container, previous), lines in zip(wanted, results, strict=True)
        if lines is not None
    ]


async def _metrics(deps: Deps, target: Target, period: str, attempt: _Attempts) -> None:
    metrics, kube, out = deps.sources.metrics, deps.sources.kube, attempt.collected
    latency, errors, health, usage = await asyncio.gather(
        attempt("metrics: latency", metrics.latency(target.service, period)),
        attempt("metrics: errors", metrics.errors(target.service, period)),
        attempt("metrics: health", metrics.health(target.service)),
        attempt("metrics: pod CPU/memory", kube.pod_usage(target.namespace, target.selector)),
    )
    out.latency, out.errors, out.health, out.usage = latency, errors, health, usage or []


async def _audit(deps: Deps, target: Target, attempt: _Attempts) -> None:
    since = attempt.collected.since
    records = await attempt("audit log", deps.approvals.audit(service=target.service, since=since))
    attempt.collected.audit = records or []


async def _diagnosis(deps: Deps, request: BundleRequest, attempt: _Attempts) -> None:
    if request.diagnosis is not None:
        attempt.collected.diagnosis = request.diagnosis
        return
    attempt.collected.diagnosis = await attempt("diagnosis", deps.diagnose(request.service, request.symptom))


def _within(entry: ContainerLog, since: datetime) -> ContainerLog:
    """Lines of the window only; a line without a runtime timestamp is kept (it cannot be placed)."""
    kept = [line for line in entry.lines if line.ts is None or line.ts >= since]
    return ContainerLog(entry.pod, entry.container, entry.previous, kept)


def _period(window: timedelta) -> str:
    """The metrics API's period for the window: whole minutes, at least one."""
    return f"{max(1, round(window.total_seconds() / 60))}m"
