"""The three signs of a memory leak, computed from pods, metrics.k8s.io samples and events. Pure.

1. Across pods: a leak makes memory a function of how long the process has run, so older containers use
   more. A line through (running hours, memory) gives growth per hour.
2. Over time: the same pod sampled twice, seconds apart, uses more the second time. metrics-server
   refreshes every 15-60 s, so samples with the same timestamp say nothing and are skipped.
3. The end of the story: containers OOMKilled (exit 137), restarts, OOM events.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from bot.checks.growth import LineFit, fit_line
from bot.sources.records import EventInfo, PodInfo, PodUsage

OOM_EXIT_CODE = 137  # 128 + SIGKILL: what the kernel's OOM killer leaves behind


@dataclass(frozen=True)
class PodMemory:
    pod: str
    memory: int
    limit: int | None
    running_hours: float | None  # since the running container instance started (a restart resets memory)
    restarts: int

    @property
    def share(self) -> float | None:
        return self.memory / self.limit if self.limit else None


@dataclass(frozen=True)
class SampleTrend:
    """Growth between the first and last sample of each pod whose samples have different timestamps."""

    rates: dict[str, float]  # pod -> bytes per hour

    @property
    def rising(self) -> list[str]:
        return [pod for pod, rate in self.rates.items() if rate > 0]

    @property
    def median_rate(self) -> float | None:
        return statistics.median(self.rates.values()) if self.rates else None


def pod_memory(pods: tuple[PodInfo, ...], latest: tuple[PodUsage, ...], now: datetime) -> list[PodMemory]:
    by_name = {p.name: p for p in pods}
    result = []
    for sample in latest:
        pod = by_name.get(sample.pod)
        if pod is None:
            continue
        limits = [s.memory_limit for s in pod.specs]
        limit = sum(v for v in limits if v is not None) if limits and None not in limits else None
        result.append(PodMemory(sample.pod, sample.memory, limit, _running_hours(pod, sample.timestamp or now),
                                pod.restarts))
    return result


def _running_hours(pod: PodInfo, at: datetime) -> float | None:
    # The most recent (re)start of any container: memory of a multi-container pod resets with it.
    starts = [c.started_at for c in pod.containers if c.started_at is not None]
    since = max(starts) if starts else pod.started or pod.created
    return max(0.0, (at - since).total_seconds() / 3600) if since else None


def age_fit(pods: list[PodMemory], min_spread_hours: float) -> LineFit | None:
    """Memory against running time across pods; None when too few pods or their ages are too alike."""
    points = [(p.running_hours, float(p.memory)) for p in pods if p.running_hours is not None]
    if len(points) < 3:
        return None
    ages = [x for x, _ in points]
    if max(ages) - min(ages) < min_spread_hours:
        return None
    return fit_line(points)


def sample_trend(rounds: tuple[tuple[PodUsage, ...], ...]) -> SampleTrend:
    if len(rounds) < 2:
        return SampleTrend({})
    first = {u.pod: u for u in rounds[0]}
    rates: dict[str, float] = {}
    for last in rounds[-1]:
        start = first.get(last.pod)
        if start is None or start.timestamp is None or last.timestamp is None:
            continue
        seconds = (last.timestamp - start.timestamp).total_seconds()
        if seconds > 0:
            rates[last.pod] = (last.memory - start.memory) / seconds * 3600
    return SampleTrend(rates)


def oom_killed(pods: tuple[PodInfo, ...]) -> list[str]:
    """`pod/container (exit 137, N min ago)` for every container whose last instance was OOMKilled."""
    found = []
    for pod in pods:
        for c in pod.containers:
            if c.last_terminated_reason == "OOMKilled" or c.last_exit_code == OOM_EXIT_CODE:
                found.append((pod.name, c))
    return [f"{name}/{c.name}: {c.last_terminated_reason or 'killed'} (exit {c.last_exit_code}), "
            f"{restarts(c.restart_count)}" for name, c in found]


def restarts(count: int) -> str:
    return f"{count} restart{'' if count == 1 else 's'}"


def oom_events(events: tuple[EventInfo, ...]) -> list[EventInfo]:
    return [e for e in events if "oom" in e.reason.lower()
            or any(word in e.message.lower() for word in ("oomkill", "out of memory"))]
