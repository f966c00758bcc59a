"""Approval requests and audit in PostgreSQL (``DATABASE_URL``), through a psycopg 3 async pool.

Each status change is a single conditional UPDATE ... RETURNING: PostgreSQL row locking makes the
compare-and-set atomic across connections and replicas, so the losers of a race get no row back.
Expiry is judged by the database clock (``now()``), the one clock every replica shares.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from bot.sources.conninfo import ConnectionSetting
from bot.store.approvals import (
    ApprovalRequest,
    ApprovalStoreError,
    AuditEntry,
    AuditEvent,
    AuditRecord,
    NewRequest,
    RequestStatus,
    check_transition,
    new_request_id,
)
from bot.store.approvals_schema import migrate

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S: Final = 5
POOL_TIMEOUT_S: Final = 10.0
STATEMENT_TIMEOUT_MS: Final = 5000

_PROPOSAL_LOCK: Final = (
    "SELECT pg_advisory_xact_lock(hashtextextended(%(action)s::text || '/' || %(service)s::text, 0))"
)
# A request holding a first approval is left pending (see ApprovalStore.create). Against a concurrent
# first_approval the row lock decides: whichever UPDATE runs second re-reads the row and skips it.
_SUPERSEDE: Final = """
UPDATE approval_requests SET status = 'superseded', updated_at = now()
WHERE action = %(action)s AND service = %(service)s AND status = 'pending' AND first_approver IS NULL
RETURNING *
"""
_INSERT: Final = """
INSERT INTO approval_requests (id, action, service, params, state, requester, status, expires_at, channel, message_ts,
                               awaiting_message)
VALUES (%(id)s, %(action)s, %(service)s, %(params)s, %(state)s, %(requester)s, 'pending',
        now() + %(ttl)s, %(channel)s, %(message_ts)s, %(awaiting_message)s)
RETURNING *
"""
# The expiry guard depends on the move: leaving pending for a decision needs a live request, expiring
# one needs a dead one; other moves do not look at the clock.
_TRANSITION: Final = """
UPDATE approval_requests
SET status = %(target)s::text, updated_at = now(),
    decided_by = COALESCE(%(actor)s, decided_by), outcome = COALESCE(%(outcome)s, outcome)
WHERE id = %(id)s AND status = %(source)s::text
  AND (%(source)s::text <> 'pending'
       OR (%(target)s::text = 'expired' AND expires_at <= now())
       OR (%(target)s::text <> 'expired' AND expires_at > now()))
RETURNING *
"""
_FIRST_APPROVAL: Final = """
UPDATE approval_requests SET first_approver = %(approver)s, updated_at = now()
WHERE id = %(id)s AND status = 'pending' AND expires_at > now() AND first_approver IS NULL
RETURNING *
"""
_EXPIRE_DUE: Final = """
UPDATE approval_requests SET status = 'expired', updated_at = now()
WHERE status = 'pending' AND expires_at <= now()
RETURNING *
"""
_FAIL_STUCK: Final = """
UPDATE approval_requests SET status = 'failed', updated_at = now(), outcome = %(outcome)s
WHERE status IN ('approved', 'executing') AND updated_at <= now() - %(older_than)s
RETURNING *
"""
_ATTACH: Final = """
UPDATE approval_requests SET channel = %(channel)s, message_ts = %(message_ts)s, awaiting_message = false,
    updated_at = now()
WHERE id = %(id)s
RETURNING *
"""
_APPEND_AUDIT: Final = """
INSERT INTO approval_audit (actor, event, request_id, action, service, params, detail, channel, message_ts)
VALUES (%(actor)s, %(event)s, %(request_id)s, %(action)s, %(service)s, %(params)s, %(detail)s,
        %(channel)s, %(message_ts)s)
"""
# Newest `limit` rows, returned oldest first.
_AUDIT: Final = """
SELECT * FROM (
    SELECT seq, at, actor, event, request_id, action, service, params, detail, channel, message_ts
    FROM approval_audit
    WHERE (%(service)s::text IS NULL OR service = %(service)s::text)
      AND (%(since)s::timestamptz IS NULL OR at >= %(since)s::timestamptz)
    ORDER BY seq DESC LIMIT %(limit)s
) newest ORDER BY seq
"""


def _request(row: Mapping[str, Any]) -> ApprovalRequest:
    return ApprovalRequest(
        id=row["id"],
        action=row["action"],
        service=row["service"],
        params=dict(row["params"]),
        state=dict(row["state"]),
        requester=row["requester"],
        status=RequestStatus(row["status"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        updated_at=row["updated_at"],
        channel=row["channel"],
        message_ts=row["message_ts"],
        decided_by=row["decided_by"],
        outcome=row["outcome"],
        first_approver=row["first_approver"],
        awaiting_message=row["awaiting_message"],
    )


def _audit_record(row: Mapping[str, Any]) -> AuditRecord:
    entry = AuditEntry(
        actor=row["actor"],
        event=AuditEvent(row["event"]),
        action=row["action"],
        service=row["service"],
        request_id=row["request_id"],
        params=dict(row["params"]),
        detail=row["detail"],
        channel=row["channel"],
        message_ts=row["message_ts"],
    )
    return AuditRecord(seq=row["seq"], at=row["at"], entry=entry)


class PostgresApprovalStore:
    def __init__(self, dsn: str, *, min_size: int = 1, max_size: int = 10) -> None:
        # open=False: an async pool must be opened inside the running loop (see `open`).
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[dict[str, Any]]] = AsyncConnectionPool(
            dsn,
            open=False,
            min_size=min_size,
            max_size=max_size,
            timeout=POOL_TIMEOUT_S,
            connection_class=psycopg.AsyncConnection[dict[str, Any]],
            kwargs={
                "connect_timeout": CONNECT_TIMEOUT_S,
                "row_factory": dict_row,
                # A hung statement must not hold a Slack click (or a pool slot) forever.
                "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            },
        )
        self._opened = False
        self._opening = asyncio.Lock()
        self._setting = ConnectionSetting.postgres("DATABASE_URL", dsn)

    async def open(self) -> None:
        """Idempotent, and every method calls it: a caller that forgot gets a working store, not a crash."""
        if self._opened:
            return
        async with self._opening:
            if self._opened:
                return
            if self._setting.malformed:
                # Refused before the pool tries it: the pool would log the parser's error, which quotes it.
                raise ApprovalStoreError(f"approvals database: {self._setting.malformed}")
            try:
                await self._pool.open(wait=True, timeout=POOL_TIMEOUT_S)
                async with self._pool.connection() as conn:
                    await migrate(conn)
            except (psycopg.Error, OSError) as exc:  # PoolTimeout is a psycopg.Error
                raise ApprovalStoreError(f"approvals database: {self._setting.reason(exc)}") from exc
            self._opened = True

    async def _one(self, query: str, params: Mapping[str, Any]) -> ApprovalRequest | None:
        rows = await self._all(query, params)
        return rows[0] if rows else None

    async def _all(self, query: str, params: Mapping[str, Any]) -> list[ApprovalRequest]:
        await self.open()
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(query, params)
                return [_request(row) for row in await cursor.fetchall()]
        except (psycopg.Error, OSError) as exc:
            raise ApprovalStoreError(f"approvals database: {self._setting.reason(exc)}") from exc

    async def create(self, new: NewRequest) -> tuple[ApprovalRequest, list[ApprovalRequest]]:
        values = {
            "id": new_request_id(),
            "action": new.action,
            "service": new.service,
            "params": Jsonb(dict(new.params)),
            "state": Jsonb(dict(new.state)),
            "requester": new.requester,
            "ttl": new.ttl,
            "channel": new.channel,
            "message_ts": new.message_ts,
            "awaiting_message": new.awaiting_message,
        }
        await self.open()
        try:
            # One transaction: a reader never sees the new request next to the one it replaces, both pending.
            async with self._pool.connection() as conn, conn.transaction():
                # Proposals of one action on one service take turns, so each supersede sees the previous
                # proposal committed (two replicas proposing at once would otherwise both stay pending).
                await conn.execute(_PROPOSAL_LOCK, values)
                cursor = await conn.execute(_SUPERSEDE, values)
                superseded = [_request(row) for row in await cursor.fetchall()]
                cursor = await conn.execute(_INSERT, values)
                row = await cursor.fetchone()
        except (psycopg.Error, OSError) as exc:
            raise ApprovalStoreError(f"approvals database: {self._setting.reason(exc)}") from exc
        assert row is not None
        return _request(row), superseded

    async def get(self, request_id: str) -> ApprovalRequest | None:
        return await self._one("SELECT * FROM approval_requests WHERE id = %(id)s", {"id": request_id})

    async def attach_message(self, request_id: str, channel: str, message_ts: str) -> ApprovalRequest | None:
        return await self._one(_ATTACH, {"id": request_id, "channel": channel, "message_ts": message_ts})

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
        params = {
            "id": request_id,
            "source": source.value,
            "target": target.value,
            "actor": actor,
            "outcome": outcome,
        }
        return await self._one(_TRANSITION, params)

    async def first_approval(self, request_id: str, approver: str) -> ApprovalRequest | None:
        return await self._one(_FIRST_APPROVAL, {"id": request_id, "approver": approver})

    async def expire_due(self) -> list[ApprovalRequest]:
        return await self._all(_EXPIRE_DUE, {})

    async def fail_stuck(self, older_than: timedelta, outcome: str) -> list[ApprovalRequest]:
        return await self._all(_FAIL_STUCK, {"older_than": older_than, "outcome": outcome})

    async def append_audit(self, entry: AuditEntry) -> None:
        values = {
            "actor": entry.actor,
            "event": entry.event.value,
            "request_id": entry.request_id,
            "action": entry.action,
            "service": entry.service,
            "params": Jsonb(dict(entry.params)),
            "detail": entry.detail,
            "channel": entry.channel,
            "message_ts": entry.message_ts,
        }
        await self.open()
        try:
            async with self._pool.connection() as conn:
                await conn.execute(_APPEND_AUDIT, values)
        except (psycopg.Error, OSError) as exc:
            raise ApprovalStoreError(f"approvals database: {self._setting.reason(exc)}") from exc

    async def audit(
        self, *, service: str | None = None, since: datetime | None = None, limit: int = 500
    ) -> list[AuditRecord]:
        await self.open()
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(_AUDIT, {"service": service, "since": since, "limit": max(0, limit)})
                return [_audit_record(row) for row in await cursor.fetchall()]
        except (psycopg.Error, OSError) as exc:
            raise ApprovalStoreError(f"approvals database: {self._setting.reason(exc)}") from exc

    async def ping(self) -> bool:
        try:
            await self.open()
            async with self._pool.connection(timeout=2.0) as conn:
                await conn.execute("SELECT 1")
        except Exception:
            return False
        return True

    async def aclose(self) -> None:
        await self._pool.close()

