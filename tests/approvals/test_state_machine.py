"""The approval flow end to end over both stores: authorise, execute once, refuse cleanly, audit everything."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.actions.base import ActionEnv, Risk
from bot.approvals import Approver, BadProposal, DecisionKind, Origin, ProposalRefused, RefusalReason
from bot.cli_remediation import _record_json, _record_text
from bot.config_sections import ActionApproval, ApprovalsConfig
from bot.store.approvals import AuditEvent, RequestStatus
from tests.approvals.conftest import (
    ADMIN,
    ADMIN_2,
    EDITOR,
    EDITOR_2,
    ONCALL_GROUP,
    VIEWER,
    StoreUnderTest,
    high_risk_action,
    make_approvals,
    role_config,
    scale_action,
)
from tests.approvals.fakes import RecordingAction


async def _events(backend: StoreUnderTest, request_id: str) -> list[tuple[str, AuditEvent]]:
    return [(r.entry.actor, r.entry.event) for r in await backend.store.audit() if r.entry.request_id == request_id]


async def test_authorised_approval_executes_once_and_audits_every_step(
    backend: StoreUnderTest, action_env: ActionEnv
) -> None:
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    assert proposed.request.status is RequestStatus.PENDING
    assert proposed.request.state == {"revision": "7"}
    decision = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert decision.kind is DecisionKind.SUCCEEDED, decision.message
    assert decision.request is not None and decision.request.status is RequestStatus.SUCCEEDED
    assert decision.request.decided_by == EDITOR_2 and decision.request.outcome == "scale done on auth-service"
    assert action.executions == [("auth-service", {"replicas": "5"})]
    assert await _events(backend, proposed.request.id) == [
        (EDITOR, AuditEvent.PROPOSED),
        (EDITOR_2, AuditEvent.CLICKED),
        (EDITOR_2, AuditEvent.APPROVED),
        (EDITOR_2, AuditEvent.EXECUTING),
        (EDITOR_2, AuditEvent.SUCCEEDED),
    ]


async def test_medium_risk_requester_may_approve_own(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    decision = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR))
    assert decision.kind is DecisionKind.SUCCEEDED
    assert len(action.executions) == 1


async def test_role_via_user_group(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    outsider = await approvals.approve(proposed.request.id, Approver.slack_user("U0SOMEONE"))
    assert outsider.reason is RefusalReason.NOT_AUTHORISED
    member = await approvals.approve(proposed.request.id, Approver.slack_user("U0SOMEONE", {ONCALL_GROUP}))
    assert member.kind is DecisionKind.SUCCEEDED
    assert len(action.executions) == 1


async def test_viewer_is_refused_naming_the_role(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    decision = await approvals.approve(proposed.request.id, Approver.slack_user(VIEWER))
    assert decision.kind is DecisionKind.REFUSED and decision.reason is RefusalReason.NOT_AUTHORISED
    assert decision.required_role == "editor" and "editor" in decision.message
    assert action.executions == []
    stored = await backend.store.get(proposed.request.id)
    assert stored is not None and stored.status is RequestStatus.PENDING  # still open for someone allowed
    assert (VIEWER, AuditEvent.REFUSED) in await _events(backend, proposed.request.id)


async def test_editor_cannot_approve_admin_action(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = high_risk_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale-to-zero", "data-processor", {}, requester=ADMIN)
    decision = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR))
    assert decision.reason is RefusalReason.NOT_AUTHORISED and decision.required_role == "admin"
    assert action.executions == []


async def test_high_risk_needs_two_distinct_authorised_people(
    backend: StoreUnderTest, action_env: ActionEnv
) -> None:
    action = high_risk_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale-to-zero", "data-processor", {}, requester=ADMIN)
    first = await approvals.approve(proposed.request.id, Approver.slack_user(ADMIN))
    assert first.kind is DecisionKind.FIRST_APPROVAL and action.executions == []
    assert first.request is not None and first.request.status is RequestStatus.PENDING
    assert first.request.first_approver == ADMIN
    again = await approvals.approve(proposed.request.id, Approver.slack_user(ADMIN))
    assert again.kind is DecisionKind.REFUSED and again.reason is RefusalReason.SELF_APPROVAL
    assert action.executions == []
    other = await approvals.approve(proposed.request.id, Approver.slack_user(ADMIN_2))
    assert other.kind is DecisionKind.SUCCEEDED
    assert len(action.executions) == 1
    approved = [r.entry.detail for r in await backend.store.audit() if r.entry.event is AuditEvent.APPROVED]
    assert approved == [
        "1 of 2 approvals: a second admin must approve before anything runs",
        f"2 of 2 approvals (first: {ADMIN})",
    ]


async def test_bot_proposed_high_risk_action_is_not_one_admin(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    # An alert's proposal is requested by the bot itself: one admin's click must not be enough.
    action = high_risk_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale-to-zero", "data-processor", {}, requester="opsbot")
    assert (await approvals.approve(proposed.request.id, Approver.slack_user(ADMIN))).kind is (
        DecisionKind.FIRST_APPROVAL
    )
    assert action.executions == []
    viewer = await approvals.approve(proposed.request.id, Approver.slack_user(VIEWER))
    assert viewer.reason is RefusalReason.NOT_AUTHORISED and action.executions == []
    assert (await approvals.approve(proposed.request.id, Approver.slack_user(ADMIN_2))).kind is DecisionKind.SUCCEEDED
    assert len(action.executions) == 1


async def test_unauthorised_requester_cannot_be_an_approval(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    # A viewer who ran /diagnose asked for it; their request counts for nothing: two admins still approve.
    action = high_risk_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale-to-zero", "data-processor", {}, requester=VIEWER)
    assert (await approvals.approve(proposed.request.id, Approver.slack_user(ADMIN_2))).kind is (
        DecisionKind.FIRST_APPROVAL
    )
    assert action.executions == []
    assert (await approvals.approve(proposed.request.id, Approver.slack_user(ADMIN))).kind is DecisionKind.SUCCEEDED


async def test_config_overrides_role_and_four_eyes(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = scale_action()
    config = role_config(approvals=ApprovalsConfig(actions={"scale": ActionApproval(role="admin", four_eyes=True)}))
    approvals = make_approvals(backend.store, action, env=action_env, config=config)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=ADMIN)
    assert (await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR))).required_role == "admin"
    assert (await approvals.approve(proposed.request.id, Approver.slack_user(ADMIN))).kind is (
        DecisionKind.FIRST_APPROVAL
    )
    assert (await approvals.approve(proposed.request.id, Approver.slack_user(ADMIN))).reason is (
        RefusalReason.SELF_APPROVAL
    )
    assert (await approvals.approve(proposed.request.id, Approver.slack_user(ADMIN_2))).kind is DecisionKind.SUCCEEDED


async def test_nobody_may_approve_until_roles_are_configured(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env, config=role_config(roles={}))
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    decision = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR))
    assert decision.reason is RefusalReason.NO_ROLES and "roles" in decision.message
    assert action.executions == []


async def test_expired_request_refused(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    await backend.make_overdue(proposed.request.id)
    decision = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert decision.kind is DecisionKind.REFUSED and decision.reason is RefusalReason.EXPIRED
    assert decision.request is not None and decision.request.status is RequestStatus.EXPIRED
    assert action.executions == []
    again = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert again.reason is RefusalReason.EXPIRED
    assert ("opsbot", AuditEvent.EXPIRED) in await _events(backend, proposed.request.id)


async def test_expire_due_expires_and_audits(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    approvals = make_approvals(backend.store, scale_action(), env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    await backend.make_overdue(proposed.request.id)
    expired = await approvals.expire_due()
    assert [r.id for r in expired] == [proposed.request.id]
    trail = await _events(backend, proposed.request.id)
    assert trail == [(EDITOR, AuditEvent.PROPOSED), ("opsbot", AuditEvent.EXPIRED)]


async def test_unknown_or_forged_request_id_refused_and_audited(
    backend: StoreUnderTest, action_env: ActionEnv
) -> None:
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    decision = await approvals.approve("req_forged0000000000000", Approver.slack_user(ADMIN))
    assert decision.kind is DecisionKind.REFUSED and decision.reason is RefusalReason.UNKNOWN_REQUEST
    assert decision.request is None and action.executions == []
    rows = await backend.store.audit()
    assert rows[-1].entry.event is AuditEvent.REFUSED and "req_forged" in rows[-1].entry.detail


async def test_click_from_another_message_refused(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    await approvals.attach_message(proposed.request.id, "C0OPS", "1700000000.000100")
    moved = await approvals.approve(
        proposed.request.id, Approver.slack_user(EDITOR_2), origin=Origin("C0OPS", "1700000099.000100")
    )
    assert moved.reason is RefusalReason.WRONG_MESSAGE and action.executions == []
    right = await approvals.approve(
        proposed.request.id, Approver.slack_user(EDITOR_2), origin=Origin("C0OPS", "1700000000.000100")
    )
    assert right.kind is DecisionKind.SUCCEEDED
    rows = [r for r in await backend.store.audit() if r.entry.event is AuditEvent.SUCCEEDED]
    assert (rows[0].entry.channel, rows[0].entry.message_ts) == ("C0OPS", "1700000000.000100")


async def test_a_click_from_slack_must_name_exactly_the_requests_message(
    backend: StoreUnderTest, action_env: ActionEnv
) -> None:
    """A click's origin (every Slack click; a modal's origin comes from its private_metadata): an origin that
    names another request's message, names none, or a request never posted, is refused and audited."""
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    other = await approvals.propose("scale", "api-gateway", {"replicas": "5"}, requester=EDITOR)
    await approvals.attach_message(other.request.id, "C0OPS", "1700000000.000900")
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    await approvals.attach_message(proposed.request.id, "C0OPS", "1700000000.000100")
    clicker = Approver.slack_user(EDITOR_2)
    for channel, ts in (("C0OPS", "1700000000.000900"), ("C0OTHER", "1700000000.000100"), ("C0OPS", None),
                        (None, "1700000000.000100"), (None, None)):
        refused = await approvals.approve(proposed.request.id, clicker, origin=Origin(channel, ts))
        assert refused.reason is RefusalReason.WRONG_MESSAGE, (channel, ts)
        denied = await approvals.deny(proposed.request.id, clicker, origin=Origin(channel, ts))
        assert denied.reason is RefusalReason.WRONG_MESSAGE, (channel, ts)
        assert await approvals.precheck(proposed.request.id, clicker, origin=Origin(channel, ts)) is not None
    assert action.executions == []
    stored = await backend.store.get(proposed.request.id)
    assert stored is not None and stored.status is RequestStatus.PENDING
    refusals = [r.entry for r in await backend.store.audit()
                if r.entry.request_id == proposed.request.id and r.entry.event is AuditEvent.REFUSED]
    assert len(refusals) == 15 and all("wrong_message" in e.detail and e.actor == EDITOR_2 for e in refusals)

    never_posted = await approvals.propose("scale", "business-logic", {"replicas": "5"}, requester=EDITOR)
    loose = await approvals.approve(never_posted.request.id, clicker, origin=Origin("C0OPS", "1700000000.000100"))
    assert loose.reason is RefusalReason.WRONG_MESSAGE and action.executions == []

    done = await approvals.approve(proposed.request.id, clicker, origin=Origin("C0OPS", "1700000000.000100"))
    assert done.kind is DecisionKind.SUCCEEDED and len(action.executions) == 1


async def test_replayed_click_after_success_refused_with_outcome(
    backend: StoreUnderTest, action_env: ActionEnv
) -> None:
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    assert (await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))).ok
    replay = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert replay.kind is DecisionKind.REFUSED and replay.reason is RefusalReason.ALREADY_DECIDED
    assert replay.message.startswith(f"Already handled: succeeded (approved by {EDITOR_2}): ")
    assert "scale done on auth-service" in replay.message
    assert len(action.executions) == 1


async def test_target_changed_refused_and_reproposed(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    action.revision = "8"  # a rollout happened between the proposal and the click
    decision = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert decision.kind is DecisionKind.REFUSED and decision.reason is RefusalReason.TARGET_CHANGED
    assert "revision" in decision.message
    assert action.executions == []
    assert decision.request is not None and decision.request.status is RequestStatus.SUPERSEDED
    fresh = decision.reproposal
    assert fresh is not None and fresh.request.id != proposed.request.id
    assert fresh.request.state == {"revision": "8"} and fresh.request.requester == EDITOR
    assert fresh.request.status is RequestStatus.PENDING
    retry = await approvals.approve(fresh.request.id, Approver.slack_user(EDITOR_2))
    assert retry.kind is DecisionKind.SUCCEEDED and len(action.executions) == 1


async def test_failed_execution_recorded(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = scale_action()
    action.fail_with = "admission webhook denied the request"
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    decision = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert decision.kind is DecisionKind.FAILED and "admission webhook" in decision.message
    assert decision.request is not None and decision.request.status is RequestStatus.FAILED
    events = await _events(backend, proposed.request.id)
    assert events[-1] == (EDITOR_2, AuditEvent.FAILED)


async def test_dry_run_executes_nothing(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env, dry_run=True)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    viewer = await approvals.approve(proposed.request.id, Approver.slack_user(VIEWER))
    assert viewer.reason is RefusalReason.NOT_AUTHORISED  # a dry run still checks who clicked
    decision = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert decision.kind is DecisionKind.PREVIEWED and "nothing executed" in decision.message
    assert decision.preview is not None and action.executions == []
    stored = await backend.store.get(proposed.request.id)
    assert stored is not None and stored.status is RequestStatus.PENDING
    assert (EDITOR_2, AuditEvent.PREVIEWED) in await _events(backend, proposed.request.id)


async def test_deny_by_authorised_or_requester(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    assert (await approvals.deny(proposed.request.id, Approver.slack_user(VIEWER))).required_role == "editor"
    denied = await approvals.deny(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert denied.kind is DecisionKind.DENIED
    late = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert late.reason is RefusalReason.ALREADY_DECIDED and late.message == f"Already handled: denied by {EDITOR_2}."
    assert action.executions == []
    withdrawn = await approvals.propose("scale", "api-gateway", {"replicas": "3"}, requester=VIEWER)
    assert (await approvals.deny(withdrawn.request.id, Approver.slack_user(VIEWER))).kind is DecisionKind.DENIED


async def test_superseded_request_refused(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    old = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    new = await approvals.propose("scale", "auth-service", {"replicas": "8"}, requester=EDITOR)
    assert [r.id for r in new.superseded] == [old.request.id]
    stale = await approvals.approve(old.request.id, Approver.slack_user(EDITOR_2))
    assert stale.reason is RefusalReason.ALREADY_DECIDED
    assert stale.message == ("Already handled: superseded by a newer proposal of scale on auth-service; "
                             "nothing was changed.")
    assert action.executions == []


async def test_read_only_offers_and_executes_nothing(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = scale_action()
    writable = make_approvals(backend.store, action, env=action_env)
    proposed = await writable.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    read_only = make_approvals(backend.store, action, env=action_env, config=role_config(read_only=True))
    with pytest.raises(ProposalRefused, match="read-only"):
        await read_only.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    decision = await read_only.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert decision.reason is RefusalReason.READ_ONLY and action.executions == []


async def test_bad_proposals(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    approvals = make_approvals(backend.store, scale_action(), env=action_env)
    with pytest.raises(BadProposal, match="Unknown action"):
        await approvals.propose("reboot-everything", "auth-service", {}, requester=EDITOR)
    with pytest.raises(BadProposal, match="Unknown service"):
        await approvals.propose("scale", "no-such-service", {}, requester=EDITOR)
    with pytest.raises(BadProposal, match="whole number"):
        await approvals.propose("scale", "auth-service", {"replicas": "many"}, requester=EDITOR)
    assert await backend.store.audit() == []


async def test_precheck_authorises_without_executing(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = high_risk_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale-to-zero", "data-processor", {}, requester=ADMIN)
    assert await approvals.precheck(proposed.request.id, Approver.slack_user(ADMIN_2)) is None
    assert await approvals.precheck(proposed.request.id, Approver.slack_user(ADMIN)) is None
    editor = await approvals.precheck(proposed.request.id, Approver.slack_user(EDITOR))
    assert editor is not None and editor.required_role == "admin"
    assert (await approvals.approve(proposed.request.id, Approver.slack_user(ADMIN))).kind is (
        DecisionKind.FIRST_APPROVAL
    )
    own = await approvals.precheck(proposed.request.id, Approver.slack_user(ADMIN))
    assert own is not None and own.reason is RefusalReason.SELF_APPROVAL
    assert action.executions == []
    stored = await backend.store.get(proposed.request.id)
    assert stored is not None and stored.status is RequestStatus.PENDING
    assert (await approvals.approve(proposed.request.id, Approver.slack_user(ADMIN_2))).ok
    late = await approvals.precheck(proposed.request.id, Approver.slack_user(ADMIN_2))
    assert late is not None and late.reason is RefusalReason.ALREADY_DECIDED


async def test_an_unexpected_error_after_approval_ends_the_request_failed(
    backend: StoreUnderTest, action_env: ActionEnv
) -> None:
    action = scale_action()
    action.fingerprint_raises = RuntimeError("kube client bug")
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    decision = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert decision.kind is DecisionKind.FAILED and "RuntimeError" in decision.message
    stored = await backend.store.get(proposed.request.id)
    assert stored is not None and stored.status is RequestStatus.FAILED and action.executions == []
    assert (EDITOR_2, AuditEvent.FAILED) in await _events(backend, proposed.request.id)


async def test_fail_stuck_also_ends_requests_left_approved(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    approvals = make_approvals(backend.store, scale_action(), env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    await backend.store.transition(proposed.request.id, RequestStatus.PENDING, RequestStatus.APPROVED, actor=EDITOR_2)
    assert await backend.store.fail_stuck(timedelta(minutes=5), "interrupted") == []  # a live replica's, just now
    stuck = await backend.store.fail_stuck(timedelta(0), "interrupted")
    assert [r.id for r in stuck] == [proposed.request.id] and stuck[0].status is RequestStatus.FAILED


async def test_success_is_not_reported_over_a_request_already_marked_failed(
    backend: StoreUnderTest, action_env: ActionEnv
) -> None:
    action = scale_action()

    async def other_replica_gives_up() -> None:
        await backend.store.fail_stuck(timedelta(0), "interrupted: the bot stopped")

    action.during_execute = other_replica_gives_up
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    decision = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert decision.kind is DecisionKind.FAILED and "recorded as failed" in decision.message
    assert decision.request is not None and decision.request.status is RequestStatus.FAILED
    assert decision.request.outcome == "interrupted: the bot stopped"
    trail = [r.entry for r in await backend.store.audit() if r.entry.request_id == proposed.request.id]
    assert "already failed" in trail[-1].detail


async def test_read_only_mode_lets_the_bots_own_reverts_through(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = RecordingAction(name="debug-logging", risk=Risk.MEDIUM, default_role="editor")
    approvals = make_approvals(backend.store, action, env=action_env, config=role_config(read_only=True))
    with pytest.raises(ProposalRefused, match="read-only"):
        await approvals.propose("debug-logging", "auth-service", {"revert": "true"}, requester="opsbot")
    proposed = await approvals.propose("debug-logging", "auth-service", {"revert": "true"}, "opsbot", system=True)
    person = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR))
    assert person.reason is RefusalReason.READ_ONLY and action.executions == []
    done = await approvals.approve(proposed.request.id, Approver.bot_system())
    assert done.kind is DecisionKind.SUCCEEDED and len(action.executions) == 1
    proposed_rows = [r.entry for r in await backend.store.audit() if r.entry.event is AuditEvent.PROPOSED]
    assert "system revert, allowed in read-only mode" in proposed_rows[-1].detail


async def test_a_request_refuses_clicks_until_its_message_is_attached(
    backend: StoreUnderTest, action_env: ActionEnv
) -> None:
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, EDITOR, channel="C0OPS0001",
                                       awaiting_message=True)
    assert proposed.request.awaiting_message
    for where in ("C0OPS0001", "C0ELSEWHERE"):
        early = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2),
                                        origin=Origin(where, "1718000000.000100"))
        assert early.reason is RefusalReason.WRONG_MESSAGE and "not posted yet" in early.message
    crafted = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))  # no container at all
    assert crafted.reason is RefusalReason.WRONG_MESSAGE and action.executions == []
    attached = await approvals.attach_message(proposed.request.id, "C0OPS0001", "1718000000.000200")
    assert attached is not None and not attached.awaiting_message
    other = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2),
                                    origin=Origin("C0OPS0001", "1718000000.000100"))
    assert other.reason is RefusalReason.WRONG_MESSAGE and action.executions == []
    done = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2),
                                   origin=Origin("C0OPS0001", "1718000000.000200"))
    assert done.kind is DecisionKind.SUCCEEDED and len(action.executions) == 1


async def test_attaching_the_message_is_audited_with_its_link(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    approvals = make_approvals(backend.store, scale_action(), env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, EDITOR, channel="C0OPS0001")
    await approvals.attach_message(proposed.request.id, "C0OPS0001", "1718000000.000200")
    rows = [r for r in await backend.store.audit() if r.entry.request_id == proposed.request.id]
    assert [r.entry.event for r in rows] == [AuditEvent.PROPOSED, AuditEvent.ATTACHED]
    attached = rows[-1].entry
    assert (attached.channel, attached.message_ts) == ("C0OPS0001", "1718000000.000200")
    assert attached.detail == "https://slack.com/archives/C0OPS0001/p1718000000000200"
    text = _record_text(rows[-1])
    assert text.count("https://slack.com/archives/C0OPS0001/p1718000000000200") == 1
    assert _record_json(rows[-1])["link"] == attached.detail
