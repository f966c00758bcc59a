"""`rollback [to_revision=N]`: kubectl rollout undo, exactly (see bot/sources/kube_undo.py).

The revert is a rollback to the revision being left: undo renumbers only the revision it restores, so
the one rolled back from keeps its number."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.actions.base import ActionEnv, ActionError, Outcome, Preview, Risk, Role
from bot.actions.common import deployment_fingerprint, deployment_state, dry_run_outcome, rollout_settled
from bot.actions.params import only, optional_integer
from bot.config import OpsConfig
from bot.model import Proposal, Symptom, Target
from bot.sources.admin_records import UndoResult
from bot.sources.errors import SourceError


@dataclass(frozen=True)
class RollbackParams:
    to_revision: int | None  # None: the previous revision, as kubectl's default


def _images(images: tuple[str, ...]) -> str:
    return ", ".join(images) or "no images"


def _describe(target: Target, undo: UndoResult) -> str:
    return (f"Roll back {target.deployment} from revision {undo.from_revision} ({_images(undo.images_before)}) "
            f"to revision {undo.to_revision} ({_images(undo.images_after)})")


class Rollback:
    name = "rollback"
    title = "Rollout undo"
    risk = Risk.MEDIUM
    default_role: Role = "editor"
    verify_symptom: Symptom | None = Symptom.HIGH_ERROR_RATE

    def parse(self, raw: Mapping[str, str], config: OpsConfig) -> RollbackParams:
        only(raw, ("to_revision",), self.name)
        return RollbackParams(optional_integer(raw, "to_revision", low=1, high=10**9, action=self.name))

    async def preview(self, env: ActionEnv, target: Target, params: RollbackParams) -> Preview:
        deployment = await env.kube.deployment(target)
        state = deployment_state(deployment)
        if deployment.paused:
            return Preview(summary=f"Cannot roll back {target.deployment}", state=state,
                           blocked=f"deployment {target.deployment} is paused; kubectl refuses to roll back a "
                                   "paused deployment (resume it first)")
        try:
            undo = await env.kube.undo(target, params.to_revision, dry_run=True)
        except SourceError as exc:
            return Preview(summary=f"Cannot roll back {target.deployment}", state=state, blocked=exc.message)
        if undo.skipped:
            return Preview(summary=f"{target.deployment} already runs the template of revision {undo.to_revision};"
                                   " nothing to roll back", state=state)
        return Preview(
            summary=_describe(target, undo),
            changes=(
                f"deployment/{target.deployment} spec.template := template of ReplicaSet {undo.replicaset} "
                "(without pod-template-hash); annotations from that ReplicaSet (server dry run accepted)",
                f"revision {undo.to_revision} becomes revision {(undo.from_revision or 0) + 1}, "
                f"revision {undo.from_revision} stays in the history",
            ),
            state=state,
        )

    async def fingerprint(self, env: ActionEnv, target: Target, params: RollbackParams) -> Mapping[str, str]:
        return await deployment_fingerprint(env, target)

    async def execute(self, env: ActionEnv, target: Target, params: RollbackParams) -> Outcome:
        preview = await self.preview(env, target, params)
        if preview.blocked:
            raise ActionError(preview.blocked)
        if env.dry_run:
            return dry_run_outcome(preview)
        undo = await env.kube.undo(target, params.to_revision, dry_run=False)
        if undo.skipped:
            return Outcome(ok=True, summary=f"{target.deployment} already runs the template of revision "
                                            f"{undo.to_revision}; nothing rolled back")
        revert = None
        if undo.from_revision is not None:
            revert = Proposal(self.name, {"to_revision": str(undo.from_revision)},
                              reason=f"back to revision {undo.from_revision}")
        return Outcome(ok=True, summary=_describe(target, undo).replace("Roll back", "Rolled back", 1),
                       detail=(f"ReplicaSet {undo.replicaset} restored",), revert=revert)

    async def settled(self, env: ActionEnv, target: Target, params: RollbackParams) -> bool:
        return await rollout_settled(env, target)
