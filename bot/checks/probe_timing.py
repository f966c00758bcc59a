"""Probe settings vs observed start-up time: is the liveness probe killing pods before they are up?

Start-up is measured from the container's start (its status) to the first log line saying it serves
("Listening on", "ready", ...), using the container runtime's timestamps (`--timestamps`), which do not
depend on the pod's own clock. A previous instance that never said so before it was killed ran for a
known time: that is a lower bound of its start-up."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.checks.base import CheckContext, SourceSet
from bot.checks.excerpts import excerpt
from bot.checks.pod_facts import liveness_window_s, probe_text
from bot.model import Cause, Fact, Finding, Status
from bot.sources.errors import SourceError
from bot.sources.records import ContainerState, LogLine, PodInfo, ProbeSpec

SECTION = "Failed Health Checks"
PODS_READ = 6
PREVIOUS_TAIL = 200
# The guide's remedy for a slow start-up.
GUIDE_DELAY_S = 60
# A container younger than this has its start in the log tail; older ones are not measured.
YOUNG = timedelta(minutes=30)
RECENT = timedelta(hours=1)
# The log's first line must be this close to the container start, or the tail no longer holds the start.
HEAD_SLACK_S = 5.0
READY_MARKER = re.compile(
    r"listening on|listening at|server started|started server|ready to (accept|serve)|"
    r"application startup complete|serving on|consumer ready|startup complete|started .* in [\d.]+ ?s", re.I
)


@dataclass(frozen=True)
class Instance:
    """One run of a container and what its log says about its start-up."""

    pod: str
    container: str
    previous: bool
    started: datetime
    ended: datetime | None  # None: still running
    exit_reason: str | None
    lines: tuple[LogLine, ...]
    ready: bool = False  # the current instance passes its readiness probe


@dataclass(frozen=True)
class ProbeTimingEvidence:
    pods: tuple[PodInfo, ...]
    instances: tuple[Instance, ...]
    unreadable: tuple[str, ...]


@dataclass(frozen=True)
class StartUp:
    """What one instance tells: `ready_after_s` measured, or `at_least_s` when it never got there."""

    instance: Instance
    ready_after_s: float | None
    at_least_s: float | None

    @property
    def seconds(self) -> float:
        return self.ready_after_s if self.ready_after_s is not None else self.at_least_s or 0.0

    def text(self) -> str:
        where = f"{self.instance.pod} ({'previous' if self.instance.previous else 'current'} instance)"
        if self.ready_after_s is not None:
            return f"{where}: ready {self.ready_after_s:.0f} s after start"
        if self.instance.ended is not None:
            last = excerpt(self.instance.lines[-1].text, 160) if self.instance.lines else "no log"
            return (f"{where}: ran {self.seconds:.0f} s, {self.instance.exit_reason or 'terminated'}, never logged"
                    f" that it was ready; last line: {last}")
        return f"{where}: still starting after {self.seconds:.0f} s"


class ProbeTimingCheck:
    """Probe settings (initialDelaySeconds etc.) vs observed start-up time of the containers."""

    name = "probe_timing"
    title = "Probe timing vs start-up"
    guide_section = SECTION

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> ProbeTimingEvidence:
        pods = sorted(await sources.kube.pods(ctx.target), key=lambda p: p.name)
        wanted = [job for pod in pods for state in pod.containers for job in _runs(pod, state, ctx.now)]
        results = await asyncio.gather(*(_read(sources, ctx, *job) for job in wanted[: PODS_READ * 2]))
        instances = tuple(r for r in results if isinstance(r, Instance))
        unreadable = tuple(r for r in results if isinstance(r, str))
        return ProbeTimingEvidence(tuple(pods), instances, unreadable)

    def assess(self, evidence: ProbeTimingEvidence, ctx: CheckContext) -> Finding:
        probes = _probes(evidence.pods)
        if not probes:
            return Finding(self.name, self.title, Status.NO_DATA, "No liveness or readiness probe is configured.",
                           guide_section=self.guide_section)
        liveness = probes.get("liveness")
        startup_probe = probes.get("startup")
        budget_probe = startup_probe or liveness
        window = liveness_window_s(budget_probe) if budget_probe else None
        delay = (liveness or probes.get("readiness") or budget_probe)
        initial_delay = delay.initial_delay_s if delay else 0
        startups = [s for s in (_startup(i, ctx.now) for i in evidence.instances) if s is not None]
        facts = [Fact(kind, probe_text(p).split(": ", 1)[1]) for kind, p in sorted(probes.items())]
        if window is not None:
            facts.append(Fact("kill window", f"{window} s", None))
        if not evidence.instances and not evidence.unreadable:
            # Nothing started or restarted lately, so no probe has been cutting a start-up short.
            return Finding(self.name, self.title, Status.OK,
                           "No container started in the last 30 min or restarted in the last hour: nothing to"
                           " time, and no probe killed one.", facts=tuple(facts), guide_section=self.guide_section)
        if not startups:
            note = f" ({len(evidence.unreadable)} log(s) unreadable)" if evidence.unreadable else ""
            return Finding(self.name, self.title, Status.NO_DATA,
                           "Recent container starts, but their logs do not reach back to the start." + note,
                           facts=tuple(facts), guide_section=self.guide_section)
        slowest = max(startups, key=lambda s: s.seconds)
        killed = [s for s in startups if _killed_starting(s, window, budget_probe)]
        # Only a measured start-up counts here: a container still starting is not killed, so the window
        # has not been shown too short (yet); it is "late" below.
        too_slow = [s for s in startups if window is not None and s.ready_after_s is not None and s.seconds > window]
        late = [s for s in startups if s.seconds > initial_delay]
        status = Status.CRIT if killed or too_slow else Status.WARN if late else Status.OK
        facts.append(Fact("slowest start-up", _seconds_text(slowest), f"{window} s" if window else None, status))
        lines = tuple(s.text() for s in sorted(startups, key=lambda s: -s.seconds)[:PODS_READ])
        causes: tuple[Cause, ...] = ()
        if killed or too_slow:
            causes = (_slow_startup(killed or too_slow, budget_probe, window, 0.8 if killed else 0.65),)
        elif late:
            causes = (_late_ready(late, initial_delay),)
        return Finding(self.name, self.title, status, _summary(status, slowest, window, initial_delay, killed),
                       facts=tuple(facts), evidence=lines, causes=causes, guide_section=self.guide_section)


def _runs(pod: PodInfo, state: ContainerState, now: datetime) -> list[tuple[PodInfo, ContainerState, bool]]:
    """Which instances of a container can show its start-up: a young current one, a recent previous one."""
    runs = []
    if state.started_at is not None and now - state.started_at <= YOUNG:
        runs.append((pod, state, False))
    if (state.last_started_at is not None and state.last_finished_at is not None
            and now - state.last_finished_at <= RECENT):
        runs.append((pod, state, True))
    return runs


async def _read(sources: SourceSet, ctx: CheckContext, pod: PodInfo, state: ContainerState,
                previous: bool) -> Instance | str:
    tail = PREVIOUS_TAIL if previous else ctx.diagnosis.log_tail_lines
    try:
        lines = await sources.kube.pod_log(ctx.target.namespace, pod.name, state.name, tail,
                                           previous=previous, timestamps=True)
    except SourceError as exc:
        return f"{pod.name}/{state.name}: {exc}"
    started = state.last_started_at if previous else state.started_at
    assert started is not None  # _runs only yields instances with a known start
    return Instance(pod.name, state.name, previous, started, state.last_finished_at if previous else None,
                    state.last_terminated_reason if previous else None, tuple(lines),
                    ready=state.ready and not previous)


def _probes(pods: tuple[PodInfo, ...]) -> dict[str, ProbeSpec]:
    """The probes of the first container that has any (all pods of a deployment share one template)."""
    for pod in pods:
        for spec in pod.specs:
            if spec.probes:
                return {p.kind: p for p in spec.probes}
    return {}


def _startup(instance: Instance, now: datetime) -> StartUp | None:
    stamped = [line for line in instance.lines if line.ts is not None]
    if not stamped:
        return None
    head = stamped[0].ts
    assert head is not None
    if (head - instance.started).total_seconds() > HEAD_SLACK_S:
        return None  # the tail no longer reaches back to the start
    ready = next((line for line in stamped if READY_MARKER.search(line.text)), None)
    if ready is not None and ready.ts is not None:
        return StartUp(instance, (ready.ts - instance.started).total_seconds(), None)
    if instance.ended is None and instance.ready:
        return None  # up and ready, but it never says so in words: nothing to measure
    end = instance.ended or now
    return StartUp(instance, None, (end - instance.started).total_seconds())


def _killed_starting(startup: StartUp, window: int | None, probe: ProbeSpec | None) -> bool:
    """A previous instance that never got ready and ran about as long as the probe allows was killed by it."""
    if window is None or probe is None or startup.ready_after_s is not None or startup.instance.ended is None:
        return False
    if startup.instance.exit_reason == "OOMKilled":
        return False
    return startup.seconds >= window - probe.period_s


def _seconds_text(startup: StartUp) -> str:
    return f"{startup.seconds:.0f} s" if startup.ready_after_s is not None else f"≥ {startup.seconds:.0f} s"


def _summary(status: Status, slowest: StartUp, window: int | None, initial_delay: int,
             killed: list[StartUp]) -> str:
    if killed:
        return (f"{len(killed)} container start(s) killed by the probe after ~{window} s before they were ready:"
                f" start-up takes {_seconds_text(slowest)}, longer than the probes allow.")
    if status is Status.CRIT:
        return f"Start-up takes {_seconds_text(slowest)}, longer than the {window} s the liveness probe allows."
    if status is Status.WARN:
        return (f"Start-up takes {_seconds_text(slowest)}, past initialDelaySeconds {initial_delay} s: probes fail"
                " until it is up, but within the kill window.")
    if slowest.ready_after_s is None:
        # Only runs that ended (or are still going) before ready: nothing says how long start-up takes.
        limit = f"inside the {window} s the probes allow" if window else "and no liveness probe restarts them"
        return (f"No probe cut a start-up short: runs that never got ready lasted at most"
                f" {slowest.seconds:.0f} s, {limit}.")
    return f"Start-up takes {_seconds_text(slowest)}, within initialDelaySeconds {initial_delay} s."


def _slow_startup(slow: list[StartUp], probe: ProbeSpec | None, window: int | None, confidence: float) -> Cause:
    evidence = [s.text() for s in slow[:3]]
    if probe is not None:
        evidence.append(f"{probe_text(probe)}: a container not answering is killed after {window} s")
    evidence.append(f"guide: increase initialDelaySeconds to {GUIDE_DELAY_S}s (or add a startupProbe)")
    return Cause("slow_startup", f"Slow start-up: pods need longer than the {window} s their probe allows",
                 confidence, tuple(evidence), SECTION)


def _late_ready(late: list[StartUp], initial_delay: int) -> Cause:
    slowest = max(late, key=lambda s: s.seconds)
    return Cause("slow_startup", f"Slow start-up: not ready within initialDelaySeconds ({initial_delay} s)", 0.35,
                 (slowest.text(), f"guide: increase initialDelaySeconds to {GUIDE_DELAY_S}s"), SECTION)
