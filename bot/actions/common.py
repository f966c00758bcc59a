"""Pieces the Kubernetes actions share: the deployment fingerprint, rollout settling, dry-run outcomes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime

from bot.actions.base import ActionEnv, ActionError, Outcome, Preview
from bot.model import Target
from bot.sources.admin_records import ContainerSpec, DeploymentSpecView
from bot.sources.records import PodInfo

DRY_RUN_NOTE = "OPSBOT_DRY_RUN is on: nothing was executed."
# Pods in these phases are done and hold nothing; every other pod still serves or is about to.
FINISHED_PHASES = frozenset({"Succeeded", "Failed"})


def deployment_state(deployment: DeploymentSpecView, *, replicas: bool = False) -> dict[str, str]:
    """What a deployment proposal is made on: a new rollout (revision) or another pod template makes it
    stale. The replica count only matters to actions about replicas (`replicas=True`): an autoscaler moves
    it all the time, and neither it nor the generation it bumps says anything about a template change."""
    state = {
        "deployment": deployment.name,
        "revision": str(deployment.revision or 0),
        "template": template_hash(deployment.template),
    }
    if replicas:
        state["replicas"] = str(deployment.replicas)
    return state


def template_hash(template: Mapping[str, object]) -> str:
    """A short stable digest of the pod template (wire format, keys sorted)."""
    text = json.dumps(template, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


async def deployment_fingerprint(env: ActionEnv, target: Target, *, replicas: bool = False) -> Mapping[str, str]:
    return deployment_state(await env.kube.deployment(target), replicas=replicas)


async def live_pods(env: ActionEnv, deployment: DeploymentSpecView) -> list[PodInfo]:
    """The pods the deployment controls that are not finished: what an action's own check counts."""
    return [p for p in await env.kube.controlled_pods(deployment) if p.phase not in FINISHED_PHASES]


async def rollout_settled(env: ActionEnv, target: Target) -> bool:
    """kubectl rollout status is done; also True once the progress deadline passed (nothing more will
    happen by waiting; verification then shows the failure)."""
    deployment = await env.kube.deployment(target)
    return deployment.rollout_complete or deployment.progress_deadline_exceeded


def dry_run_outcome(preview: Preview) -> Outcome:
    """What OPSBOT_DRY_RUN answers instead of executing: the preview, or its refusal as a real run would."""
    refuse_if_blocked(preview)
    return Outcome(ok=True, summary=f"{DRY_RUN_NOTE} Would: {preview.summary}", detail=preview.changes,
                   dry_run=True)


def refuse_if_blocked(preview: Preview) -> None:
    if preview.blocked:
        raise ActionError(preview.blocked)


def rfc3339(moment: datetime) -> str:
    """The timestamp format kubectl writes into annotations (UTC, seconds)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def app_container(deployment: DeploymentSpecView, target: Target) -> str:
    return app_container_spec(deployment, target).name


def app_container_spec(deployment: DeploymentSpecView, target: Target) -> ContainerSpec:
    """The application container (named like the deployment, else the first); a refusal when there is none."""
    if not deployment.containers:
        raise ActionError(f"deployment {deployment.name} has no containers")
    return deployment.container(target.deployment)
