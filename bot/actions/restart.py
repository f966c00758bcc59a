"""`restart`: kubectl rollout restart, i.e. a new `kubectl.kubernetes.io/restartedAt` on the pod template."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.actions.base import ActionEnv, ActionError, Outcome, Preview, Risk, Role
from bot.actions.common import deployment_fingerprint, deployment_state, dry_run_outcome, rfc3339, rollout_settled
from bot.actions.params import only
from bot.config import OpsConfig
from bot.model import Symptom, Target
from bot.sources.admin_records import DeploymentSpecView
from bot.sources.kube_undo import RESTARTED_AT

# A restart stamped this recently is taken as this one already done: an execute retried after a lost
# reply must not roll every pod a second time.
RETRY_WINDOW = timedelta(seconds=60)


@dataclass(frozen=True)
class RestartParams:
    pass


def _paused_message(deployment: DeploymentSpecView) -> str:
    return (f"deployment {deployment.name} is paused; kubectl refuses to restart a paused deployment "
            "(resume it first)")


def _restarted_at(deployment: DeploymentSpecView) -> datetime | None:
    stamp = (deployment.template.get("metadata") or {}).get("annotations", {}).get(RESTARTED_AT)
    try:
        return datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        return None


class Restart:
    name = "restart"
    title = "Rollout restart"
    risk = Risk.MEDIUM
    default_role: Role = "editor"
    verify_symptom: Symptom | None = Symptom.HIGH_LATENCY

    def parse(self, raw: Mapping[str, str], config: OpsConfig) -> RestartParams:
        only(raw, (), self.name)
        return RestartParams()

    async def preview(self, env: ActionEnv, target: Target, params: RestartParams) -> Preview:
        deployment = await env.kube.deployment(target)
        state = deployment_state(deployment)
        if deployment.paused:
            return Preview(summary=f"Cannot restart {target.deployment}", state=state,
                           blocked=_paused_message(deployment))
        stamp = rfc3339(env.clock())
        await env.kube.restart(target, stamp, dry_run=True)
        return Preview(
            summary=f"Rollout restart of {target.deployment}: replaces its {deployment.replicas} pods one by one",
            changes=(f"deployment/{target.deployment} spec.template.metadata.annotations[{RESTARTED_AT}] = {stamp}"
                     " (server dry run accepted)",),
            state=state,
        )

    async def fingerprint(self, env: ActionEnv, target: Target, params: RestartParams) -> Mapping[str, str]:
        return await deployment_fingerprint(env, target)

    async def execute(self, env: ActionEnv, target: Target, params: RestartParams) -> Outcome:
        deployment = await env.kube.deployment(target)
        if deployment.paused:
            raise ActionError(_paused_message(deployment))
        if env.dry_run:
            return dry_run_outcome(await self.preview(env, target, params))
        now = env.clock()
        last = _restarted_at(deployment)
        if last is not None and timedelta(0) <= now - last < RETRY_WINDOW:
            return Outcome(ok=True, summary=f"{target.deployment} was already restarted at {rfc3339(last)}; "
                                            "not restarting again")
        stamp = rfc3339(now)
        await env.kube.restart(target, stamp, dry_run=False)
        return Outcome(ok=True, summary=f"Restarted {target.deployment} (rolling its pods)",
                       detail=(f"{RESTARTED_AT} = {stamp}",))

    async def settled(self, env: ActionEnv, target: Target, params: RestartParams) -> bool:
        return await rollout_settled(env, target)
