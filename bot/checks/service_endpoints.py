"""Does the name lead anywhere? The Service exists, its selector matches pods, and some are ready.

A name that resolves but has no ready endpoints fails the same way as one that does not resolve; the
classic cause is a selector that no longer matches the pods' labels (a refactor renamed a label).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.checks.base import CheckContext, SourceSet
from bot.config import SELECTOR
from bot.model import Cause, Fact, Finding, Status, Target
from bot.sources.records import PodInfo, ServiceEndpoints

GUIDE = "DNS Resolution Failures"
LABELS_SHOWN = 4


@dataclass(frozen=True)
class ServiceView:
    """One Service, and when it has no ready endpoint, the pods its selector matches and the pods of
    the workload it should front (known for the diagnosed service, from its configured selector)."""

    endpoints: ServiceEndpoints
    dependency: bool
    selected: tuple[PodInfo, ...] | None = None
    workload: tuple[PodInfo, ...] | None = None

    @property
    def name(self) -> str:
        return self.endpoints.name


class ServiceEndpointsCheck:
    """The Service and its Endpoints: exists, selector matches pods, ready addresses."""

    name = "service_endpoints"
    title = "Service endpoints"
    guide_section = GUIDE

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> tuple[ServiceView, ...]:
        target = ctx.target
        wanted = [(target.service, False), *((dep, True) for dep in ctx.dependencies)]
        views = await asyncio.gather(
            *(_view(sources, target, name, dependency) for name, dependency in wanted)
        )
        return tuple(views)

    def assess(self, evidence: tuple[ServiceView, ...], ctx: CheckContext) -> Finding:
        if not evidence:
            return Finding(self.name, self.title, Status.NO_DATA, "No services to look at.", guide_section=GUIDE)
        judged = [(view, *_judge(view, ctx.target.namespace)) for view in evidence]
        facts = tuple(fact for _, fact, _, _ in judged)
        lines = tuple(line for _, _, _, view_lines in judged for line in view_lines)
        broken = [(view.name, cause) for view, _, cause, _ in judged if cause is not None]
        if not broken:
            total = sum(len(v.endpoints.ready) for v in evidence)
            return Finding(self.name, self.title, Status.OK,
                           f"All {len(evidence)} Services exist and have ready endpoints ({total} addresses).",
                           facts=facts, evidence=lines, guide_section=GUIDE)
        names = ", ".join(name for name, _ in broken)
        summary = f"Traffic to {names} has nowhere to go: " + "; ".join(c.title for _, c in broken) + "."
        return Finding(self.name, self.title, Status.CRIT, summary, facts=facts, evidence=lines,
                       causes=tuple(c for _, c in broken), guide_section=GUIDE)


async def _view(sources: SourceSet, target: Target, name: str, dependency: bool) -> ServiceView:
    endpoints = await sources.kube.service_endpoints(target.namespace, name)
    if not endpoints.exists or endpoints.ready:
        return ServiceView(endpoints, dependency)
    selector = selector_text(endpoints.selector)
    selected = await sources.kube.pods_matching(target.namespace, selector) if selector else None
    workload = None if dependency else await sources.kube.pods(target)
    return ServiceView(endpoints, dependency, None if selected is None else tuple(selected),
                       None if workload is None else tuple(workload))


def selector_text(selector: dict[str, str]) -> str | None:
    """`{"app": "x"}` -> `app=x`; None when empty or not a selector opsbot sends back to the API."""
    text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    return text if text and SELECTOR.match(text) else None


def _judge(view: ServiceView, namespace: str) -> tuple[Fact, Cause | None, tuple[str, ...]]:
    ep = view.endpoints
    label = f"{ep.name}{' (dependency)' if view.dependency else ''}"
    if not ep.exists:
        cause = Cause("service_missing", f"Service {ep.name} does not exist in namespace {namespace}", 0.8,
                      (f"GET service {namespace}/{ep.name}: not found",), GUIDE)
        return Fact(label, "no such Service", None, Status.CRIT), cause, ()
    not_ready = len(ep.addresses) - len(ep.ready)
    if ep.ready:
        value = f"{len(ep.ready)} ready" + (f", {not_ready} not ready" if not_ready else "")
        return Fact(label, value, None, Status.WARN if not_ready else Status.OK), None, ()
    cause, lines = _no_endpoints(view)
    return Fact(label, f"0 ready, {not_ready} not ready", None, Status.CRIT), cause, lines


def _no_endpoints(view: ServiceView) -> tuple[Cause, tuple[str, ...]]:
    ep = view.endpoints
    selector = selector_text(ep.selector)
    if selector is None:
        return Cause("no_endpoints", f"Service {ep.name} has no selector and no ready endpoints", 0.6,
                     (f"Service {ep.name}: selector empty; its Endpoints list no ready address",), GUIDE), ()
    selected = view.selected or ()
    if not selected:
        return _selector_mismatch(ep.name, selector, _labels_of(view.workload or ()))
    states = ", ".join(f"{p.name}: {_pod_state(p)}" for p in selected[:LABELS_SHOWN])
    evidence = (f"Service {ep.name} selects {selector}: {len(selected)} pod(s), none ready", states)
    return Cause("no_endpoints", f"Service {ep.name} has no ready endpoints: none of its {len(selected)} pods is "
                 "ready", 0.6, evidence, GUIDE), evidence


def _selector_mismatch(name: str, selector: str, labels: str) -> tuple[Cause, tuple[str, ...]]:
    """The Service selects nothing. Knowing the workload's labels makes it a named mismatch, not a guess."""
    if not labels:
        evidence: tuple[str, ...] = (f"Service {name} selects {selector}: no pod matches",)
        return Cause("no_endpoints", f"Service {name} selector {selector} matches no pods", 0.6, evidence,
                     GUIDE), evidence
    evidence = (f"Service {name} selects {selector}: no pod matches",
                f"pods of deployment {name} are labelled {labels}")
    title = f"Service {name} selector {selector} matches no pods (its pods are labelled {labels})"
    return Cause("no_endpoints", title, 0.8, evidence, GUIDE), evidence


def _labels_of(pods: tuple[PodInfo, ...]) -> str:
    """The labels the workload's pods share, minus per-revision noise, as `k=v,k=v`."""
    if not pods:
        return ""
    common = dict(pods[0].labels)
    for pod in pods[1:]:
        common = {k: v for k, v in common.items() if pod.labels.get(k) == v}
    common.pop("pod-template-hash", None)
    return ",".join(f"{k}={v}" for k, v in sorted(common.items()))


def _pod_state(pod: PodInfo) -> str:
    waiting = next((c.waiting_reason for c in pod.containers if c.waiting_reason), None)
    return waiting or pod.phase
