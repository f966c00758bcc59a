"""`scale replicas=N`: kubectl scale through the scale subresource, bounded by the ops config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.actions.base import ActionEnv, Outcome, Preview, Risk, Role
from bot.actions.common import deployment_fingerprint, deployment_state, dry_run_outcome, rollout_settled
from bot.actions.params import integer, only
from bot.config import OpsConfig
from bot.model import Proposal, Symptom, Target
from bot.sources.records import HpaInfo


@dataclass(frozen=True)
class ScaleParams:
    replicas: int


def _autoscaler_note(hpa: HpaInfo | None, replicas: int) -> str | None:
    """An HPA moves a manual scale back into its own range; say so before someone relies on it."""
    if hpa is None:
        return None
    if replicas > hpa.max_replicas or replicas < hpa.min_replicas:
        return (f"HPA {hpa.name} keeps replicas within {hpa.min_replicas}..{hpa.max_replicas}: it will scale "
                f"back from {replicas}; change the HPA's bounds for a lasting change")
    return f"HPA {hpa.name} ({hpa.min_replicas}..{hpa.max_replicas}) may change the count again as load changes"


class Scale:
    name = "scale"
    title = "Scale deployment"
    risk = Risk.LOW
    default_role: Role = "editor"
    verify_symptom: Symptom | None = Symptom.HIGH_LATENCY

    def parse(self, raw: Mapping[str, str], config: OpsConfig) -> ScaleParams:
        only(raw, ("replicas",), self.name)
        limits = config.action_limits
        return ScaleParams(integer(raw, "replicas", low=limits.min_replicas, high=limits.max_replicas,
                                   action=self.name))

    async def preview(self, env: ActionEnv, target: Target, params: ScaleParams) -> Preview:
        deployment = await env.kube.deployment(target)
        if deployment.replicas == params.replicas:
            already = f"{target.deployment} already runs {params.replicas} replicas"
            return Preview(summary=f"{already}; nothing to change", state=deployment_state(deployment, replicas=True),
                           unchanged=already)
        accepted = await env.kube.scale(target, params.replicas, dry_run=True)
        note = _autoscaler_note(await env.kube.hpa(target), params.replicas)
        return Preview(
            summary=f"Scale {target.deployment} from {deployment.replicas} to {accepted} replicas",
            changes=(f"deployment/{target.deployment} spec.replicas: {deployment.replicas} -> {accepted}"
                     " (server dry run accepted)",) + ((note,) if note else ()),
            state=deployment_state(deployment, replicas=True),
        )

    async def fingerprint(self, env: ActionEnv, target: Target, params: ScaleParams) -> Mapping[str, str]:
        return await deployment_fingerprint(env, target, replicas=True)

    async def execute(self, env: ActionEnv, target: Target, params: ScaleParams) -> Outcome:
        before = (await env.kube.deployment(target)).replicas
        if env.dry_run:
            return dry_run_outcome(await self.preview(env, target, params))
        if before == params.replicas:
            return Outcome(ok=True, summary=f"{target.deployment} already runs {before} replicas; nothing changed")
        now = await env.kube.scale(target, params.replicas, dry_run=False)
        revert = (Proposal(self.name, {"replicas": str(before)}, reason=f"back to {before} replicas")
                  if before >= 1 else None)
        return Outcome(ok=True, summary=f"Scaled {target.deployment} from {before} to {now} replicas",
                       detail=(f"deployment/{target.deployment} spec.replicas: {before} -> {now}",), revert=revert)

    async def settled(self, env: ActionEnv, target: Target, params: ScaleParams) -> bool:
        return await rollout_settled(env, target)
