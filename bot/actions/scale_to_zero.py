"""`scale-to-zero`: the guide's emergency scale down. The replica count it replaces is recorded in a
deployment annotation in the same patch, so `restore-replicas` works from any bot replica, any time later.
Its verification counts the pods the deployment still controls: better once none remain."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.actions.base import ActionEnv, Outcome, Preview, Risk, Role, reached_finding
from bot.actions.common import deployment_fingerprint, deployment_state, dry_run_outcome, live_pods, rollout_settled
from bot.actions.params import only
from bot.config import OpsConfig
from bot.model import Fact, Finding, Proposal, Symptom, Target
from bot.sources.kube_undo import REPLICAS_BEFORE


@dataclass(frozen=True)
class NoParams:
    pass


class ScaleToZero:
    name = "scale-to-zero"
    title = "Emergency scale to zero"
    risk = Risk.HIGH
    default_role: Role = "admin"
    verify_symptom: Symptom | None = None

    def parse(self, raw: Mapping[str, str], config: OpsConfig) -> NoParams:
        only(raw, (), self.name)
        return NoParams()

    async def preview(self, env: ActionEnv, target: Target, params: NoParams) -> Preview:
        deployment = await env.kube.deployment(target)
        state = deployment_state(deployment, replicas=True)
        if deployment.replicas == 0:
            recorded = deployment.annotations.get(REPLICAS_BEFORE)
            note = f" (restore-replicas would bring back {recorded})" if recorded else ""
            return Preview(summary=f"{target.deployment} is already at 0 replicas{note}", state=state)
        await env.kube.set_replicas(target, 0, {REPLICAS_BEFORE: str(deployment.replicas)},
                                    expect_version=deployment.resource_version, dry_run=True)
        return Preview(
            summary=f"Scale {target.deployment} from {deployment.replicas} to 0 replicas: the service stops serving",
            changes=(f"deployment/{target.deployment} spec.replicas: {deployment.replicas} -> 0",
                     f"annotation {REPLICAS_BEFORE} = {deployment.replicas} (for restore-replicas)",
                     "(server dry run accepted)"),
            state=state,
        )

    async def fingerprint(self, env: ActionEnv, target: Target, params: NoParams) -> Mapping[str, str]:
        return await deployment_fingerprint(env, target, replicas=True)

    async def execute(self, env: ActionEnv, target: Target, params: NoParams) -> Outcome:
        deployment = await env.kube.deployment(target)
        if env.dry_run:
            return dry_run_outcome(await self.preview(env, target, params))
        restore = Proposal("restore-replicas", {}, reason="bring the service back")
        if deployment.replicas == 0:
            # Already down: keep the recorded count (overwriting it with 0 would lose what to restore).
            return Outcome(ok=True, summary=f"{target.deployment} is already at 0 replicas; nothing changed",
                           revert=restore if REPLICAS_BEFORE in deployment.annotations else None)
        await env.kube.set_replicas(target, 0, {REPLICAS_BEFORE: str(deployment.replicas)},
                                    expect_version=deployment.resource_version, dry_run=False)
        return Outcome(ok=True, summary=f"Scaled {target.deployment} from {deployment.replicas} to 0 replicas",
                       detail=(f"deployment/{target.deployment} spec.replicas: {deployment.replicas} -> 0",
                               f"{deployment.replicas} recorded for restore-replicas (annotation {REPLICAS_BEFORE})"),
                       revert=restore)

    async def settled(self, env: ActionEnv, target: Target, params: NoParams) -> bool:
        return await rollout_settled(env, target)

    async def check(self, env: ActionEnv, target: Target, params: NoParams) -> Finding:
        """Pods the deployment still controls (any not finished): the scale down took hold when none remain."""
        deployment = await env.kube.deployment(target)
        pods = await live_pods(env, deployment)
        running = sum(p.phase == "Running" for p in pods)
        ready = sum(p.ready for p in pods)
        summary = (f"no pods of {target.deployment} remain" if not pods
                   else f"{len(pods)} pod(s) of {target.deployment} still there ({running} running, {ready} ready)")
        return reached_finding(
            self.name, f"Pods of {target.deployment}", reached=not pods, summary=summary,
            key=Fact("pods", f"{len(pods)} ({running} running, {ready} ready)", threshold="0"),
            more=(Fact("spec.replicas", str(deployment.replicas), threshold="0"),),
        )
