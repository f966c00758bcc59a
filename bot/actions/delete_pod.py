"""`delete-pod pod=NAME`: kubectl delete pod; its ReplicaSet starts a replacement. Only pods of the
target service (its label selector) can be named."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.actions.base import ActionEnv, ActionError, Outcome, Preview, Risk, Role
from bot.actions.common import deployment_state, dry_run_outcome, rollout_settled
from bot.actions.params import only
from bot.config import OpsConfig
from bot.model import Symptom, Target

POD_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


@dataclass(frozen=True)
class DeletePodParams:
    pod: str


class DeletePod:
    name = "delete-pod"
    title = "Delete pod"
    risk = Risk.LOW
    default_role: Role = "editor"
    verify_symptom: Symptom | None = Symptom.MEMORY_LEAK

    def parse(self, raw: Mapping[str, str], config: OpsConfig) -> DeletePodParams:
        only(raw, ("pod",), self.name)
        pod = raw.get("pod", "").strip()
        if not POD_NAME.match(pod):
            raise ActionError(f"{self.name}: pod must be a pod name like auth-service-5d9c7b-x2k4q, got {pod!r}")
        return DeletePodParams(pod)

    async def _state(self, env: ActionEnv, target: Target) -> tuple[dict[str, str], list[str]]:
        deployment = await env.kube.deployment(target)
        pods = await env.kube.pod_names(target)
        return {**deployment_state(deployment), "pods": ",".join(pods)}, pods

    async def preview(self, env: ActionEnv, target: Target, params: DeletePodParams) -> Preview:
        state, pods = await self._state(env, target)
        if params.pod not in pods:
            return Preview(summary=f"Cannot delete pod {params.pod}", state=state,
                           blocked=f"{params.pod} is not one of {target.service}'s pods ({target.selector})")
        await env.kube.delete_pod(target.namespace, params.pod, dry_run=True)
        return Preview(
            summary=f"Delete pod {params.pod} of {target.service}; its ReplicaSet starts a replacement",
            changes=(f"pod/{params.pod} deleted (grace period 30 s; server dry run accepted)",),
            state=state,
        )

    async def fingerprint(self, env: ActionEnv, target: Target, params: DeletePodParams) -> Mapping[str, str]:
        state, _ = await self._state(env, target)
        return state

    async def execute(self, env: ActionEnv, target: Target, params: DeletePodParams) -> Outcome:
        _, pods = await self._state(env, target)
        if params.pod not in pods:
            # Already deleted (a retried execute), or never one of this service's pods: either way nothing
            # of this service is touched.
            return Outcome(ok=True, summary=f"{params.pod} is not (or no longer) one of {target.service}'s pods;"
                                            " nothing deleted")
        if env.dry_run:
            return dry_run_outcome(await self.preview(env, target, params))
        await env.kube.delete_pod(target.namespace, params.pod, dry_run=False)
        return Outcome(ok=True, summary=f"Deleted pod {params.pod}; its ReplicaSet starts a replacement")

    async def settled(self, env: ActionEnv, target: Target, params: DeletePodParams) -> bool:
        return await rollout_settled(env, target)
