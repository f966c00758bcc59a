"""`restore-replicas`: undo `scale-to-zero`, back to the count recorded in the deployment's annotation.

Its verification counts the deployment's ready pods against the count restored: better once all are ready. The
service_unavailable runbook cannot judge it, since a deployment at 0 replicas has nothing that ought to be ready."""

from __future__ import annotations

from collections.abc import Mapping

from bot.actions.base import ActionEnv, Outcome, Preview, Risk, Role, reached_finding
from bot.actions.common import deployment_fingerprint, deployment_state, dry_run_outcome, live_pods, rollout_settled
from bot.actions.params import only
from bot.actions.scale_to_zero import NoParams
from bot.config import OpsConfig
from bot.model import Fact, Finding, Symptom, Target
from bot.sources.admin_records import DeploymentSpecView
from bot.sources.kube_undo import REPLICAS_BEFORE


def _recorded(deployment: DeploymentSpecView) -> int | None:
    text = deployment.annotations.get(REPLICAS_BEFORE, "")
    return int(text) if text.isdigit() and int(text) > 0 else None


def _wanted(deployment: DeploymentSpecView) -> int:
    """The count being restored: the recorded one while still at 0 (before), the spec's once restored (the
    record is removed in the same patch)."""
    return (_recorded(deployment) or 0) if deployment.replicas == 0 else deployment.replicas


def _not_restorable(deployment: DeploymentSpecView) -> str | None:
    if _recorded(deployment) is None:
        return f"nothing to restore: {deployment.name} has no replica count recorded by scale-to-zero"
    if deployment.replicas != 0:
        return f"{deployment.name} is no longer at 0 replicas (it runs {deployment.replicas}); nothing to restore"
    return None


class RestoreReplicas:
    name = "restore-replicas"
    title = "Restore replicas after scale to zero"
    risk = Risk.MEDIUM
    default_role: Role = "admin"
    verify_symptom: Symptom | None = None

    def parse(self, raw: Mapping[str, str], config: OpsConfig) -> NoParams:
        only(raw, (), self.name)
        return NoParams()

    async def preview(self, env: ActionEnv, target: Target, params: NoParams) -> Preview:
        deployment = await env.kube.deployment(target)
        state = deployment_state(deployment, replicas=True)
        blocked = _not_restorable(deployment)
        if blocked:
            return Preview(summary=f"Cannot restore {target.deployment}", state=state, blocked=blocked)
        replicas = _recorded(deployment) or 0
        await env.kube.set_replicas(target, replicas, {REPLICAS_BEFORE: None},
                                    expect_version=deployment.resource_version, dry_run=True)
        return Preview(
            summary=f"Scale {target.deployment} from 0 back to {replicas} replicas",
            changes=(f"deployment/{target.deployment} spec.replicas: 0 -> {replicas}",
                     f"annotation {REPLICAS_BEFORE} removed", "(server dry run accepted)"),
            state=state,
        )

    async def fingerprint(self, env: ActionEnv, target: Target, params: NoParams) -> Mapping[str, str]:
        return await deployment_fingerprint(env, target, replicas=True)

    async def execute(self, env: ActionEnv, target: Target, params: NoParams) -> Outcome:
        deployment = await env.kube.deployment(target)
        reason = _not_restorable(deployment)
        if reason:
            return Outcome(ok=True, summary=reason)  # already restored: a retried execute changes nothing
        if env.dry_run:
            return dry_run_outcome(await self.preview(env, target, params))
        replicas = _recorded(deployment) or 0
        await env.kube.set_replicas(target, replicas, {REPLICAS_BEFORE: None},
                                    expect_version=deployment.resource_version, dry_run=False)
        return Outcome(ok=True, summary=f"Restored {target.deployment} to {replicas} replicas")

    async def settled(self, env: ActionEnv, target: Target, params: NoParams) -> bool:
        return await rollout_settled(env, target)

    async def check(self, env: ActionEnv, target: Target, params: NoParams) -> Finding:
        """Ready pods against the count restored: the service is back once every wanted replica is ready."""
        deployment = await env.kube.deployment(target)
        wanted = _wanted(deployment)
        ready = sum(p.ready for p in await live_pods(env, deployment))
        back = wanted > 0 and deployment.replicas == wanted and ready >= wanted
        summary = (f"all {wanted} replica(s) of {target.deployment} are ready again" if back else
                   f"{ready} of {wanted} wanted pod(s) of {target.deployment} ready (spec.replicas "
                   f"{deployment.replicas})" if wanted else
                   f"{target.deployment} is at 0 replicas with no count recorded to restore")
        return reached_finding(
            self.name, f"Ready pods of {target.deployment}", reached=back, summary=summary,
            key=Fact("ready pods", f"{ready} of {wanted}", threshold=str(wanted)),
            more=(Fact("spec.replicas", str(deployment.replicas), threshold=str(wanted)),),
        )
