"""The approvals database failing once the action has run: the click is answered with what really happened.

A store error after `execute` must not read "nothing was checked or changed": the action ran, so the decision
carries its real outcome and says what the database failed to keep. Before execution a store error still
raises (the Slack layer then says nothing ran), and then nothing has run.

Memory store with injected failures, through `Approvals` (the core the Slack handler and the CLI call), and
through the real Slack handler (signed click and modal submission, fake Slack Web API, sandbox platform).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.actions.base import ActionEnv
from bot.approvals import Approvals, Approver, DecisionKind
from bot.config import OpsConfig, Settings
from bot.config_sections import ApprovalsConfig
from bot.remediation import Remediation, build_remediation
from bot.render.approval_blocks import MODAL_CALLBACK, REVIEW_ACTION
from bot.sandbox.runner import Sandbox
from bot.store.approvals import ApprovalStoreError, AuditEntry, AuditEvent, RequestStatus
from bot.store.approvals_memory import MemoryApprovalStore
from bot.wiring import Deps, build_deps
from handlers import actions as action_handlers
from handlers.people import People
from tests.approvals.conftest import EDITOR, EDITOR_2, make_approvals, role_config, scale_action
from tests.approvals.fakes import RecordingAction
from tests.fakes.signing import (
    SIGNING_SECRET,
    block_actions_payload,
    interactive_body,
    sign,
    view_submission_payload,
)
from tests.fakes.slack_api import FakeSlack

LOST = "approvals database: connection lost"


class FlakyStore(MemoryApprovalStore):
    """A memory store whose writes fail from a chosen point: an audit event, or a transition to a status."""

    def __init__(self) -> None:
        super().__init__()
        self.failing_events: set[AuditEvent] = set()
        self.failing_transitions: set[RequestStatus] = set()

    async def append_audit(self, entry: AuditEntry) -> None:
        if entry.event in self.failing_events:
            raise ApprovalStoreError(LOST)
        await super().append_audit(entry)

    async def transition(self, request_id: str, source: RequestStatus, target: RequestStatus,
                         **kwargs: Any) -> Any:
        if target in self.failing_transitions:
            raise ApprovalStoreError(LOST)
        return await super().transition(request_id, source, target, **kwargs)


async def _proposed(approvals: Approvals) -> str:
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "3"}, requester=EDITOR)
    return proposed.request.id


async def test_a_failed_succeeded_transition_still_reports_that_the_action_ran(action_env: ActionEnv) -> None:
    store, action = FlakyStore(), scale_action()
    approvals = make_approvals(store, action, env=action_env)
    request_id = await _proposed(approvals)
    store.failing_transitions = {RequestStatus.SUCCEEDED}

    decision = await approvals.approve(request_id, Approver.slack_user(EDITOR_2))

    assert action.executions == [("auth-service", {"replicas": "3"})]  # ran, exactly once
    assert decision.kind is DecisionKind.SUCCEEDED and decision.ok
    assert decision.outcome is not None and decision.outcome.ok
    assert decision.message.startswith("Done: scale done on auth-service. The action ran"), decision.message
    assert decision.unrecorded is not None and "could not be recorded" in decision.unrecorded
    assert "nothing" not in decision.message.lower()
    stored = await store.get(request_id)
    assert stored is not None and stored.status is RequestStatus.EXECUTING  # what the database kept
    assert decision.request is not None and decision.request.status is RequestStatus.EXECUTING


async def test_a_failed_audit_write_after_execution_reports_the_recorded_outcome(action_env: ActionEnv) -> None:
    store, action = FlakyStore(), scale_action()
    approvals = make_approvals(store, action, env=action_env)
    request_id = await _proposed(approvals)
    store.failing_events = {AuditEvent.SUCCEEDED}

    decision = await approvals.approve(request_id, Approver.slack_user(EDITOR_2))

    assert len(action.executions) == 1
    assert decision.kind is DecisionKind.SUCCEEDED
    assert decision.message.startswith("Done: scale done on auth-service. The action ran"), decision.message
    assert decision.unrecorded is not None and "recorded as succeeded" in decision.unrecorded
    assert "audit trail lacks its result" in decision.unrecorded
    assert decision.request is not None and decision.request.status is RequestStatus.SUCCEEDED
    assert decision.request.decided_by == EDITOR_2
    events = [r.entry.event for r in await store.audit() if r.entry.request_id == request_id]
    assert events == [AuditEvent.PROPOSED, AuditEvent.CLICKED, AuditEvent.APPROVED, AuditEvent.EXECUTING]


async def test_a_failed_action_whose_result_cannot_be_stored_is_reported_as_failed_and_run(
    action_env: ActionEnv,
) -> None:
    store = FlakyStore()
    action = RecordingAction(name="scale", fail_with="quota exceeded")
    approvals = make_approvals(store, action, env=action_env)
    request_id = await _proposed(approvals)
    store.failing_transitions = {RequestStatus.FAILED}

    decision = await approvals.approve(request_id, Approver.slack_user(EDITOR_2))

    assert len(action.executions) == 1
    assert decision.kind is DecisionKind.FAILED
    assert decision.message.startswith("Failed: quota exceeded. The action ran"), decision.message
    assert decision.outcome is not None and not decision.outcome.ok


async def test_a_request_left_executing_is_later_marked_outcome_unknown_not_failed(action_env: ActionEnv) -> None:
    config = role_config(approvals=ApprovalsConfig(lock_ttl_s=0.01).model_dump())
    store, action = FlakyStore(), scale_action()
    approvals = make_approvals(store, action, env=action_env, config=config)
    request_id = await _proposed(approvals)
    store.failing_transitions = {RequestStatus.SUCCEEDED}
    await approvals.approve(request_id, Approver.slack_user(EDITOR_2))
    store.failing_transitions = set()  # the database is back; the scheduler's job finds the row
    await asyncio.sleep(0.05)  # past the action lock's TTL

    [stuck] = await approvals.fail_stuck()

    assert stuck.id == request_id and stuck.outcome is not None
    assert stuck.outcome.startswith("outcome unknown"), stuck.outcome
    assert "may have run" in stuck.outcome and "check the target" in stuck.outcome
    [audited] = [r.entry for r in await store.audit() if r.entry.request_id == request_id and r.entry.actor == "opsbot"]
    assert audited.detail == stuck.outcome


async def test_a_store_error_before_execution_still_raises_and_nothing_runs(action_env: ActionEnv) -> None:
    store, action = FlakyStore(), scale_action()
    approvals = make_approvals(store, action, env=action_env)
    request_id = await _proposed(approvals)
    store.failing_events = {AuditEvent.EXECUTING}  # after the move to executing, before the run

    with pytest.raises(ApprovalStoreError):
        await approvals.approve(request_id, Approver.slack_user(EDITOR_2))

    assert action.executions == []
    stored = await store.get(request_id)
    assert stored is not None and stored.status is RequestStatus.FAILED  # not left executing for fail_stuck
    assert stored.outcome is not None and stored.outcome.startswith("not run")


async def test_a_late_click_after_an_unrecorded_success_runs_nothing_again(
    action_env: ActionEnv,
) -> None:
    """A late second click on a request whose result was only half recorded runs nothing again."""
    store, action = FlakyStore(), scale_action()
    approvals = make_approvals(store, action, env=action_env)
    request_id = await _proposed(approvals)
    store.failing_transitions = {RequestStatus.SUCCEEDED}
    await approvals.approve(request_id, Approver.slack_user(EDITOR_2))
    store.failing_transitions = set()

    again = await approvals.approve(request_id, Approver.slack_user(EDITOR))

    assert again.kind is DecisionKind.REFUSED and len(action.executions) == 1


# -- through the real Slack handler ---------------------------------------------------------------------------
CHANNEL = "C0OPS0001"


@dataclass
class Bot:
    app: AsyncApp
    flow: Remediation
    store: FlakyStore
    action: RecordingAction
    fake_slack: FakeSlack

    async def dispatch(self, payload: dict[str, Any]) -> None:
        body = interactive_body(payload)
        headers: dict[str, str | Sequence[str]] = {k.lower(): [v] for k, v in sign(SIGNING_SECRET, body).items()}
        headers["content-type"] = ["application/x-www-form-urlencoded"]
        response = await self.app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
        assert response.status == 200, response.body


def _config() -> OpsConfig:
    base = role_config()
    return base.model_copy(update={"action_limits": base.action_limits.model_copy(update={"verify_delay_s": 0})})


@pytest.fixture
async def bot(fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Bot]:
    with Sandbox("bad-deploy") as sandbox:
        settings = Settings(_env_file=None, kubeconfig=str(sandbox.write_kubeconfig(tmp_path / "kubeconfig")),
                            metrics_api_url=sandbox.metrics_url, redis_url=None, database_url=None,
                            opsbot_config=None)
        built = build_deps(settings, _config())
        store, action = FlakyStore(), scale_action()
        approvals = Approvals(store, built.coordination, built.config, {"scale": action}, built.action_env)
        deps: Deps = replace(built, approvals=approvals)
        flow = build_remediation(deps)
        client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
        # Run each listener to its end before dispatch returns, so the test reads what it posted.
        app = AsyncApp(client=client, signing_secret=SIGNING_SECRET, process_before_response=True)
        action_handlers.register(app, deps, flow, People())
        for user in (EDITOR, EDITOR_2):
            fake_slack.set_user(user)
        try:
            yield Bot(app, flow, store, action, fake_slack)
        finally:
            await flow.cancel_pending()
            await built.aclose()


async def _posted_proposal(bot: Bot) -> tuple[str, str]:
    proposed = await bot.flow.approvals.propose("scale", "auth-service", {"replicas": "3"}, EDITOR,
                                                channel=CHANNEL, awaiting_message=True)
    request_id = proposed.request.id
    button = {"type": "button", "action_id": f"{REVIEW_ACTION}-0", "value": request_id,
              "text": {"type": "plain_text", "text": "Scale"}}
    ts = bot.fake_slack.add_message(CHANNEL, "scale auth-service?",
                                    blocks=[{"type": "actions", "block_id": "proposals", "elements": [button]}])
    await bot.flow.attach([proposed], CHANNEL, ts)
    return request_id, ts


async def _click_and_submit(bot: Bot, request_id: str, ts: str, user: str) -> None:
    message = bot.fake_slack.message(CHANNEL, ts)
    await bot.dispatch(block_actions_payload(f"{REVIEW_ACTION}-0", request_id, user_id=user, channel_id=CHANNEL,
                                             message_ts=ts, thread_ts=None, message=message))
    [modal] = [v for v in bot.fake_slack.views().values() if v.get("callback_id") == MODAL_CALLBACK]
    await bot.dispatch(view_submission_payload(modal, user_id=user))


@pytest.mark.parametrize("failing", ["succeeded transition", "audit write"])
async def test_the_handler_says_the_action_ran_when_its_result_cannot_be_stored(bot: Bot, failing: str) -> None:
    request_id, ts = await _posted_proposal(bot)
    if failing == "audit write":
        bot.store.failing_events = {AuditEvent.SUCCEEDED}
    else:
        bot.store.failing_transitions = {RequestStatus.SUCCEEDED}

    await _click_and_submit(bot, request_id, ts, EDITOR_2)

    assert bot.action.executions == [("auth-service", {"replicas": "3"})]
    private = [str(call.params.get("text")) for call in bot.fake_slack.calls("chat.postEphemeral")]
    assert not any("nothing was checked or changed" in text for text in private), private
    shown = [str(view) for view in bot.fake_slack.views().values()]
    assert not any(action_handlers.STORE_DOWN in text for text in shown)
    [update] = bot.fake_slack.calls("chat.update")
    settled = str(update.params["blocks"])
    assert f"Approved by <@{EDITOR_2}>" in settled and "Done: scale done on auth-service" in settled, settled
    assert "The action ran, but the approvals database failed" in settled, settled
    assert "review_request" not in settled  # the buttons are gone: nobody clicks it again


async def test_the_handler_still_says_nothing_changed_when_the_store_fails_before_the_run(bot: Bot) -> None:
    request_id, ts = await _posted_proposal(bot)
    bot.store.failing_events = {AuditEvent.EXECUTING}

    await _click_and_submit(bot, request_id, ts, EDITOR_2)

    assert bot.action.executions == []
    private = [str(call.params.get("text")) for call in bot.fake_slack.calls("chat.postEphemeral")]
    assert action_handlers.STORE_DOWN in private, private
