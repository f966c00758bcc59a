"""A click on a request id that does not exist (forged, mistyped, another installation's) is refused and
audited with where the click came from, so `opsbot audit` leads to the Slack message a probe was made in."""

from __future__ import annotations

from bot.actions.base import ActionEnv
from bot.approvals import Approver, DecisionKind, Origin, RefusalReason
from bot.cli_remediation import _record_json, _record_text
from bot.store.approvals import AuditEvent, AuditRecord
from tests.approvals.conftest import EDITOR, StoreUnderTest, make_approvals, scale_action

CHANNEL, TS = "C0OPS0001", "1718000042.000200"
FORGED = "req_forged_0000000000"


async def _refusals_of_unknown(backend: StoreUnderTest) -> list[AuditRecord]:
    records = await backend.store.audit()
    return [r for r in records if r.entry.event is AuditEvent.REFUSED and r.entry.action == "unknown"]


async def test_an_unknown_request_is_audited_with_the_clicks_channel_and_message(
    backend: StoreUnderTest, action_env: ActionEnv
) -> None:
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env)

    decision = await approvals.approve(FORGED, Approver.slack_user(EDITOR), origin=Origin(CHANNEL, TS))

    assert decision.kind is DecisionKind.REFUSED and decision.reason is RefusalReason.UNKNOWN_REQUEST
    assert action.executions == []
    [record] = await _refusals_of_unknown(backend)
    assert record.entry.actor == EDITOR and record.entry.request_id is None
    assert (record.entry.channel, record.entry.message_ts) == (CHANNEL, TS)
    assert FORGED in record.entry.detail
    link = "https://slack.com/archives/C0OPS0001/p1718000042000200"
    assert link in _record_text(record)
    assert _record_json(record)["link"] == link


async def test_deny_and_precheck_of_an_unknown_request_say_where_too(
    backend: StoreUnderTest, action_env: ActionEnv
) -> None:
    approvals = make_approvals(backend.store, scale_action(), env=action_env)
    clicker = Approver.slack_user(EDITOR)

    await approvals.deny(FORGED, clicker, origin=Origin(CHANNEL, TS))
    await approvals.precheck(FORGED, clicker, origin=Origin("C0OTHER01", "1718000099.000100"))

    where = [(r.entry.channel, r.entry.message_ts) for r in await _refusals_of_unknown(backend)]
    assert where == [(CHANNEL, TS), ("C0OTHER01", "1718000099.000100")]


async def test_an_unknown_request_clicked_outside_slack_has_no_location(
    backend: StoreUnderTest, action_env: ActionEnv
) -> None:
    """`opsbot act` and the demo have no message: the entry says nothing rather than something made up."""
    approvals = make_approvals(backend.store, scale_action(), env=action_env)

    await approvals.approve(FORGED, Approver.local_operator("alice"))

    [record] = await _refusals_of_unknown(backend)
    assert record.entry.channel is None and record.entry.message_ts is None
