"""`Remediation.settled_now`: whether verifying has a rollout to wait for, which the demo's "verifying…" line
says; a change with no rollout (database, cache, the maintenance switch) has taken effect at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from bot.actions.base import ActionEnv
from bot.approvals import Approvals
from bot.checks.base import SourceSet
from bot.config import OpsConfig, load_ops_config
from bot.model import Target
from bot.remediation import Remediation
from bot.sources.errors import SourceError
from bot.sources.kube_writes import KubeWriter
from bot.store.approvals import ApprovalRequest, RequestStatus
from tests.approvals.fakes import RecordingAction


@dataclass
class Rolling(RecordingAction):
    """A deployment action whose rollout is still running, or whose read fails."""

    done: bool = False
    fails: bool = False

    async def settled(self, env: ActionEnv, target: Target, params: dict[str, str]) -> bool:
        if self.fails:
            raise SourceError("kube", "connection refused")
        return self.done


def remediation(config: OpsConfig, **actions: Any) -> Remediation:
    env = ActionEnv(kube=cast(KubeWriter, None), config=config)  # settled_now passes it on, unused here
    return Remediation(cast(Approvals, None), actions=actions, config=config, env=env,
                       sources=cast(SourceSet, None), runbooks={})


def request(action: str) -> ApprovalRequest:
    now = datetime.now(UTC)
    return ApprovalRequest("req_1", action, "auth-service", {}, {}, "U0ALICE", RequestStatus.SUCCEEDED, now, now, now)


async def test_settled_now_follows_the_actions_own_settled() -> None:
    config = load_ops_config(None)
    flow = remediation(config, at_once=RecordingAction(name="flush-cache"), rolling=Rolling(name="restart"),
                       done=Rolling(name="restart", done=True), broken=Rolling(name="restart", fails=True))
    assert await flow.settled_now(request("at_once")) is True
    assert await flow.settled_now(request("rolling")) is False
    assert await flow.settled_now(request("done")) is True
    assert await flow.settled_now(request("broken")) is False  # cannot tell: the rollout is waited for
    assert await flow.settled_now(request("gone")) is True  # not in this version: nothing to wait for
