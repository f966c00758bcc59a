"""Warning events about the deployment, its ReplicaSets and pods (`kubectl describe pod`, Events part)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.checks.base import CheckContext, SourceSet
from bot.checks.formatting import age
from bot.checks.pod_facts import CRASH_EXPLANATIONS, PROBE_EXPLANATIONS
from bot.model import Cause, Fact, Finding, Status
from bot.sources.records import EventInfo

SECTION = "Service Unavailable (503)"
GROUPS_SHOWN = 8
MESSAGE_SHOWN = 220
# Events are kept for an hour; one seen within this window is part of what is happening now.
CURRENT = timedelta(minutes=15)


@dataclass(frozen=True)
class EventRule:
    """Which warnings point at which explanation (the guide's "common issues" of a failing pod)."""

    reason: re.Pattern[str]
    message: re.Pattern[str]
    key: str
    title: str
    confidence: float
    section: str
    supports: tuple[str, ...] = ()


_ANY = re.compile("")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RULES = (
    EventRule(re.compile("^FailedScheduling$"), re.compile(r"Insufficient (cpu|memory)", re.I),
              "insufficient_resources", "Insufficient cluster resources: pods cannot be scheduled", 0.75, SECTION),
    EventRule(re.compile("^Unhealthy$"), re.compile(r"(Liveness|Readiness|Startup) probe failed", re.I),
              "probe_failing", "Health probes failing", 0.5, "Failed Health Checks", PROBE_EXPLANATIONS),
    EventRule(re.compile("^(Failed|BackOff|ErrImagePull|ImagePullBackOff)$"),
              re.compile(r"pull(ing)? image|ErrImagePull|ImagePullBackOff", re.I),
              "image_pull", "Image cannot be pulled", 0.6, SECTION),
    EventRule(re.compile("^(OOMKilling|OOMKilled)$"), _ANY, "oom_killed", "Containers OOMKilled", 0.6,
              "Service Crashes", ("memory_leak",)),
    EventRule(re.compile("^BackOff$"), re.compile(r"restarting failed container", re.I),
              "crash_loop", "Containers crash-looping", 0.4, "Service Crashes", CRASH_EXPLANATIONS),
    EventRule(re.compile("^(FailedMount|FailedAttachVolume)$"), _ANY, "volume_mount",
              "Volumes cannot be mounted", 0.6, SECTION),
    EventRule(re.compile("^Failed$"), re.compile(r"secret|configmap|CreateContainerConfigError", re.I),
              "missing_dependency", "A referenced Secret or ConfigMap is missing", 0.6, "Service Crashes"),
)


@dataclass(frozen=True)
class EventGroup:
    """Warnings of one reason and message shape, summed over the objects they are about."""

    reason: str
    message: str
    count: int
    objects: tuple[str, ...]
    last_seen: datetime | None


class PodEventsCheck:
    """Warning events: FailedScheduling, probe failures, BackOff, OOMKilling, FailedMount; newest first."""

    name = "pod_events"
    title = "Kubernetes events"
    guide_section = SECTION

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> tuple[EventInfo, ...]:
        return tuple(await sources.kube.events(ctx.target))

    def assess(self, evidence: tuple[EventInfo, ...], ctx: CheckContext) -> Finding:
        warnings = [e for e in evidence if e.type == "Warning"]
        groups = group_events(warnings)
        current = [g for g in groups if _seen_within(g, ctx.now)]
        if not groups:
            return Finding(self.name, self.title, Status.OK,
                           f"No warning events in the last hour ({len(evidence)} normal event(s)).",
                           facts=(Fact("warnings", "0"),), guide_section=self.guide_section)
        causes = _causes(current, ctx.now)
        status = Status.CRIT if causes else Status.WARN if current else Status.OK
        total = sum(g.count for g in groups)
        summary = f"{total:,} warning(s) in {len(groups)} kind(s)"
        summary += f", {len(current)} of them still firing." if current else ", none in the last 15 min."
        facts = (
            Fact("warnings", f"{total:,}", None, status),
            Fact("latest", f"{groups[0].reason} {age(groups[0].last_seen, ctx.now)}"),
        )
        lines = tuple(_line(g, ctx.now) for g in groups[:GROUPS_SHOWN])
        return Finding(self.name, self.title, status, summary, facts=facts, evidence=lines, causes=causes,
                       guide_section=self.guide_section)


def group_events(events: list[EventInfo]) -> list[EventGroup]:
    """Group by reason and message with pod names and addresses blanked, newest group first."""
    groups: dict[tuple[str, str], list[EventInfo]] = {}
    for event in events:
        groups.setdefault((event.reason, _shape(event.message)), []).append(event)
    merged = [
        EventGroup(
            reason=reason,
            message=max(items, key=_when).message,
            count=sum(e.count for e in items),
            # Newest first: the object named in the line is the one the shown message is about.
            objects=tuple(dict.fromkeys(f"{e.kind.lower()}/{e.name}" for e in sorted(items, key=_when, reverse=True))),
            last_seen=_known(max(_when(e) for e in items)),
        )
        for (reason, _), items in groups.items()
    ]
    return sorted(merged, key=lambda g: g.last_seen or _EPOCH, reverse=True)


_VARYING = re.compile(r"\b\d+(\.\d+){3}(:\d+)?\b|\b[a-z0-9-]+-[a-z0-9]{5,10}-[a-z0-9]{5}\b|\d+")


def _shape(message: str) -> str:
    return _VARYING.sub("#", message)


def _when(event: EventInfo) -> datetime:
    return event.last_seen or event.first_seen or _EPOCH


def _known(moment: datetime) -> datetime | None:
    return None if moment == _EPOCH else moment


def _seen_within(group: EventGroup, now: datetime) -> bool:
    return group.last_seen is not None and now - group.last_seen <= CURRENT


def _line(group: EventGroup, now: datetime) -> str:
    message = group.message.strip().replace("\n", " ")
    if len(message) > MESSAGE_SHOWN:
        message = message[: MESSAGE_SHOWN - 1] + "…"
    where = group.objects[0] + (f" (+{len(group.objects) - 1})" if len(group.objects) > 1 else "")
    return f"{group.reason} ×{group.count:,}, last {age(group.last_seen, now)}, {where}: {message}"


def _causes(current: list[EventGroup], now: datetime) -> tuple[Cause, ...]:
    causes: dict[str, Cause] = {}
    for group in current:
        rule = next((r for r in RULES if r.reason.search(group.reason) and r.message.search(group.message)), None)
        if rule is None or rule.key in causes:
            continue
        causes[rule.key] = Cause(rule.key, rule.title, rule.confidence, (_line(group, now),), rule.section,
                                 supports=rule.supports)
    return tuple(causes.values())
