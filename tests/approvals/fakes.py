"""A test double action: the subject under test is the state machine, so the action only records calls.

It follows the `Action` protocol: `preview().state` is the "revision" of a pretend deployment, which a
test moves to simulate the target changing between proposal and approval.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from bot.actions.base import ActionEnv, ActionError, Outcome, Preview, Risk, Role
from bot.config import OpsConfig
from bot.model import Symptom, Target


@dataclass
class RecordingAction:
    name: str = "scale"
    title: str = "Scale"
    risk: Risk = Risk.MEDIUM
    default_role: Role = "editor"
    verify_symptom: Symptom | None = None
    revision: str = "7"
    fail_with: str | None = None
    fingerprint_raises: Exception | None = None  # an unexpected error between approved and executing
    during_execute: Callable[[], Awaitable[object]] | None = None  # e.g. another replica's fail_stuck
    executions: list[tuple[str, Mapping[str, str]]] = field(default_factory=list)

    def parse(self, raw: Mapping[str, str], config: OpsConfig) -> dict[str, str]:
        if "replicas" in raw and not raw["replicas"].isdigit():
            raise ActionError("replicas must be a whole number")
        return dict(raw)

    async def preview(self, env: ActionEnv, target: Target, params: dict[str, str]) -> Preview:
        return Preview(summary=f"{self.name} {target.deployment} {params}", state={"revision": self.revision})

    async def fingerprint(self, env: ActionEnv, target: Target, params: dict[str, str]) -> Mapping[str, str]:
        if self.fingerprint_raises is not None:
            raise self.fingerprint_raises
        return {"revision": self.revision}

    async def execute(self, env: ActionEnv, target: Target, params: dict[str, str]) -> Outcome:
        self.executions.append((target.service, dict(params)))
        if self.during_execute is not None:
            await self.during_execute()
        await asyncio.sleep(0.01)  # give concurrent clicks every chance to interleave with a running execution
        if self.fail_with:
            raise ActionError(self.fail_with)
        return Outcome(ok=True, summary=f"{self.name} done on {target.service}")

    async def settled(self, env: ActionEnv, target: Target, params: dict[str, str]) -> bool:
        return True
