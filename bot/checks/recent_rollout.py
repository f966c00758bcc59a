"""Was the service deployed recently? A rollout just before errors start is the guide's suspect #5."""

from __future__ import annotations

from dataclasses import dataclass

from bot.checks.base import CheckContext, SourceSet
from bot.checks.formatting import age, short_image
from bot.model import Cause, Fact, Finding, Proposal, Status
from bot.sources.records import DeploymentInfo, RevisionInfo

HISTORY_SHOWN = 4


@dataclass(frozen=True)
class RolloutEvidence:
    deployment: DeploymentInfo
    history: tuple[RevisionInfo, ...]


class RecentRolloutCheck:
    """Rollout history: the live revision, its image and age, and whether it is recent enough to suspect."""

    name = "recent_rollout"
    title = "Recent deployments"
    guide_section = "High Error Rates"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> RolloutEvidence:
        deployment = await sources.kube.deployment(ctx.target)
        history = await sources.kube.rollout_history(deployment)
        return RolloutEvidence(deployment, tuple(history))

    def assess(self, evidence: RolloutEvidence, ctx: CheckContext) -> Finding:
        dep, history = evidence.deployment, evidence.history
        current = next((r for r in history if r.revision == dep.revision), history[-1] if history else None)
        if current is None:
            return Finding(self.name, self.title, Status.NO_DATA, "No rollout history (no owned ReplicaSets).",
                           guide_section=self.guide_section)
        previous = next((r for r in reversed(history) if r.revision < current.revision), None)
        image = ", ".join(short_image(i) for i in current.images)
        when = age(current.created, ctx.now)
        in_progress = dep.updated_replicas < dep.replicas or dep.ready_replicas < dep.replicas
        facts = [
            Fact("revision", str(current.revision)),
            Fact("image", image),
            Fact("rolled out", when),
            Fact("ready", f"{dep.ready_replicas}/{dep.replicas}", None, Status.WARN if in_progress else Status.OK),
        ]
        lines = [_history_line(r, ctx) for r in reversed(history[-HISTORY_SHOWN:])]
        recent = current.created is not None and (
            (ctx.now - current.created).total_seconds() <= ctx.thresholds.rollout_suspect_window_s
        )
        if not recent:
            return Finding(self.name, self.title, Status.OK,
                           f"Last rollout: revision {current.revision} ({image}), {when}. Not recent.",
                           facts=tuple(facts), evidence=tuple(lines), guide_section=self.guide_section)
        summary = f"Revision {current.revision} ({image}) was rolled out {when}"
        summary += f", replacing revision {previous.revision}." if previous else "."
        if in_progress:
            summary += " The rollout is still in progress."
        return Finding(self.name, self.title, Status.WARN, summary, facts=tuple(facts), evidence=tuple(lines),
                       causes=(self._cause(current, previous, when),), guide_section=self.guide_section)

    def _cause(self, current: RevisionInfo, previous: RevisionInfo | None, when: str) -> Cause:
        image = ", ".join(short_image(i) for i in current.images)
        evidence = [f"revision {current.revision} ({image}) rolled out {when}"]
        if current.change_cause:
            evidence.append(f"change-cause: {current.change_cause}")
        proposals: tuple[Proposal, ...] = ()
        if previous is not None:
            old = ", ".join(short_image(i) for i in previous.images)
            evidence.append(f"previous: revision {previous.revision} ({old})")
            proposals = (
                Proposal("rollback", {"to_revision": str(previous.revision)},
                         f"roll back to revision {previous.revision} ({old})"),
            )
        return Cause(
            key="deploy",
            title=f"Bug in recent deployment: revision {current.revision} ({image})",
            confidence=0.5,
            evidence=tuple(evidence),
            guide_section="High Error Rates",
            proposals=proposals,
        )


def _history_line(rev: RevisionInfo, ctx: CheckContext) -> str:
    cause = f" — {rev.change_cause}" if rev.change_cause else ""
    images = ", ".join(short_image(i) for i in rev.images)
    return f"rev {rev.revision}: {images}, {age(rev.created, ctx.now)}{cause}"
