"""The line that replaces a settled request's buttons names everyone who approved it, in Slack and the terminal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.actions.base import Outcome
from bot.approvals import Decision, DecisionKind
from bot.render.approval_blocks import mention
from bot.render.approval_text import decision_line
from bot.render.limits import escape_mrkdwn
from bot.store.approvals import ApprovalRequest, RequestStatus

AT = datetime(2026, 11, 28, 12, 3, tzinfo=UTC)
FIRST, SECOND, CLICKER = "U0ADMIN01", "U0ADMIN02", "U0CLICKER"


def _settled(status: RequestStatus, decided_by: str | None, first_approver: str | None = None) -> ApprovalRequest:
    now = datetime.now(UTC)
    return ApprovalRequest("req_1", "scale-to-zero", "auth-service", {}, {}, "U0EDITOR", status, now,
                           now + timedelta(minutes=15), now, "C0OPS", "1700000000.000100", decided_by=decided_by,
                           first_approver=first_approver)


def _ran(kind: DecisionKind, request: ApprovalRequest, message: str) -> Decision:
    return Decision(kind, message, request=request, outcome=Outcome(kind is DecisionKind.SUCCEEDED, message))


def test_a_four_eyes_action_names_both_approvers_in_slack() -> None:
    request = _settled(RequestStatus.SUCCEEDED, SECOND, first_approver=FIRST)
    line = decision_line(_ran(DecisionKind.SUCCEEDED, request, "Done: scaled to 0"), CLICKER, AT, mention,
                         escape_mrkdwn)
    assert line is not None
    assert line.startswith(f"Approved by <@{SECOND}> (2nd) and <@{FIRST}> (1st) at 12:03 UTC: "), line
    assert line.endswith("— Done: scaled to 0"), line
    assert CLICKER not in line  # the stored approvers, not whoever's click is being answered


def test_a_four_eyes_failure_names_both_approvers_in_the_terminal() -> None:
    request = _settled(RequestStatus.FAILED, SECOND, first_approver=FIRST)
    line = decision_line(_ran(DecisionKind.FAILED, request, "Failed: quota exceeded"), SECOND, AT)
    assert line is not None and line.startswith(f"Approved by {SECOND} (2nd) and {FIRST} (1st) at 12:03 UTC: "), line


def test_a_single_approval_names_one_approver() -> None:
    request = _settled(RequestStatus.SUCCEEDED, SECOND)
    line = decision_line(_ran(DecisionKind.SUCCEEDED, request, "Done: scaled"), CLICKER, AT, mention, escape_mrkdwn)
    assert line is not None and line.startswith(f"Approved by <@{SECOND}> at 12:03 UTC: "), line
    assert "and" not in line.split(":")[0]


def test_a_declined_four_eyes_request_names_who_declined_it() -> None:
    request = _settled(RequestStatus.DENIED, SECOND, first_approver=FIRST)
    line = decision_line(Decision(DecisionKind.DENIED, "Declined", request=request), SECOND, AT, mention,
                         escape_mrkdwn)
    assert line == f"Declined by <@{SECOND}> at 12:03 UTC: scale to zero on auth-service — nothing was changed."
