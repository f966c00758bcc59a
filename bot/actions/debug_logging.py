"""`debug-logging [minutes=N]`: kubectl set env LOG_LEVEL=DEBUG for a while, then back (`revert=true`).

The LOG_LEVEL it replaces is kept in an annotation; changing env rolls the pods, both ways. Its verification
counts the pods the deployment controls that run with LOG_LEVEL=DEBUG: all of them (and ready) once switched
on, none once reverted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.actions.base import REVERT_PARAM, ActionEnv, ActionError, Outcome, Preview, Risk, Role, reached_finding
from bot.actions.common import (
    app_container,
    app_container_spec,
    deployment_fingerprint,
    deployment_state,
    dry_run_outcome,
    live_pods,
    rollout_settled,
)
from bot.actions.params import flag, minutes, only
from bot.actions.timed import TimedChange, TimedParams, TimedSetting, rolling_preview, timed_outcome, until
from bot.config import OpsConfig
from bot.model import Fact, Finding, Symptom, Target
from bot.sources.admin_records import DeploymentSpecView
from bot.sources.records import PodInfo

VARIABLE = "LOG_LEVEL"
DEBUG = "DEBUG"
LEVEL_BEFORE = "opsbot.io/log-level-before-debug"
DEBUG_UNTIL = "opsbot.io/debug-logging-until"

SETTING = TimedSetting(label=VARIABLE, before_key=LEVEL_BEFORE, until_key=DEBUG_UNTIL, absent="unset")


def _change(deployment: DeploymentSpecView, target: Target, params: TimedParams, reverts_at: datetime) -> TimedChange:
    current = app_container_spec(deployment, target).env.get(VARIABLE)
    return SETTING.change(deployment.annotations, current, params, DEBUG, reverts_at)


def _referenced(deployment: DeploymentSpecView, target: Target) -> str | None:
    container = app_container_spec(deployment, target)
    if VARIABLE in container.env_refs:
        return (f"{VARIABLE} of container {container.name} comes from a ConfigMap/Secret reference; "
                "setting it here would drop that reference, change it at its source instead")
    return None


class DebugLogging:
    name = "debug-logging"
    title = "Temporary debug logging"
    risk = Risk.LOW
    default_role: Role = "editor"
    verify_symptom: Symptom | None = None

    def parse(self, raw: Mapping[str, str], config: OpsConfig) -> TimedParams:
        only(raw, ("minutes", REVERT_PARAM), self.name)
        limits = config.action_limits
        return TimedParams(minutes=minutes(raw, default=limits.default_minutes, high=limits.max_debug_minutes,
                                           action=self.name),
                           revert=flag(raw, REVERT_PARAM, self.name))

    async def preview(self, env: ActionEnv, target: Target, params: TimedParams) -> Preview:
        deployment = await env.kube.deployment(target)
        state = deployment_state(deployment)
        if params.revert and LEVEL_BEFORE not in deployment.annotations:
            return Preview(summary=f"Debug logging is not on for {target.deployment}; nothing to revert",
                           state=state)
        blocked = _referenced(deployment, target)
        if blocked:
            return Preview(summary=f"Cannot switch debug logging on {target.deployment}", state=state,
                           blocked=blocked)
        change = _change(deployment, target, params, until(env.clock(), params.minutes))
        container = app_container(deployment, target)
        await env.kube.set_env(target, container, VARIABLE, change.value, change.annotations,
                               expect_version=deployment.resource_version, dry_run=True)
        what = "Revert debug logging" if params.revert else f"Debug logging for {params.minutes} min"
        return rolling_preview(target, container, change.line, what, state)

    async def fingerprint(self, env: ActionEnv, target: Target, params: TimedParams) -> Mapping[str, str]:
        return await deployment_fingerprint(env, target)

    async def execute(self, env: ActionEnv, target: Target, params: TimedParams) -> Outcome:
        deployment = await env.kube.deployment(target)
        if env.dry_run:
            return dry_run_outcome(await self.preview(env, target, params))
        if params.revert and LEVEL_BEFORE not in deployment.annotations:
            return Outcome(ok=True, summary=f"Debug logging is not on for {target.deployment}; nothing reverted")
        refusal = _referenced(deployment, target)
        if refusal:
            raise ActionError(refusal)
        reverts_at = until(env.clock(), params.minutes)
        change = _change(deployment, target, params, reverts_at)
        container = app_container(deployment, target)
        await env.kube.set_env(target, container, VARIABLE, change.value, change.annotations,
                               expect_version=deployment.resource_version, dry_run=False)
        if params.revert:
            return Outcome(ok=True, summary=f"Debug logging reverted on {target.deployment}", detail=(change.line,))
        return timed_outcome(self.name, f"Debug logging on for {target.deployment}", (change.line,), reverts_at)

    async def settled(self, env: ActionEnv, target: Target, params: TimedParams) -> bool:
        return await rollout_settled(env, target)

    async def check(self, env: ActionEnv, target: Target, params: TimedParams) -> Finding:
        """Pods running with LOG_LEVEL=DEBUG: switched on once every wanted replica is a ready DEBUG pod and no
        other pod is left; reverted once none runs with it."""
        deployment = await env.kube.deployment(target)
        container = app_container(deployment, target)
        pods = await live_pods(env, deployment)
        debug = [p for p in pods if _level(p, container) == DEBUG]
        label = f"pods with {VARIABLE}={DEBUG}"
        if params.revert:
            return reached_finding(
                self.name, f"Debug logging on {target.deployment}", reached=not debug,
                summary=f"{len(debug)} of {len(pods)} pod(s) of {target.deployment} still log at {DEBUG}" if debug
                else f"no pod of {target.deployment} logs at {DEBUG}",
                key=Fact(label, f"{len(debug)} of {len(pods)}", threshold="0"),
            )
        ready = sum(p.ready for p in debug)
        others = len(pods) - len(debug)
        on = ready >= deployment.replicas and others == 0
        return reached_finding(
            self.name, f"Debug logging on {target.deployment}", reached=on,
            summary=(f"all {ready} pod(s) of {target.deployment} run with {VARIABLE}={DEBUG}" if on else
                     f"{ready} of {deployment.replicas} pod(s) of {target.deployment} ready with {VARIABLE}={DEBUG}, "
                     f"{others} without"),
            key=Fact(label, f"{ready} of {deployment.replicas} ready ({others} without)",
                     threshold=str(deployment.replicas)),
        )


def _level(pod: PodInfo, container: str) -> str | None:
    """The pod's own LOG_LEVEL (what it was started with), in the application container."""
    spec = pod.spec(container) or (pod.specs[0] if pod.specs else None)
    return spec.env.get(VARIABLE) if spec is not None else None
