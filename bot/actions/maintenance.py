"""`maintenance mode=on|off`: apply / delete the load balancer's maintenance switch, the ConfigMap in
`manifests/maintenance-mode.yaml` (while it exists with `enabled: "true"` the platform answers 503 with its
message). The switch is namespace-wide: one ConfigMap for every service of the namespace, whichever service the
request names. Its verification reads the switch back: there with `enabled: "true"` (and the status code the
load balancer then answers) for on, not switched on for off; `switched_on` is the one definition of "on"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.actions.base import ActionEnv, ActionError, Outcome, Preview, Risk, Role, reached_finding
from bot.actions.common import dry_run_outcome
from bot.actions.params import only
from bot.config import OpsConfig
from bot.model import Fact, Finding, Proposal, Symptom, Target
from bot.sources.admin_records import ConfigMapView

# The repository root, for the default relative manifest path when the bot runs from elsewhere.
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class MaintenanceParams:
    on: bool


def load_manifest(configured: str) -> dict[str, Any]:
    """The maintenance manifest: one ConfigMap with a name (the only kind this action applies)."""
    path = Path(configured)
    if not path.is_absolute() and not path.exists():
        path = _PROJECT_ROOT / configured
    try:
        manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ActionError(f"cannot read the maintenance manifest {configured}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("kind") != "ConfigMap" \
            or not (manifest.get("metadata") or {}).get("name"):
        raise ActionError(f"the maintenance manifest {configured} must be one ConfigMap with metadata.name")
    return manifest


def _parse_mode(raw: Mapping[str, str]) -> bool:
    # `mode=on` as documented; bare `on` / `off` (an empty-valued key) as people type it.
    text = raw.get("mode", "").strip().lower() or next((k for k in raw if k in ("on", "off")), "")
    if text not in ("on", "off"):
        raise ActionError("maintenance: say mode=on or mode=off")
    return text == "on"


class Maintenance:
    name = "maintenance"
    title = "Maintenance mode (503 at the load balancer)"
    risk = Risk.HIGH
    default_role: Role = "admin"
    verify_symptom: Symptom | None = None

    def parse(self, raw: Mapping[str, str], config: OpsConfig) -> MaintenanceParams:
        only(raw, ("mode", "on", "off"), self.name)
        return MaintenanceParams(on=_parse_mode(raw))

    async def _read(self, env: ActionEnv, target: Target, name: str) -> tuple[ConfigMapView | None, dict[str, str]]:
        """The switch as it is, and the proposal's state: on/off as the load balancer reads it (`switched_on`),
        the same rule the verification uses, so a switch there but disabled is off everywhere."""
        current = await env.kube.config_map(target.namespace, name)
        return current, {"maintenance": "on" if switched_on(current) else "off",
                         "resource_version": current.resource_version if current else ""}

    async def preview(self, env: ActionEnv, target: Target, params: MaintenanceParams) -> Preview:
        manifest = load_manifest(env.config.action_limits.maintenance_manifest)
        name = manifest["metadata"]["name"]
        current, state = await self._read(env, target, name)
        where = f"configmap/{name} in namespace {target.namespace}"
        # One switch for the namespace: `maintenance api-gateway mode=on` stops every service there.
        scope = (f"for every service in namespace {target.namespace}, not only {target.service} "
                 f"(one switch, {where})")
        if params.on:
            applied = await env.kube.apply_config_map(target.namespace, manifest, dry_run=True)
            verb = ("created" if current is None else "updated (already on)" if state["maintenance"] == "on"
                    else "updated (there but not enabled: now enabled)")
            return Preview(
                summary=f"Maintenance mode ON {scope}: the load balancer answers every request with "
                        f"{applied.data.get('status_code', '503')} until it is switched off",
                changes=(f"{where} {verb} (server-side apply, dry run accepted)",
                         f"message: {applied.data.get('message', '')}"),
                state=state,
            )
        if current is None:
            return Preview(summary="Maintenance mode is already off; nothing to remove", state=state,
                           unchanged="maintenance mode is already off")
        await env.kube.delete_config_map(target.namespace, name, dry_run=True)
        summary = (f"Maintenance mode OFF {scope}: traffic is routed to the services again"
                   if state["maintenance"] == "on" else
                   f"Maintenance mode is already off ({where} is there but not enabled); the switch is removed")
        return Preview(summary=summary, changes=(f"{where} deleted (server dry run accepted)",), state=state)

    async def fingerprint(self, env: ActionEnv, target: Target, params: MaintenanceParams) -> Mapping[str, str]:
        manifest = load_manifest(env.config.action_limits.maintenance_manifest)
        return (await self._read(env, target, manifest["metadata"]["name"]))[1]

    async def execute(self, env: ActionEnv, target: Target, params: MaintenanceParams) -> Outcome:
        manifest = load_manifest(env.config.action_limits.maintenance_manifest)
        name = manifest["metadata"]["name"]
        if env.dry_run:
            return dry_run_outcome(await self.preview(env, target, params))
        if params.on:
            await env.kube.apply_config_map(target.namespace, manifest, dry_run=False)
            return Outcome(ok=True, summary="Maintenance mode is ON (503 at the load balancer)",
                           detail=(f"configmap/{name} applied in {target.namespace}",),
                           revert=Proposal(self.name, {"mode": "off"}, reason="end maintenance mode"))
        removed = await env.kube.delete_config_map(target.namespace, name, dry_run=False)
        summary = "Maintenance mode is OFF" if removed else "Maintenance mode was already off"
        return Outcome(ok=True, summary=summary)

    async def settled(self, env: ActionEnv, target: Target, params: MaintenanceParams) -> bool:
        return True  # the switch takes effect when the object is written; there is no rollout

    async def check(self, env: ActionEnv, target: Target, params: MaintenanceParams) -> Finding:
        """Whether the switch is as wanted: on needs the object with enabled "true" (the load balancer then
        answers its status_code), off needs it gone."""
        manifest = load_manifest(env.config.action_limits.maintenance_manifest)
        name = manifest["metadata"]["name"]
        current = await env.kube.config_map(target.namespace, name)
        on = switched_on(current)
        where = f"configmap/{name} in {target.namespace}"
        answers = (current.data.get("status_code", "503") if current is not None and on else "")
        if current is None:
            state = f"{where} is absent: traffic is routed to the services"
        elif on:
            state = f"{where} is there with enabled=true: the load balancer answers {answers}"
        else:
            state = f"{where} is there but not enabled: traffic is routed to the services"
        present = 1 if current is not None else 0
        value = f"{present} of 1 present" + (f" (enabled, answers {answers})" if on else "")
        return reached_finding(
            self.name, "Maintenance switch", reached=on == params.on, summary=state,
            key=Fact(f"configmap/{name}", value, threshold="1" if params.on else "0"),
        )


def switched_on(current: ConfigMapView | None) -> bool:
    """The manifest's contract with the load balancer: maintenance while the object exists with enabled "true"."""
    return current is not None and current.data.get("enabled", "").strip().lower() == "true"
