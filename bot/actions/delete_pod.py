"""`delete-pod pod=NAME`: kubectl delete pod; its ReplicaSet starts a replacement. Only pods the target
service's deployment controls (through its ReplicaSets) can be named.

The proposal is made on that one pod: its UID and the deployment owning it. Other pods coming and going
(an autoscaler, a rollout of other replicas) do not make it stale; the pod being deleted or replaced, or
no longer owned by the deployment, does."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.actions.base import ActionEnv, ActionError, Outcome, Preview, Risk, Role
from bot.actions.common import dry_run_outcome, rollout_settled
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

    async def _state(self, env: ActionEnv, target: Target, pod: str) -> tuple[dict[str, str], dict[str, str]]:
        """The fingerprint (the named pod's UID, "" when the deployment controls no pod of that name, and
        the deployment's own UID) and the deployment's pods, name -> UID."""
        deployment = await env.kube.deployment(target)
        pods = await env.kube.owned_pods(deployment)
        state = {"deployment": deployment.name, "deployment_uid": deployment.uid, "pod_uid": pods.get(pod, "")}
        return state, pods

    async def preview(self, env: ActionEnv, target: Target, params: DeletePodParams) -> Preview:
        state, pods = await self._state(env, target, params.pod)
        if params.pod not in pods:
            return Preview(summary=f"Cannot delete pod {params.pod}", state=state,
                           blocked=f"{params.pod} is not one of {target.service}'s pods "
                                   f"(those deployment/{state['deployment']} controls)")
        await env.kube.delete_pod(target.namespace, params.pod, dry_run=True)
        return Preview(
            summary=f"Delete pod {params.pod} of {target.service}; its ReplicaSet starts a replacement",
            changes=(f"pod/{params.pod} deleted (grace period 30 s; server dry run accepted)",),
            state=state,
        )

    async def fingerprint(self, env: ActionEnv, target: Target, params: DeletePodParams) -> Mapping[str, str]:
        state, _ = await self._state(env, target, params.pod)
        return state

    async def execute(self, env: ActionEnv, target: Target, params: DeletePodParams) -> Outcome:
        _, pods = await self._state(env, target, params.pod)
        if params.pod not in pods:
            # Already deleted (a retried execute), or never one of this service's pods: either way nothing
            # of this service is touched.
            return Outcome(ok=True, summary=f"{params.pod} is not (or no longer) one of {target.service}'s pods;"
                                            " nothing deleted")
        if env.dry_run:
            return dry_run_outcome(await self.preview(env, target, params))
        # The UID as a precondition: the pod approved and checked under the lock is the one deleted, even if
        # it is replaced under the same name between that check and this call.
        await env.kube.delete_pod(target.namespace, params.pod, uid=pods[params.pod], dry_run=False)
        return Outcome(ok=True, summary=f"Deleted pod {params.pod}; its ReplicaSet starts a replacement")

    async def settled(self, env: ActionEnv, target: Target, params: DeletePodParams) -> bool:
        return await rollout_settled(env, target)
