"""Helpers for the scheduler tests: the bot's deps against the sandbox, and a timed change already due."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.actions import ACTIONS
from bot.approvals import Approvals, Approver, DecisionKind
from bot.config import OpsConfig, Settings
from bot.sandbox.runner import Sandbox
from bot.store.approvals import ApprovalRequest
from bot.wiring import Deps, build_deps
from tests.approvals.conftest import EDITOR, EDITOR_2, role_config


def sandbox_deps(sandbox: Sandbox, workdir: Path, *, database_url: str | None = None,
                 redis_url: str | None = None, config: OpsConfig | None = None,
                 ops_channel: str | None = "C0OPS") -> Deps:
    kubeconfig = sandbox.write_kubeconfig(workdir / "kubeconfig")
    settings = Settings(_env_file=None, kubeconfig=str(kubeconfig), metrics_api_url=sandbox.metrics_url,
                        database_url=database_url, redis_url=redis_url, opsbot_config=None, ops_channel=ops_channel)
    return build_deps(settings, config or role_config())


async def timed_change_already_due(deps: Deps, action: str, service: str, params: dict[str, str], *,
                                   minutes_ago: int, channel: str = "C0OPS",
                                   message_ts: str | None = None) -> ApprovalRequest:
    """A person proposed and approved `action` long enough ago that its automatic revert is overdue.

    Only the action's clock is moved back: the change and its annotation are real, written through the
    sandbox's Kubernetes API, exactly as an approval at that time would have written them."""
    minutes = int(params.get("minutes", "1"))
    then = datetime.now(UTC) - timedelta(minutes=minutes + minutes_ago)
    env = replace(deps.action_env, clock=lambda: then)
    past = Approvals(deps.approvals.store, deps.coordination, deps.config, ACTIONS, env)
    proposed = await past.propose(action, service, {**params, "minutes": str(minutes)}, EDITOR, channel=channel,
                                  message_ts=message_ts)
    decision = await past.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert decision.kind is DecisionKind.SUCCEEDED, decision.message
    assert decision.request is not None
    return decision.request


def deployment_annotations(sandbox: Sandbox, name: str) -> dict[str, str]:
    found = sandbox.cluster.get("Deployment", "default", name)
    assert found is not None
    return dict(found["metadata"].get("annotations") or {})


__all__ = ["EDITOR", "EDITOR_2", "deployment_annotations", "role_config", "sandbox_deps", "timed_change_already_due"]
