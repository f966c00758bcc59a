"""The checks every click passes before anything is decided, each failing one an audited refusal.

`Gate.check` is what approve, precheck and deny share: the request exists, the click came from the message
it was posted in, the bot may act at all, the action still exists. `Gate.vet` adds what approving needs:
the clicker's role, four eyes, and that the request is still pending. `Gate.lost_race` says what became of
a request a conditional write no longer found pending.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.actions.base import Action
from bot.approvals.decision import Decision, RefusalReason
from bot.approvals.policy import Approver, refusal, requirement, second_approval_refusal
from bot.approvals.trail import BOT_ACTOR, EXPIRED_MESSAGE, Trail
from bot.config import OpsConfig
from bot.store.approvals import ApprovalRequest, ApprovalStore, AuditEvent, RequestStatus

Vetted = tuple[ApprovalRequest, Action[Any]]


@dataclass(frozen=True)
class Origin:
    """Where a click says it came from: the button's container, or what a modal opened from that button
    carries in its private_metadata. Every click from Slack has one; a local caller (the demo, `opsbot act`,
    the scheduler) has no message and passes no Origin at all."""

    channel: str | None
    message_ts: str | None

    def elsewhere(self, request: ApprovalRequest) -> bool:
        """A click only counts from exactly the message the request was posted in: an origin naming another
        message, or no message, or a request never posted, cannot be tied to the message people saw."""
        posted = (request.channel, request.message_ts)
        return None in posted or (self.channel, self.message_ts) != posted


class Gate:
    def __init__(
        self, store: ApprovalStore, config: OpsConfig, actions: Mapping[str, Action[Any]], trail: Trail
    ) -> None:
        self._store = store
        self._config = config
        self._actions = actions
        self._trail = trail

    async def check(self, request_id: str, approver: Approver, origin: Origin | None) -> Vetted | Decision:
        """Checks every click passes first: the request exists, came from its message (when the click has an
        `origin`; None is a local caller), may be acted on."""
        request = await self._store.get(request_id)
        if request is None:
            where = origin or Origin(None, None)
            return await self._trail.refuse_unknown(request_id, approver, channel=where.channel,
                                                    message_ts=where.message_ts)
        await self._trail.record(request, approver.id, AuditEvent.CLICKED, "local operator" if approver.local else "")
        # Created for a message about to be posted but not yet tied to it (`attach_message`): no click can be
        # checked against its message, so people's clicks are refused. Requests made without a message
        # (`opsbot act`, the demo, the bot's own reverts) keep their own checks.
        if request.awaiting_message and not approver.local:
            message = "This proposal's message is not posted yet; use the button in the message once it is."
            return await self._trail.refuse(request, approver, RefusalReason.WRONG_MESSAGE, message)
        if origin is not None and origin.elsewhere(request):
            message = "This button does not belong to the message the request was posted in."
            return await self._trail.refuse(request, approver, RefusalReason.WRONG_MESSAGE, message)
        if self._config.read_only and not approver.system:
            message = "The bot is in read-only mode (ops config read_only): nothing is executed."
            return await self._trail.refuse(request, approver, RefusalReason.READ_ONLY, message)
        action = self._actions.get(request.action)
        if action is None:
            message = f"The action {request.action!r} is not available in this version of the bot."
            return await self._trail.refuse(request, approver, RefusalReason.UNAVAILABLE, message)
        return request, action

    async def vet(self, request_id: str, approver: Approver, origin: Origin | None) -> Vetted | Decision:
        """The gate, then: may this person approve it, and is it still pending (expiry is the store's call)."""
        gate = await self.check(request_id, approver, origin)
        if isinstance(gate, Decision):
            return gate
        request, action = gate
        refused = refusal(self._config, requirement(self._config, action), approver, request.requester)
        if refused is not None:
            reason = RefusalReason(refused.reason)
            return await self._trail.refuse(request, approver, reason, refused.message, refused.required_role)
        if request.status is not RequestStatus.PENDING:
            return await self._trail.refuse_settled(request, approver)
        again = second_approval_refusal(requirement(self._config, action), approver, request.first_approver)
        if again is not None:
            reason = RefusalReason(again.reason)
            return await self._trail.refuse(request, approver, reason, again.message, again.required_role)
        return request, action

    async def lost_race(self, request_id: str, approver: Approver) -> Decision:
        """The conditional write found the request no longer pending-and-live: say what it became."""
        current = await self._store.get(request_id)
        if current is None:  # deleted underneath us
            return await self._trail.refuse_unknown(request_id, approver)
        if current.status is RequestStatus.PENDING:  # still pending, so the write failed on expiry
            expired = await self._store.transition(current.id, RequestStatus.PENDING, RequestStatus.EXPIRED)
            if expired is not None:
                await self._trail.record(expired, BOT_ACTOR, AuditEvent.EXPIRED)
            return await self._trail.refuse(expired or current, approver, RefusalReason.EXPIRED, EXPIRED_MESSAGE)
        return await self._trail.refuse_settled(current, approver)

