"""Is the cluster DNS itself running? CoreDNS pods in kube-system: ready, restarts, crash reasons.

`kubectl -n kube-system get pods -l k8s-app=kube-dns` and, for a crashing pod, `kubectl logs --previous`.
Nothing is proposed: CoreDNS belongs to the cluster's operators, and restarting it blindly hides why it
crashed (a broken Corefile, a forwarding loop).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.checks.base import CheckContext, SourceSet
from bot.checks.excerpts import excerpt
from bot.checks.formatting import age
from bot.model import Cause, Fact, Finding, Status
from bot.sources.errors import SourceError
from bot.sources.records import PodInfo

GUIDE = "DNS Resolution Failures"
# The label every mainstream distribution puts on CoreDNS (kept from kube-dns for compatibility).
NAMESPACE = "kube-system"
SELECTOR = "k8s-app=kube-dns"
PREVIOUS_TAIL = 50
LOG_LINES_SHOWN = 3
PROBLEM = re.compile(r"\[(FATAL|ERROR)\]|\bpanic:", re.IGNORECASE)
# A container restarted this often is crash-looping even if it happens to be up right now.
RESTARTS_WARN = 3


@dataclass(frozen=True)
class CoreDnsEvidence:
    pods: tuple[PodInfo, ...]
    crash_pod: str | None = None
    crash_log: tuple[str, ...] = ()


class CoreDnsCheck:
    """CoreDNS pods (kube-system, k8s-app=kube-dns): ready, restarts, why they crash."""

    name = "coredns"
    title = "Cluster DNS (CoreDNS)"
    guide_section = GUIDE

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> CoreDnsEvidence:
        pods = tuple(await sources.kube.pods_matching(NAMESPACE, SELECTOR))
        crashing = next((p for p in pods if _crashing(p)), None)
        if crashing is None or not crashing.containers:
            return CoreDnsEvidence(pods)
        container = crashing.containers[0].name
        try:
            lines = await sources.kube.pod_log(NAMESPACE, crashing.name, container, PREVIOUS_TAIL, previous=True)
        except SourceError:
            # The previous instance's log is a bonus; the pod states alone carry the finding.
            return CoreDnsEvidence(pods)
        return CoreDnsEvidence(pods, crashing.name, tuple(line.text for line in lines))

    def assess(self, evidence: CoreDnsEvidence, ctx: CheckContext) -> Finding:
        pods = evidence.pods
        if not pods:
            return Finding(self.name, self.title, Status.NO_DATA,
                           f"No pods labelled {SELECTOR} in {NAMESPACE}: this cluster's DNS is not CoreDNS/kube-dns, "
                           "or the bot may not list kube-system.", guide_section=GUIDE)
        ready = [p for p in pods if p.ready]
        restarts = sum(p.restarts for p in pods)
        status = Status.CRIT if not ready else Status.WARN if len(ready) < len(pods) or restarts >= RESTARTS_WARN \
            else Status.OK
        facts = (
            Fact("ready", f"{len(ready)}/{len(pods)}", None, status),
            Fact("restarts", str(restarts), None, Status.WARN if restarts >= RESTARTS_WARN else Status.OK),
        )
        lines = tuple(_pod_line(p, ctx) for p in pods)
        problems = [line for line in evidence.crash_log if PROBLEM.search(line)][-LOG_LINES_SHOWN:]
        if evidence.crash_pod and problems:
            lines += tuple(f"{evidence.crash_pod} (previous): {excerpt(line)}" for line in problems)
        if status is Status.OK:
            return Finding(self.name, self.title, Status.OK,
                           f"CoreDNS healthy: {len(ready)}/{len(pods)} pods ready, {restarts} restarts.",
                           facts=facts, evidence=lines, guide_section=GUIDE)
        summary = f"CoreDNS {'down' if not ready else 'degraded'}: {len(ready)}/{len(pods)} pods ready, " \
                  f"{restarts} restarts."
        if problems:
            summary += f" Last crash: {problems[-1].strip()[:160]}"
        return Finding(self.name, self.title, status, summary, facts=facts, evidence=lines,
                       causes=(_cause(pods, ready, problems),), guide_section=GUIDE)


def _crashing(pod: PodInfo) -> bool:
    return any(c.waiting_reason == "CrashLoopBackOff" or (c.restart_count and c.last_terminated_reason)
               for c in pod.containers)


def _pod_line(pod: PodInfo, ctx: CheckContext) -> str:
    parts = ["ready" if pod.ready else "NOT ready"]
    for c in pod.containers:
        if c.waiting_reason:
            parts.append(c.waiting_reason)
        if c.restart_count:
            parts.append(f"{c.restart_count} restarts")
        if c.last_terminated_reason:
            code = f" exit {c.last_exit_code}" if c.last_exit_code is not None else ""
            parts.append(f"last terminated {c.last_terminated_reason}{code} {age(c.last_finished_at, ctx.now)}")
    return f"{pod.name}: {', '.join(parts)}"


def _cause(pods: tuple[PodInfo, ...], ready: list[PodInfo], problems: list[str]) -> Cause:
    reasons = sorted({c.waiting_reason for p in pods for c in p.containers if c.waiting_reason})
    why = f" ({', '.join(reasons)})" if reasons else ""
    evidence = [f"{len(ready)}/{len(pods)} CoreDNS pods ready{why}"]
    evidence += [f"previous container log: {excerpt(line, 200)}" for line in problems]
    if not ready:
        return Cause("coredns_down", f"CoreDNS is down: no ready pod{why}; names cannot resolve", 0.8,
                     tuple(evidence), GUIDE)
    if len(ready) < len(pods):
        return Cause("coredns_down", f"CoreDNS degraded: {len(ready)}/{len(pods)} pods ready{why}", 0.4,
                     tuple(evidence), GUIDE)
    restarts = sum(p.restarts for p in pods)
    return Cause("coredns_down", f"CoreDNS keeps restarting ({restarts} restarts): lookups fail while it does",
                 0.3, tuple(evidence), GUIDE)
