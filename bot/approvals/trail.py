"""The audit trail as the approval flow writes it, and the refusals it hands back, each one audited.

Kept apart from the flow so that every refusal goes through one place: nothing can refuse a click
without it showing up in `opsbot audit`.
"""

from __future__ import annotations

from bot.approvals.decision import Decision, DecisionKind, RefusalReason
from bot.approvals.policy import Approver
from bot.store.approvals import ApprovalRequest, ApprovalStore, AuditEntry, AuditEvent, RequestStatus

EXPIRED_MESSAGE = "This request has expired; run the diagnosis again for a fresh proposal."
BOT_ACTOR = "opsbot"  # the actor of what nobody clicked: expiry, superseding


def message_link(channel: str, message_ts: str) -> str:
    """A Slack message's permalink form, from its channel and ts alone (no API call): the ts without its dot."""
    return f"https://slack.com/archives/{channel}/p{message_ts.replace('.', '')}"


class Trail:
    def __init__(self, store: ApprovalStore) -> None:
        self._store = store

    async def record(self, request: ApprovalRequest, actor: str, event: AuditEvent, detail: str = "") -> None:
        await self._store.append_audit(AuditEntry.of(request, actor, event, detail))

    async def refuse(
        self,
        request: ApprovalRequest,
        approver: Approver,
        reason: RefusalReason,
        message: str,
        required_role: str | None = None,
    ) -> Decision:
        await self.record(request, approver.id, AuditEvent.REFUSED, f"{reason}: {message}")
        return Decision(DecisionKind.REFUSED, message, request=request, reason=reason, required_role=required_role)

    async def refuse_settled(self, request: ApprovalRequest, approver: Approver) -> Decision:
        """A click on a request that is no longer pending: say what became of it (replays, late clicks)."""
        if request.status is RequestStatus.EXPIRED:
            return await self.refuse(request, approver, RefusalReason.EXPIRED, EXPIRED_MESSAGE)
        return await self.refuse(request, approver, RefusalReason.ALREADY_DECIDED, settled_message(request))

    async def refuse_unknown(
        self, request_id: str, approver: Approver, *, channel: str | None = None, message_ts: str | None = None
    ) -> Decision:
        """Audited too: an unknown id is a mistake, a stale installation or someone probing. `channel` and
        `message_ts` are where the click came from (the signed payload's container), so `opsbot audit` leads
        to the Slack message a probe was made from."""
        shown = request_id[:64]
        entry = AuditEntry(approver.id, AuditEvent.REFUSED, "unknown", "unknown", detail=f"unknown request {shown!r}",
                           channel=_bounded(channel), message_ts=_bounded(message_ts))
        await self._store.append_audit(entry)
        return Decision(DecisionKind.REFUSED, "This request does not exist.", reason=RefusalReason.UNKNOWN_REQUEST)


def settled_message(request: ApprovalRequest) -> str:
    """`Already handled: denied by U1.`: the status, who, and the outcome only where it adds something."""
    by = f" by {request.decided_by}" if request.decided_by else ""
    if request.status is RequestStatus.DENIED:
        return f"Already handled: denied{by}."  # its stored outcome is the word "denied" again
    if request.status is RequestStatus.SUPERSEDED:
        why = (f" — {request.outcome}" if request.outcome
               else f" by a newer proposal of {request.action} on {request.service}")
        return f"Already handled: superseded{why}; nothing was changed."
    if request.status in (RequestStatus.SUCCEEDED, RequestStatus.FAILED):
        approved = f" (approved{by})" if by else ""
        return f"Already handled: {request.status}{approved}{': ' + request.outcome if request.outcome else ''}."
    return f"Already handled: {request.status}{by}."


def _bounded(value: str | None) -> str | None:
    """Slack ids and timestamps are short; anything longer is not stored whole in the trail."""
    return value[:64] if value else None
