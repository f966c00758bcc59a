"""Why containers crash: the previous instance's last log lines and exit code (`kubectl logs --previous`),
classified with the guide's "Service Crashes" table."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from bot.checks.base import CheckContext, SourceSet
from bot.checks.crash_signatures import SECTION, CrashKind, classify_crash, exit_text
from bot.checks.excerpts import excerpt, excerpt_lines
from bot.checks.formatting import age
from bot.checks.pod_facts import doubled_memory, memory_text
from bot.model import Cause, Fact, Finding, Proposal, Status
from bot.sources.errors import SourceError
from bot.sources.records import ContainerState, PodInfo

PODS_READ = 6
TAIL_LINES = 60
EXCERPT_LINES = 4
LINE_SHOWN = 240
# A crash longer ago than this is history, not the incident being diagnosed.
RECENT_CRASH = timedelta(hours=1)
# Environment variable names worth checking when a dependency cannot be reached (names only, never values).
DEPENDENCY_ENV_HINTS = ("DB", "DATABASE", "POSTGRES", "PG", "REDIS", "HOST", "URL", "DSN", "USER")


@dataclass(frozen=True)
class Crash:
    """One crashed container: its state and what its previous instance printed (or why that is unknown)."""

    pod: PodInfo
    state: ContainerState
    lines: tuple[str, ...]
    unreadable: str | None = None


class CrashLogsCheck:
    """Previous container logs and last exit codes of crash-looping pods, mapped to the guide's fixes."""

    name = "crash_logs"
    title = "Crash logs (previous containers)"
    guide_section = SECTION

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> tuple[Crash, ...]:
        pods = await sources.kube.pods(ctx.target)
        crashed = [(p, c) for p in sorted(pods, key=lambda p: p.name) for c in p.containers if _crashed(c, ctx)]
        return tuple(await asyncio.gather(*(_read(sources, ctx, p, c) for p, c in crashed[:PODS_READ])))

    def assess(self, evidence: tuple[Crash, ...], ctx: CheckContext) -> Finding:
        if not evidence:
            return Finding(self.name, self.title, Status.OK, "No container crashed or restarted in the last hour.",
                           facts=(Fact("crashed containers", "0"),), guide_section=self.guide_section)
        verdicts = [(crash, *classify_crash(crash.state.last_terminated_reason, crash.state.last_exit_code,
                                            list(crash.lines))) for crash in evidence]
        looping = sum(1 for crash in evidence if crash.state.waiting_reason == "CrashLoopBackOff")
        status = Status.CRIT if looping else Status.WARN
        kinds = Counter(kind.key for _, kind, _ in verdicts if kind is not None)
        exits = Counter(exit_text(c.state.last_terminated_reason, c.state.last_exit_code) for c in evidence)
        facts = (
            Fact("crashed containers", str(len(evidence)), None, status),
            Fact("in CrashLoopBackOff", str(looping)),
            Fact("exit", ", ".join(f"{text} ×{n}" for text, n in exits.most_common(3))),
        )
        summary = f"{len(evidence)} container(s) crashed recently ({looping} in CrashLoopBackOff)"
        summary += f"; cause: {_named(verdicts)}." if kinds else "; their last logs name no known cause."
        excerpts = tuple(_excerpt(crash, index, ctx) for crash, _, index in verdicts)
        return Finding(self.name, self.title, status, summary, facts=facts, evidence=excerpts,
                       causes=_causes(verdicts, len(evidence)), guide_section=self.guide_section)


def _crashed(state: ContainerState, ctx: CheckContext) -> bool:
    if state.waiting_reason == "CrashLoopBackOff":
        return True
    finished = state.last_finished_at
    return state.restart_count > 0 and finished is not None and ctx.now - finished <= RECENT_CRASH


async def _read(sources: SourceSet, ctx: CheckContext, pod: PodInfo, state: ContainerState) -> Crash:
    try:
        lines = await sources.kube.pod_log(ctx.target.namespace, pod.name, state.name, TAIL_LINES, previous=True)
    except SourceError as exc:
        # One unreadable log (rotated away, node gone) must not hide what the exit code and others say.
        return Crash(pod, state, (), unreadable=str(exc))
    return Crash(pod, state, tuple(line.text for line in lines))


def _named(verdicts: list[tuple[Crash, CrashKind | None, int]]) -> str:
    counts = Counter(kind.title for _, kind, _ in verdicts if kind is not None)
    return "; ".join(f"{title} ({n} pod(s))" for title, n in counts.most_common())


def _excerpt(crash: Crash, index: int, ctx: CheckContext) -> str:
    """One representative, bounded excerpt per pod: the line that explains the crash and what led to it."""
    head = (f"{crash.pod.name}: {exit_text(crash.state.last_terminated_reason, crash.state.last_exit_code)}"
            f" {age(crash.state.last_finished_at, ctx.now)}, {crash.state.restart_count} restarts")
    if crash.unreadable:
        return f"{head}\n(previous log unreadable: {crash.unreadable})"
    lines = list(crash.lines)
    end = index + 1 if index >= 0 else len(lines)
    shown = lines[max(0, end - EXCERPT_LINES):end]
    body = excerpt_lines(shown, LINE_SHOWN) or ["(previous log is empty)"]
    return "\n".join([head, *body])


def _causes(verdicts: list[tuple[Crash, CrashKind | None, int]], crashed: int) -> tuple[Cause, ...]:
    causes: list[Cause] = []
    by_key: dict[str, list[tuple[Crash, int]]] = {}
    kinds: dict[str, CrashKind] = {}
    for crash, kind, index in verdicts:
        if kind is not None:
            by_key.setdefault(kind.key, []).append((crash, index))
            kinds[kind.key] = kind
    for key, hits in by_key.items():
        kind = kinds[key]
        first, index = hits[0]
        line = excerpt(first.lines[index], LINE_SHOWN) if index >= 0 else exit_text(
            first.state.last_terminated_reason, first.state.last_exit_code)
        evidence = [f"{len(hits)} of {crashed} crashed pod(s): {line}", f"guide fix: {kind.fix}"]
        evidence += _hints(kind, first)
        causes.append(Cause(
            key, kind.title, round(0.5 + 0.3 * len(hits) / crashed, 2), tuple(evidence), SECTION,
            _proposals(kind, first), supports=kind.supports,
        ))
    return tuple(causes)


def _hints(kind: CrashKind, crash: Crash) -> list[str]:
    if kind.key not in ("missing_dependency", "config_error"):
        return []
    spec = crash.pod.spec(crash.state.name)
    names = sorted(n for n in (spec.env if spec else {}) if any(h in n.upper() for h in DEPENDENCY_ENV_HINTS))
    hint = "check the Secrets and env vars it reads (valueFrom entries are not listed)"
    return [f"{hint}; literal env: {', '.join(names)}" if names else hint]


def _proposals(kind: CrashKind, crash: Crash) -> tuple[Proposal, ...]:
    if kind.key != "oom_killed":
        return ()
    spec = crash.pod.spec(crash.state.name)
    if spec is None or not spec.memory_limit:
        return ()
    bumped = doubled_memory(spec.memory_limit)
    return (Proposal("memory-bump", {"limit": bumped, "minutes": "60"},
                     f"raise the memory limit {memory_text(spec.memory_limit)} -> {bumped} for now"),)
