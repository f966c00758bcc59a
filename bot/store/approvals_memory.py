"""In-process approval store: the single-replica fallback (no ``DATABASE_URL``) and the demo.

Same semantics as the PostgreSQL store. Every method finishes without awaiting, so each one is atomic with
respect to other coroutines; the threading lock also covers callers on worker threads.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.clock import utc_now
from bot.store.approvals import (
    ApprovalRequest,
    AuditEntry,
    AuditRecord,
    NewRequest,
    RequestStatus,
    check_transition,
    new_request_id,
)

_STUCK = frozenset({RequestStatus.APPROVED, RequestStatus.EXECUTING})  # a live replica moves on within the TTL


class MemoryApprovalStore:
    def __init__(self, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._requests: dict[str, ApprovalRequest] = {}
        self._audit: list[AuditRecord] = []
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    async def open(self) -> None:
        return None

    async def create(self, new: NewRequest) -> tuple[ApprovalRequest, list[ApprovalRequest]]:
        with self._lock:
            now = self._clock()
            superseded = [
                self._put(replace(old, status=RequestStatus.SUPERSEDED, updated_at=now))
                for old in list(self._requests.values())
                if old.status is RequestStatus.PENDING and (old.action, old.service) == (new.action, new.service)
                and old.first_approver is None  # a half-approved request stays (see ApprovalStore.create)
            ]
            request = ApprovalRequest(
                id=new_request_id(),
                action=new.action,
                service=new.service,
                params=dict(new.params),
                state=dict(new.state),
                requester=new.requester,
                status=RequestStatus.PENDING,
                created_at=now,
                expires_at=now + new.ttl,
                updated_at=now,
                channel=new.channel,
                message_ts=new.message_ts,
                awaiting_message=new.awaiting_message,
            )
            return self._put(request), superseded

    def _put(self, request: ApprovalRequest) -> ApprovalRequest:
        self._requests[request.id] = request
        return request

    async def get(self, request_id: str) -> ApprovalRequest | None:
        with self._lock:
            return self._requests.get(request_id)

    async def attach_message(self, request_id: str, channel: str, message_ts: str) -> ApprovalRequest | None:
        with self._lock:
            request = self._requests.get(request_id)
            if request is None:
                return None
            return self._put(replace(request, channel=channel, message_ts=message_ts, awaiting_message=False,
                                     updated_at=self._clock()))

    async def transition(
        self,
        request_id: str,
        source: RequestStatus,
        target: RequestStatus,
        *,
        actor: str | None = None,
        outcome: str | None = None,
    ) -> ApprovalRequest | None:
        check_transition(source, target)
        with self._lock:
            now = self._clock()
            request = self._requests.get(request_id)
            if request is None or request.status is not source:
                return None
            leaving_pending_live = source is RequestStatus.PENDING and target is not RequestStatus.EXPIRED
            if leaving_pending_live and request.expires_at <= now:
                return None
            if target is RequestStatus.EXPIRED and request.expires_at > now:
                return None
            return self._put(
                replace(
                    request,
                    status=target,
                    updated_at=now,
                    decided_by=actor if actor is not None else request.decided_by,
                    outcome=outcome if outcome is not None else request.outcome,
                )
            )

    async def first_approval(self, request_id: str, approver: str) -> ApprovalRequest | None:
        with self._lock:
            now = self._clock()
            request = self._requests.get(request_id)
            if request is None or request.status is not RequestStatus.PENDING or request.expires_at <= now:
                return None
            if request.first_approver is not None:
                return None
            return self._put(replace(request, first_approver=approver, updated_at=now))

    async def expire_due(self) -> list[ApprovalRequest]:
        with self._lock:
            now = self._clock()
            return [
                self._put(replace(request, status=RequestStatus.EXPIRED, updated_at=now))
                for request in list(self._requests.values())
                if request.status is RequestStatus.PENDING and request.expires_at <= now
            ]

    async def fail_stuck(self, older_than: timedelta, outcome: str) -> list[ApprovalRequest]:
        with self._lock:
            now = self._clock()
            return [
                self._put(replace(request, status=RequestStatus.FAILED, updated_at=now, outcome=outcome))
                for request in list(self._requests.values())
                if request.status in _STUCK and request.updated_at <= now - older_than
            ]

    async def append_audit(self, entry: AuditEntry) -> None:
        with self._lock:
            self._audit.append(AuditRecord(seq=next(self._seq), at=self._clock(), entry=entry))

    async def audit(
        self, *, service: str | None = None, since: datetime | None = None, limit: int = 500
    ) -> list[AuditRecord]:
        with self._lock:
            rows = [
                record
                for record in self._audit
                if (service is None or record.entry.service == service) and (since is None or record.at >= since)
            ]
        return rows[-limit:] if limit > 0 else []

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None
