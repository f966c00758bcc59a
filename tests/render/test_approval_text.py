"""The line that replaces a settled request's buttons names everyone who approved it, in Slack and the terminal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.actions.base import Outcome
from bot.approvals import Decision, DecisionKind
from bot.model import Proposal
from bot.render.approval_blocks import mention
from bot.render.approval_text import decision_line, first_approval_line, refusal_line, request_phrase
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


def _request(action: str, params: dict[str, str], service: str = "api-gateway") -> ApprovalRequest:
    now = datetime.now(UTC)
    return ApprovalRequest("req_2", action, service, params, {}, "U0EDITOR", RequestStatus.PENDING, now,
                           now + timedelta(minutes=15), now, "C0OPS", "1700000000.000100")


def test_every_action_reads_as_words_not_params() -> None:
    from bot.actions import ACTIONS
    from bot.render import proposal_phrase

    for name in ACTIONS:
        phrase = proposal_phrase(Proposal(name, {}))
        assert "=" not in phrase and phrase != name and "-" not in phrase.split()[0], (name, phrase)


def test_pinned_params_are_never_shown_raw() -> None:
    pids = ",".join(str(pid) for pid in range(2611, 2623))
    terminate = request_phrase(_request("terminate-idle", {"older_than": "1h", "pids": pids}))
    assert terminate == "terminate 12 idle DB connections (idle > 1h), for api-gateway"
    cancel = _request("cancel-query", {"pid": "2616", "query_start": "2026-11-28T14:23:26.699707+00:00"})
    assert request_phrase(cancel) == "cancel query 2616, for api-gateway"
    none = request_phrase(_request("terminate-idle", {"older_than": "1h", "pids": ""}))
    assert none == "terminate 0 idle DB connections (idle > 1h), for api-gateway"
    one = request_phrase(_request("terminate-idle", {"older_than": "30m", "pids": "7"}))
    assert one.startswith("terminate 1 idle DB connection (idle > 30m)")


def test_the_settled_line_and_the_first_approval_read_the_same_phrase() -> None:
    request = _request("terminate-idle", {"older_than": "1h", "pids": "2611,2612,2613,2614,2615"})
    done = replace(request, status=RequestStatus.SUCCEEDED, decided_by=SECOND, first_approver=FIRST)
    line = decision_line(_ran(DecisionKind.SUCCEEDED, done, "Done: Terminated 5"), SECOND, AT)
    assert line is not None and "terminate 5 idle DB connections (idle > 1h), for api-gateway — Done" in line
    assert "pids" not in line and "2611" not in line
    first = first_approval_line(replace(request, first_approver=FIRST), "admin")
    assert "approved terminate 5 idle DB connections (idle > 1h)" in first and "pids" not in first


def test_timed_and_switch_actions_have_a_readable_phrase() -> None:
    assert request_phrase(_request("memory-bump", {"limit": "4Gi", "minutes": "60"})) == (
        "raise the memory limit to 4Gi for 60 min on api-gateway")
    assert request_phrase(_request("maintenance", {"mode": "on"})).startswith("maintenance mode on (503")
    assert request_phrase(_request("maintenance", {"mode": "off"})).startswith("maintenance mode off")
    assert "revert" in request_phrase(_request("debug-logging", {"revert": "true"}))
    assert "=" not in request_phrase(_request("memory-bump", {"revert": "true"}))


def test_an_unknown_param_falls_back_to_the_label_without_empty_values() -> None:
    from bot.render import proposal_phrase

    assert proposal_phrase(Proposal("scale", {"replicas": "3", "surge": "", "zone": "b"})) == "scale replicas=3 zone=b"


def test_a_refusal_says_nothing_was_changed_once() -> None:
    stale = "Nothing was changed: the auth-service target changed since the proposal (replicas)."
    assert refusal_line(stale, None).count("othing was changed") == 1
    assert refusal_line("Approving this needs the admin role; you have no role.", "admin").endswith(
        " Nothing was changed.")
