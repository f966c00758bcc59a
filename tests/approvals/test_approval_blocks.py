"""Approval Block Kit: buttons carry only the request id, settling replaces exactly one request's buttons, and
every view and message passes the fake Slack's validator (Slack's own limits)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.actions.base import Preview
from bot.approvals import Proposed, Requirement
from bot.model import Cause, Diagnosis, Fact, Finding, Proposal, Status, Symptom, Target
from bot.remediation import Offer, Review
from bot.render.approval_blocks import (
    channel_of,
    message_ts_of,
    notice_view,
    offer_buttons,
    offer_notes,
    preview_view,
    proposal_message,
    request_id_of,
    request_ids_in,
    review_button,
    settle_buttons,
    verification_message,
)
from bot.render.blocks import diagnosis_messages
from bot.store.approvals import ApprovalRequest, RequestStatus
from bot.verification import Trend, Verification
from tests.fakes.slack_api import validate_blocks, validate_view


def request(request_id: str = "req_abc", requester: str = "U0ALICE01", **params: str) -> ApprovalRequest:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    return ApprovalRequest(request_id, "rollback", "auth-service", params or {"to_revision": "6"}, {"revision": "7"},
                           requester, RequestStatus.PENDING, now, now + timedelta(minutes=15), now)


def test_settling_replaces_only_that_requests_buttons_with_fresh_block_ids() -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": "cause-1", "text": {"type": "mrkdwn", "text": "cause"}},
        {"type": "actions", "block_id": "cause-1-actions-1", "elements": [
            review_button("req_one", Proposal("rollback", {"to_revision": "6"}), 1),
            review_button("req_two", Proposal("restart"), 2),
        ]},
    ]
    settled = settle_buttons(blocks, "req_one", "Approved by <@U0BOB0002> at 12:03 UTC", "123")
    assert settled is not None and not validate_blocks(settled)
    assert request_ids_in({"blocks": settled}) == {"req_two"}
    assert [b["block_id"] for b in settled] == ["cause-1", "cause-1-actions-1-123", "cause-1-actions-1-settled-123"]
    assert settled[2]["elements"][0]["text"] == "Approved by <@U0BOB0002> at 12:03 UTC"
    assert settle_buttons(blocks, "req_other", "x", "1") is None


def test_offer_buttons_match_the_diagnosis_proposals_by_identity() -> None:
    rollback, restart = Proposal("rollback", {"to_revision": "6"}), Proposal("restart")
    stored = Proposed(request(), Preview("undo"))
    button = offer_buttons([Offer(rollback, stored), Offer(restart, unavailable="paused")])
    made = button(rollback)
    assert made is not None and made["value"] == "req_abc" and made["text"]["text"] == "Review: rollback to revision 6"
    assert button(restart) is None and button(Proposal("rollback", {"to_revision": "6"})) is None


def test_a_proposal_without_a_button_says_why_instead_of_needs_approval() -> None:
    scale, restart = Proposal("scale", {"replicas": "3"}, "more capacity"), Proposal("restart")
    stored = Proposed(request(), Preview("restart"))
    offers = [Offer(scale, unavailable="nothing to change — auth-service already runs 3 replicas"),
              Offer(restart, stored)]
    cause = Cause("deploy", "Bug in recent deployment", 0.7, ("revision 7",), proposals=(scale, restart))
    diag = Diagnosis(Target("auth-service", "default", "app=auth-service", "auth-service"), Symptom.HIGH_ERROR_RATE,
                     findings=(), causes=(cause,), guide_section=None, duration_ms=10)
    messages = diagnosis_messages(diag, guide_link=lambda section: None, proposal_buttons=offer_buttons(offers),
                                  proposal_notes=offer_notes(offers))
    text = json.dumps(messages, ensure_ascii=False)
    assert "not offered: nothing to change — auth-service already runs 3 replicas" in text
    assert "scale to 3 replicas — needs approval" not in text and "restart — needs approval" in text
    assert all(not validate_blocks(m["blocks"]) for m in messages)


def test_preview_modal_says_what_changes_who_may_approve_and_carries_only_the_id() -> None:
    review = Review(request(requester="U0ALICE01"), preview=Preview("Roll back <auth-service>", ("template := rs 6",)),
                    needed=Requirement("editor", four_eyes=True), title="Rollout undo", risk="high", dry_run=True,
                    stale=("revision",))
    view = preview_view(review, "C0OPS0001", "1718000000.000200")
    assert not validate_view(view)
    text = json.dumps(view["blocks"])
    assert "&lt;auth-service&gt;" in text, "dynamic text is escaped"
    assert "two different editors must approve it (asked by <@U0ALICE01>)" in text
    assert "executes nothing" in text and "target changed since the proposal (revision)" in text
    assert view["submit"]["text"] == "Dry run"
    # The id and the clicked button's message (the origin a submission is checked against), nothing else.
    assert json.loads(view["private_metadata"]) == {
        "request_id": "req_abc", "channel": "C0OPS0001", "message_ts": "1718000000.000200"}
    assert (request_id_of(view), channel_of(view), message_ts_of(view)) == (
        "req_abc", "C0OPS0001", "1718000000.000200")
    assert not validate_view(notice_view("req_abc", "Not done: needs the editor role."))
    assert request_id_of({"private_metadata": "not json"}) is None


def test_someone_who_may_not_approve_sees_the_preview_without_approve() -> None:
    review = Review(request(requester="U0ALICE01"), preview=Preview("Roll back auth-service", ("template := rs 6",)),
                    needed=Requirement("editor", four_eyes=False), title="Rollout undo", risk="medium",
                    approve_refused="Approving this needs the editor role; you have viewer.", may_deny=False)
    view = preview_view(review, "C0OPS0001", "1718000000.000200")
    assert not validate_view(view)
    text = json.dumps(view["blocks"])
    assert "template := rs 6" in text and "You cannot approve this: Approving this needs the editor role" in text
    assert "submit" not in view and "deny_request" not in text and view["close"]["text"] == "Close"


def test_reproposal_and_verification_messages_are_valid_block_kit() -> None:
    fresh = Proposed(request("req_new"), Preview("undo"))
    message = proposal_message(fresh, "The target changed; a fresh proposal:")
    assert not validate_blocks(message["blocks"]) and request_ids_in(message) == {"req_new"}
    before = Finding("error_rate", "Error rate", Status.CRIT, "", facts=(Fact("error rate", "12.5 %", "5.0 %"),))
    after = Finding("error_rate", "Error rate", Status.OK, "", facts=(Fact("error rate", "0.4 %", "5.0 %"),))
    verdict = Verification("req_abc", "auth-service", Symptom.HIGH_ERROR_RATE, Trend.BETTER, "status crit → ok",
                           before=before, after=after, revert=Proposal("rollback", {"to_revision": "7"}))
    revert = Proposed(request("req_rev", to_revision="7"), Preview("undo"))
    shown = verification_message(verdict, revert)
    assert not validate_blocks(shown["blocks"])
    assert "better" in shown["text"] and "12.5 %" in json.dumps(shown) and "0.4 %" in json.dumps(shown)
    assert request_ids_in(shown) == {"req_rev"}
