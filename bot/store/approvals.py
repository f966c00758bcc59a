"""Approval requests and the audit trail: records, the `ApprovalStore` protocol, and how to open one.

A request is stored server-side; a Slack button carries only its opaque id. Every change of status is one
conditional write (compare-and-set on the current status, and for a pending request on its expiry), so of
two clicks, two people or two replicas exactly one wins and the other sees the state it lost to.

Two implementations share the protocol and its semantics (the tests run the same cases on both):

* ``PostgresApprovalStore`` (``bot.store.approvals_pg``) — production, ``DATABASE_URL``; the database's
  clock decides expiry, so replicas with drifting clocks still agree.
* ``MemoryApprovalStore`` (``bot.store.approvals_memory``) — the single-replica fallback and the demo.

The audit trail is append-only: rows are added, never changed (PostgreSQL enforces it with a trigger).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, Protocol, runtime_checkable


class ApprovalStoreError(Exception):
    """The approvals database could not be reached or answered an error."""


class RequestStatus(StrEnum):
    """pending -> approved -> executing -> succeeded / failed; pending also ends denied, expired or
    superseded (a newer proposal of the same action on the same service, unless it already holds a first
    approval, or the target changed)."""

    PENDING = "pending"
    APPROVED = "approved"
    EXECUTING = "executing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DENIED = "denied"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"

    @property
    def final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset(
    {
        RequestStatus.SUCCEEDED,
        RequestStatus.FAILED,
        RequestStatus.DENIED,
        RequestStatus.EXPIRED,
        RequestStatus.SUPERSEDED,
    }
)

# The only moves a request can make; anything else is a bug in the caller, not a lost race.
TRANSITIONS: Final[Mapping[RequestStatus, frozenset[RequestStatus]]] = {
    RequestStatus.PENDING: frozenset(
        {RequestStatus.APPROVED, RequestStatus.DENIED, RequestStatus.EXPIRED, RequestStatus.SUPERSEDED}
    ),
    RequestStatus.APPROVED: frozenset({RequestStatus.EXECUTING, RequestStatus.SUPERSEDED, RequestStatus.FAILED}),
    RequestStatus.EXECUTING: frozenset({RequestStatus.SUCCEEDED, RequestStatus.FAILED}),
}


def check_transition(source: RequestStatus, target: RequestStatus) -> None:
    if target not in TRANSITIONS.get(source, frozenset()):
        raise ValueError(f"no transition {source} -> {target}")


class AuditEvent(StrEnum):
    PROPOSED = "proposed"
    CLICKED = "clicked"
    REFUSED = "refused"
    APPROVED = "approved"
    PREVIEWED = "previewed"  # a dry run (OPSBOT_DRY_RUN / --dry-run): checked and previewed, nothing executed
    EXECUTING = "executing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    DENIED = "denied"
    SNOOZED = "snoozed"  # an alert fingerprint silenced from a triage reply (action "snooze")
    ATTACHED = "attached"  # the request's buttons were posted: channel + message_ts, detail the permalink


def new_request_id() -> str:
    """Opaque and unguessable: a button value must not let anyone name someone else's request."""
    return "req_" + secrets.token_urlsafe(16)


@dataclass(frozen=True)
class NewRequest:
    """What a proposal stores. `state` is the preview's fingerprint of the target (revision, pod set, ...)."""

    action: str
    service: str
    params: Mapping[str, str]
    state: Mapping[str, str]
    requester: str
    ttl: timedelta
    channel: str | None = None
    message_ts: str | None = None
    awaiting_message: bool = False  # its buttons are about to be posted: no clicks until attached


@dataclass(frozen=True)
class ApprovalRequest:
    id: str
    action: str
    service: str
    params: Mapping[str, str]
    state: Mapping[str, str]
    requester: str
    status: RequestStatus
    created_at: datetime
    expires_at: datetime
    updated_at: datetime
    channel: str | None = None
    message_ts: str | None = None
    decided_by: str | None = None
    outcome: str | None = None
    # Four eyes: who gave the first of the two approvals a high-risk request needs (it stays pending).
    first_approver: str | None = None
    # Created for a message not posted yet: people's clicks are refused until `attach_message`.
    awaiting_message: bool = False


@dataclass(frozen=True)
class AuditEntry:
    """One line of the trail. `actor` is a Slack user id, `cli:<login>` or `opsbot` (expiry, supersede)."""

    actor: str
    event: AuditEvent
    action: str
    service: str
    request_id: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    detail: str = ""
    channel: str | None = None
    message_ts: str | None = None

    @classmethod
    def of(cls, request: ApprovalRequest, actor: str, event: AuditEvent, detail: str = "") -> AuditEntry:
        return cls(
            actor=actor,
            event=event,
            action=request.action,
            service=request.service,
            request_id=request.id,
            params=request.params,
            detail=detail,
            channel=request.channel,
            message_ts=request.message_ts,
        )


@dataclass(frozen=True)
class AuditRecord:
    """A stored audit line: the entry plus its sequence number and time."""

    seq: int
    at: datetime
    entry: AuditEntry


@runtime_checkable
class ApprovalStore(Protocol):
    async def open(self) -> None:
        """Connect and create or upgrade the schema (idempotent; safe with several replicas at once)."""
        ...

    async def create(self, new: NewRequest) -> tuple[ApprovalRequest, list[ApprovalRequest]]:
        """Store a pending request; older pending requests of the same action on the same service become
        superseded in the same step. Returns the new request and the ones it superseded.

        A pending request that already holds a first approval (four eyes) is not superseded: a proposal
        needs no role, so superseding it would let anyone who may run `/diagnose act` (a viewer) cancel an
        admin's approval and turn the second admin's click into "superseded". Both then stay pending,
        each on its own message: the half-approved one still needs only its second approval, the new one
        its own approvals, and each approval re-checks its own preview's fingerprint of the target as any
        does (a target the other one changed refuses and re-proposes). The new proposal is not refused:
        a half-approved request must not block the diagnosis' own offers until it expires."""
        ...

    async def get(self, request_id: str) -> ApprovalRequest | None: ...

    async def attach_message(self, request_id: str, channel: str, message_ts: str) -> ApprovalRequest | None:
        """Record the Slack message carrying the request's buttons (known only after posting it); this
        ends `awaiting_message`."""
        ...

    async def transition(
        self,
        request_id: str,
        source: RequestStatus,
        target: RequestStatus,
        *,
        actor: str | None = None,
        outcome: str | None = None,
    ) -> ApprovalRequest | None:
        """Move `source` -> `target` only if the request is still in `source` (and, leaving pending for
        anything but expired, not yet expired). None when that did not hold: someone else won, or it
        expired. `actor` becomes `decided_by` when given; `outcome` is the result text."""
        ...

    async def first_approval(self, request_id: str, approver: str) -> ApprovalRequest | None:
        """Record `approver` as the first of two approvals of a pending, live request that has none yet;
        None when that did not hold (someone else was first, it was decided, or it expired)."""
        ...

    async def expire_due(self) -> list[ApprovalRequest]:
        """Mark every pending request past its expiry as expired; returns them (each exactly once)."""
        ...

    async def fail_stuck(self, older_than: timedelta, outcome: str) -> list[ApprovalRequest]:
        """Mark requests approved or executing for longer than `older_than` as failed with `outcome`: their
        replica died mid-approval or mid-execution, and a request must not claim to be running forever."""
        ...

    async def append_audit(self, entry: AuditEntry) -> None: ...

    async def audit(
        self, *, service: str | None = None, since: datetime | None = None, limit: int = 500
    ) -> list[AuditRecord]:
        """The trail oldest first, optionally for one service and from `since` on; the newest `limit` rows."""
        ...

    async def ping(self) -> bool:
        """True when the backend answers (readiness); never raises."""
        ...

    async def aclose(self) -> None: ...


def approval_store_from_url(database_url: str | None) -> ApprovalStore:
    """PostgreSQL when a URL is configured, otherwise the single-replica in-memory store. Call `open()`."""
    if database_url:
        from bot.store.approvals_pg import PostgresApprovalStore

        return PostgresApprovalStore(database_url)
    from bot.store.approvals_memory import MemoryApprovalStore

    return MemoryApprovalStore()
