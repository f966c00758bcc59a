"""`memory-bump limit=4Gi [minutes=N]`: the guide's temporary memory limit increase, then back (`revert=true`).

Only increases, up to the ops config's `max_memory`; the limit it replaces is kept in an annotation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.actions.base import REVERT_PARAM, ActionEnv, ActionError, Outcome, Preview, Risk, Role
from bot.actions.common import (
    app_container,
    deployment_fingerprint,
    deployment_state,
    dry_run_outcome,
    rollout_settled,
)
from bot.actions.params import flag, memory_bytes, minutes, only, quantity_bytes
from bot.actions.timed import UNSET, TimedChange, TimedParams, TimedSetting, rolling_preview, timed_outcome, until
from bot.config import OpsConfig
from bot.model import Symptom, Target
from bot.sources.admin_records import DeploymentSpecView

LIMIT_BEFORE = "opsbot.io/memory-limit-before-bump"
BUMP_UNTIL = "opsbot.io/memory-bump-until"


def _refusal(deployment: DeploymentSpecView, target: Target, params: TimedParams) -> str | None:
    """Why this bump must not run: the container has no limit (any limit would cut it), the value is not
    above the limit before a bump (the recorded one while a bump is active), it would lower an active
    bump, or it is below what the container requests."""
    container = deployment.container(target.deployment)
    wanted = memory_bytes(params.value)
    current = container.memory_limit
    if not current:
        return (f"{container.name} has no memory limit (unlimited): setting {params.value} would cut it, "
                "not raise it")
    recorded = deployment.annotations.get(LIMIT_BEFORE)  # set while a bump is active
    if recorded is None and wanted <= quantity_bytes(current):
        return (f"memory-bump only raises the limit: {params.value} is not above the current "
                f"{current} of {container.name}")
    if recorded not in (None, UNSET) and wanted <= quantity_bytes(recorded):
        return (f"memory-bump only raises the limit: {params.value} is not above {recorded}, the limit of "
                f"{container.name} before the active bump")
    if recorded is not None and wanted < quantity_bytes(current):
        return (f"memory-bump only raises the limit: {params.value} is below the active bump's {current} "
                f"of {container.name}")
    if container.memory_request and wanted < quantity_bytes(container.memory_request):
        return f"{params.value} is below the container's memory request {container.memory_request}"
    return None


SETTING = TimedSetting(label="limits.memory", before_key=LIMIT_BEFORE, until_key=BUMP_UNTIL, absent="no limit")


def _change(deployment: DeploymentSpecView, target: Target, params: TimedParams, reverts_at: datetime) -> TimedChange:
    current = deployment.container(target.deployment).memory_limit
    return SETTING.change(deployment.annotations, current, params, params.value, reverts_at)


class MemoryBump:
    name = "memory-bump"
    title = "Temporary memory limit increase"
    risk = Risk.MEDIUM
    default_role: Role = "editor"
    verify_symptom: Symptom | None = Symptom.MEMORY_LEAK

    def parse(self, raw: Mapping[str, str], config: OpsConfig) -> TimedParams:
        only(raw, ("limit", "minutes", REVERT_PARAM), self.name)
        limits = config.action_limits
        revert = flag(raw, REVERT_PARAM, self.name)
        duration = minutes(raw, default=limits.default_minutes, high=limits.max_bump_minutes, action=self.name)
        if revert:
            return TimedParams(minutes=duration, revert=True)
        limit = raw.get("limit", "").strip()
        if not limit:
            raise ActionError(f"{self.name}: limit is required, e.g. limit=4Gi")
        try:
            wanted = memory_bytes(limit)
        except ActionError as exc:
            raise ActionError(f"{self.name}: limit: {exc}") from exc
        if wanted > memory_bytes(limits.max_memory):
            raise ActionError(f"{self.name}: limit={limit} exceeds the allowed maximum {limits.max_memory} "
                              "(ops config action_limits.max_memory)")
        return TimedParams(minutes=duration, revert=False, value=limit)

    async def preview(self, env: ActionEnv, target: Target, params: TimedParams) -> Preview:
        deployment = await env.kube.deployment(target)
        state = deployment_state(deployment)
        if params.revert and LIMIT_BEFORE not in deployment.annotations:
            return Preview(summary=f"No memory bump is active on {target.deployment}; nothing to revert",
                           state=state)
        refusal = None if params.revert else _refusal(deployment, target, params)
        if refusal:
            return Preview(summary=f"Cannot bump memory of {target.deployment}", state=state, blocked=refusal)
        change = _change(deployment, target, params, until(env.clock(), params.minutes))
        container = app_container(deployment, target)
        await env.kube.set_memory_limit(target, container, change.value, change.annotations,
                                        expect_version=deployment.resource_version, dry_run=True)
        what = "Revert the memory bump" if params.revert else f"Memory limit {params.value} for {params.minutes} min"
        return rolling_preview(target, container, change.line, what, state)

    async def fingerprint(self, env: ActionEnv, target: Target, params: TimedParams) -> Mapping[str, str]:
        return await deployment_fingerprint(env, target)

    async def execute(self, env: ActionEnv, target: Target, params: TimedParams) -> Outcome:
        deployment = await env.kube.deployment(target)
        if params.revert and LIMIT_BEFORE not in deployment.annotations:
            return Outcome(ok=True, summary=f"No memory bump is active on {target.deployment}; nothing reverted")
        refusal = None if params.revert else _refusal(deployment, target, params)
        if refusal:
            raise ActionError(refusal)
        if env.dry_run:
            return dry_run_outcome(await self.preview(env, target, params))
        reverts_at = until(env.clock(), params.minutes)
        change = _change(deployment, target, params, reverts_at)
        await env.kube.set_memory_limit(target, app_container(deployment, target), change.value, change.annotations,
                                        expect_version=deployment.resource_version, dry_run=False)
        if params.revert:
            return Outcome(ok=True, summary=f"Memory limit of {target.deployment} reverted", detail=(change.line,))
        return timed_outcome(self.name, f"Memory limit of {target.deployment} raised to {params.value}",
                             (change.line,), reverts_at)

    async def settled(self, env: ActionEnv, target: Target, params: TimedParams) -> bool:
        return await rollout_settled(env, target)
