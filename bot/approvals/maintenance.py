"""The scheduler's jobs on approval requests: expire the overdue, fail what a dead replica left behind.

Both are single conditional writes in the store, so every replica may run them; each request they move is
audited as the bot's doing.
"""

from __future__ import annotations

from datetime import timedelta

from bot.approvals.trail import BOT_ACTOR, Trail
from bot.store.approvals import ApprovalRequest, ApprovalStore, AuditEvent

# Not "failed": a request left executing may well have run (the bot stopped, or lost its database while
# recording the result), so the record says the outcome is unknown and where to look.
STUCK_OUTCOME = ("outcome unknown: interrupted while approving or executing (the bot stopped or lost its database); "
                 "the action may have run, check the target's state before retrying")


async def expire_due(store: ApprovalStore, trail: Trail) -> list[ApprovalRequest]:
    """Expire pending requests past their time; returns them for message updates."""
    expired = await store.expire_due()
    for request in expired:
        await trail.record(request, BOT_ACTOR, AuditEvent.EXPIRED)
    return expired


async def fail_stuck(store: ApprovalStore, trail: Trail, lock_ttl_s: float) -> list[ApprovalRequest]:
    """Fail requests left approved or executing by a replica that died. Anything there longer than the
    action lock's TTL is no longer protected by it either."""
    older_than = timedelta(seconds=lock_ttl_s)
    stuck = await store.fail_stuck(older_than, STUCK_OUTCOME)
    for request in stuck:
        await trail.record(request, BOT_ACTOR, AuditEvent.FAILED, STUCK_OUTCOME)
    return stuck
