"""How approvals read: the preview, a decision, a verification verdict — plain wording shared by Slack
(`approval_blocks`) and the terminal (the demo), so both describe the same click the same way.

Nothing here knows Slack markup. Who did something is passed through `who`, which Slack turns into a
mention and the terminal leaves as the id. Times are UTC, as the guide's runbooks are.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.approvals import Decision, DecisionKind, RefusalReason
from bot.model import Proposal
from bot.remediation import Review
from bot.render import fact_text, proposal_phrase
from bot.store.approvals import ApprovalRequest
from bot.verification import Trend, Verification

Who = Callable[[str], str]
Esc = Callable[[str], str]

TREND_WORD = {
    Trend.BETTER: "better",
    Trend.UNCHANGED: "unchanged",
    Trend.WORSE: "worse",
    Trend.UNKNOWN: "not verified",
}
_ROLES_AT_LEAST = {"viewer": "viewer, editor or admin", "editor": "editor or admin", "admin": "admin"}


def plain(text: str) -> str:
    return text


def hhmm(moment: datetime) -> str:
    return moment.strftime("%H:%M UTC")


# Actions on what all services share: the service is the one the proposal was made for, not their scope.
_SHARED = frozenset({"flush-cache", "terminate-idle", "cancel-query"})


def request_phrase(request: ApprovalRequest) -> str:
    """`rollback to revision 6 on auth-service`; `flush the platform cache, for api-gateway`."""
    joint = ", for" if request.action in _SHARED else " on"
    return f"{proposal_phrase(Proposal(request.action, request.params))}{joint} {request.service}"


def preview_lines(review: Review, who: Who = plain, esc: Esc = plain) -> list[str]:
    """What exactly approving would do, who may approve it, and what stops it; the modal and the demo."""
    request, preview, needed = review.request, review.preview, review.needed
    if request is None or preview is None or needed is None:
        return [esc(review.refused or "Nothing to preview.")]
    lines = [
        f"Action: {esc(review.title)} — {esc(request_phrase(request))}",
        f"Risk: {review.risk} · approved by: {_ROLES_AT_LEAST.get(needed.role, needed.role)}",
        _four_eyes_line(request, needed.role, who) if needed.four_eyes
        else f"Asked by {who(request.requester)}, who may approve it too.",
        f"What it does: {esc(preview.summary)}",
    ]
    lines += [f"  • {esc(change)}" for change in preview.changes] or ["  • nothing to change"]
    if review.stale:
        lines.append(f"The target changed since the proposal ({', '.join(review.stale)}): approving will not run "
                     "it but offer a fresh proposal.")
    if review.dry_run:
        lines.append("Dry run (OPSBOT_DRY_RUN): approving checks everything and executes nothing.")
    lines.append(f"Proposal expires at {hhmm(request.expires_at)}.")
    if review.approve_refused:
        lines.append(f"You cannot approve this: {esc(review.approve_refused)}")
    return lines


def _four_eyes_line(request: ApprovalRequest, role: str, who: Who) -> str:
    """High risk takes two different people holding the role, whoever asked (a person or the bot)."""
    if request.first_approver:
        return (f"Four eyes: approval 1 of 2 given by {who(request.first_approver)}; a second {role} "
                "approving now runs it.")
    return (f"Four eyes: two different {role}s must approve it (asked by {who(request.requester)}); "
            "the first approval is recorded, the second runs it.")


def first_approval_line(request: ApprovalRequest, role: str, who: Who = plain, esc: Esc = plain) -> str:
    """Said where everyone sees it when the first of two approvals is in: the buttons stay for the second."""
    return (f"Approval 1 of 2: {who(request.first_approver or '?')} approved {esc(request_phrase(request))}; "
            f"nothing runs until a second {role} approves.")


def refusal_line(message: str, required_role: str | None, esc: Esc = plain) -> str:
    """The private answer to someone who may not approve; names the role when a role is what is missing."""
    needed = f" (needs the {required_role} role)" if required_role and required_role not in message else ""
    said = "" if "nothing was changed" in message.lower() else " Nothing was changed."  # said once is enough
    return f"Not done: {esc(message)}{needed}{said}"


def decision_line(decision: Decision, clicker: str, at: datetime, who: Who = plain, esc: Esc = plain) -> str | None:
    """What replaces the buttons once a request is settled; None when the buttons should stay."""
    request = decision.request
    by = who(request.decided_by if request is not None and request.decided_by else clicker)
    when = hhmm(at)
    phrase = esc(request_phrase(request) if request is not None else "this action")
    message = esc(decision.message)
    if decision.kind in (DecisionKind.SUCCEEDED, DecisionKind.FAILED):  # the message starts "Done:" / "Failed:"
        return f"Approved by {_approvers(request, by, who)} at {when}: {phrase} — {message}"
    if decision.kind is DecisionKind.DENIED:
        return f"Declined by {by} at {when}: {phrase} — nothing was changed."
    if decision.reason is RefusalReason.EXPIRED:
        return f"Expired at {when}: {phrase} — nothing was changed; run the diagnosis again to re-propose."
    if decision.reason is RefusalReason.TARGET_CHANGED:
        return f"Not run ({when}): {phrase} — {message}"
    return None


def _approvers(request: ApprovalRequest | None, by: str, who: Who) -> str:
    """Who approved it: the one who ran it, and for four eyes the first approver too (both are accountable)."""
    first = request.first_approver if request is not None else None
    if not first or who(first) == by:
        return by
    return f"{by} (2nd) and {who(first)} (1st)"


def verification_lines(v: Verification, esc: Esc = plain) -> list[str]:
    """The verdict in the thread: better / unchanged / worse, with the key number before and after."""
    head = f"Verification of {v.service}: {TREND_WORD[v.trend]}"
    if v.symptom is not None:
        head += f" ({v.symptom.value.replace('_', ' ')})"
    lines = [head]
    before, after = v.key_fact_before, v.key_fact_after
    if before is not None or after is not None:
        was = fact_text(before.label, before.value, None) if before else "not measured"
        now = fact_text(after.label, after.value, after.threshold) if after else "not measured"
        lines.append(f"Before: {esc(was)} → after: {esc(now)}")
    if v.note:
        lines.append(f"Why: {esc(v.note)}")
    if v.revert is not None:
        lines.append(f"Revert available: {esc(proposal_phrase(v.revert))}")
    return lines
