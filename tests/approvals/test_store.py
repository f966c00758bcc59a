"""ApprovalStore semantics, run identically on the in-memory store and on real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import psycopg
import pytest

from bot.store.approvals import AuditEntry, AuditEvent, NewRequest, RequestStatus
from bot.store.approvals_pg import PostgresApprovalStore
from bot.store.approvals_schema import MIGRATIONS
from tests.approvals.conftest import StoreUnderTest


def _new(action: str = "scale", service: str = "auth-service", **params: str) -> NewRequest:
    return NewRequest(
        action=action,
        service=service,
        params=params or {"replicas": "5"},
        state={"revision": "7"},
        requester="U0EDITOR",
        ttl=timedelta(minutes=15),
    )


async def test_create_stores_a_pending_request_with_an_opaque_id(backend: StoreUnderTest) -> None:
    request, superseded = await backend.store.create(_new())
    assert superseded == []
    assert request.status is RequestStatus.PENDING
    assert request.id.startswith("req_") and len(request.id) > 20
    assert request.expires_at - request.created_at == timedelta(minutes=15)
    again = await backend.store.get(request.id)
    assert again is not None
    assert (again.params, again.state, again.requester) == ({"replicas": "5"}, {"revision": "7"}, "U0EDITOR")
    other, _ = await backend.store.create(_new(service="api-gateway"))
    assert other.id != request.id


async def test_new_proposal_supersedes_pending_ones_of_same_action_and_service(backend: StoreUnderTest) -> None:
    first, _ = await backend.store.create(_new())
    unrelated, _ = await backend.store.create(_new(action="restart"))
    second, superseded = await backend.store.create(_new(replicas="6"))
    assert [r.id for r in superseded] == [first.id]
    old = await backend.store.get(first.id)
    kept = await backend.store.get(unrelated.id)
    assert old is not None and old.status is RequestStatus.SUPERSEDED
    assert kept is not None and kept.status is RequestStatus.PENDING
    assert second.status is RequestStatus.PENDING


async def test_transition_is_compare_and_set(backend: StoreUnderTest) -> None:
    request, _ = await backend.store.create(_new())
    won = await backend.store.transition(request.id, RequestStatus.PENDING, RequestStatus.APPROVED, actor="U0ADMIN")
    assert won is not None and won.status is RequestStatus.APPROVED and won.decided_by == "U0ADMIN"
    lost = await backend.store.transition(request.id, RequestStatus.PENDING, RequestStatus.APPROVED, actor="U0X")
    assert lost is None
    assert await backend.store.transition("req_forged", RequestStatus.PENDING, RequestStatus.APPROVED) is None
    done = await backend.store.transition(request.id, RequestStatus.APPROVED, RequestStatus.EXECUTING)
    assert done is not None
    final = await backend.store.transition(
        request.id, RequestStatus.EXECUTING, RequestStatus.SUCCEEDED, outcome="scaled to 5"
    )
    assert final is not None and final.outcome == "scaled to 5" and final.decided_by == "U0ADMIN"


async def test_moves_outside_the_state_machine_are_rejected(backend: StoreUnderTest) -> None:
    request, _ = await backend.store.create(_new())
    with pytest.raises(ValueError, match="no transition"):
        await backend.store.transition(request.id, RequestStatus.PENDING, RequestStatus.SUCCEEDED)


async def test_concurrent_transitions_have_exactly_one_winner(backend: StoreUnderTest) -> None:
    request, _ = await backend.store.create(_new())
    results = await asyncio.gather(
        *(
            backend.store.transition(request.id, RequestStatus.PENDING, RequestStatus.APPROVED, actor=f"U{i}")
            for i in range(20)
        )
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1


async def test_overdue_request_cannot_be_approved_and_expires_once(backend: StoreUnderTest) -> None:
    request, _ = await backend.store.create(_new())
    await backend.make_overdue(request.id)
    live, _ = await backend.store.create(_new(service="api-gateway"))
    assert await backend.store.transition(request.id, RequestStatus.PENDING, RequestStatus.APPROVED) is None
    # A live request cannot be expired by a stray transition either.
    assert await backend.store.transition(live.id, RequestStatus.PENDING, RequestStatus.EXPIRED) is None
    expired = await backend.store.expire_due()
    assert [r.id for r in expired] == [request.id]
    assert await backend.store.expire_due() == []
    stored = await backend.store.get(request.id)
    assert stored is not None and stored.status is RequestStatus.EXPIRED


async def test_attach_message_records_where_the_buttons_are(backend: StoreUnderTest) -> None:
    request, _ = await backend.store.create(_new())
    attached = await backend.store.attach_message(request.id, "C0OPS", "1700000000.000100")
    assert attached is not None and (attached.channel, attached.message_ts) == ("C0OPS", "1700000000.000100")
    assert await backend.store.attach_message("req_unknown", "C0OPS", "1.2") is None


async def test_audit_filters_by_service_and_since(backend: StoreUnderTest) -> None:
    for service, event in [("auth-service", AuditEvent.PROPOSED), ("api-gateway", AuditEvent.PROPOSED),
                           ("auth-service", AuditEvent.APPROVED)]:
        await backend.store.append_audit(
            AuditEntry("U0EDITOR", event, "scale", service, "req_x", {"replicas": "5"}, "d", "C0OPS", "1.2")
        )
    rows = await backend.store.audit(service="auth-service")
    assert [r.entry.event for r in rows] == [AuditEvent.PROPOSED, AuditEvent.APPROVED]
    assert rows[0].entry.params == {"replicas": "5"} and rows[0].entry.channel == "C0OPS"
    assert rows[0].seq < rows[1].seq
    everything = await backend.store.audit()
    assert len(everything) == 3
    later = await backend.store.audit(since=everything[-1].at + timedelta(seconds=1))
    assert later == []
    assert len(await backend.store.audit(since=everything[0].at)) == 3
    newest = await backend.store.audit(limit=2)
    assert [r.seq for r in newest] == [r.seq for r in everything[1:]]


async def test_postgres_audit_is_append_only_and_schema_is_idempotent(pg_db: str) -> None:
    first, second = PostgresApprovalStore(pg_db), PostgresApprovalStore(pg_db)
    try:
        await asyncio.gather(first.open(), second.open())  # two replicas starting at once
        await first.append_audit(AuditEntry("U0EDITOR", AuditEvent.PROPOSED, "scale", "auth-service"))
        assert len(await second.audit()) == 1
    finally:
        await first.aclose()
        await second.aclose()
    with psycopg.connect(pg_db, autocommit=True) as conn:
        versions = conn.execute("SELECT version FROM opsbot_schema_version ORDER BY version").fetchall()
        assert versions == [(n,) for n in range(1, len(MIGRATIONS) + 1)]  # each migration applied exactly once
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("UPDATE approval_audit SET detail = 'rewritten'")
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("DELETE FROM approval_audit")


async def test_postgres_store_unreachable_raises_store_error() -> None:
    from bot.sandbox.local_servers import free_port
    from bot.store.approvals import ApprovalStoreError

    store = PostgresApprovalStore(f"postgresql://opsbot:secret@127.0.0.1:{free_port()}/opsbot")
    try:
        with pytest.raises(ApprovalStoreError) as caught:
            await store.get("req_x")
        assert "secret" not in str(caught.value)
        assert await store.ping() is False
    finally:
        await store.aclose()


async def test_fail_stuck_fails_only_long_executing_requests(backend: StoreUnderTest) -> None:
    running, _ = await backend.store.create(_new())
    waiting, _ = await backend.store.create(_new(service="api-gateway"))
    await backend.store.transition(running.id, RequestStatus.PENDING, RequestStatus.APPROVED, actor="U0ADMIN")
    await backend.store.transition(running.id, RequestStatus.APPROVED, RequestStatus.EXECUTING)
    assert await backend.store.fail_stuck(timedelta(minutes=5), "interrupted") == []  # just started
    stuck = await backend.store.fail_stuck(timedelta(0), "interrupted")
    assert [r.id for r in stuck] == [running.id]
    assert stuck[0].status is RequestStatus.FAILED and stuck[0].outcome == "interrupted"
    untouched = await backend.store.get(waiting.id)
    assert untouched is not None and untouched.status is RequestStatus.PENDING


async def test_simultaneous_proposals_leave_one_pending(backend: StoreUnderTest) -> None:
    results = await asyncio.gather(*(backend.store.create(_new(replicas=str(n))) for n in range(1, 11)))
    ids = {request.id for request, _ in results}
    states = [await backend.store.get(request_id) for request_id in ids]
    pending = [r for r in states if r is not None and r.status is RequestStatus.PENDING]
    assert len(ids) == 10 and len(pending) == 1
    assert all(r is not None and r.status in (RequestStatus.PENDING, RequestStatus.SUPERSEDED) for r in states)


async def test_two_postgres_replicas_proposing_at_once_leave_one_pending(pg_db: str) -> None:
    replicas = [PostgresApprovalStore(pg_db), PostgresApprovalStore(pg_db)]
    try:
        results = await asyncio.gather(*(replicas[n % 2].create(_new(replicas=str(n))) for n in range(1, 21)))
        rows = [await replicas[0].get(request.id) for request, _ in results]
        assert sum(r is not None and r.status is RequestStatus.PENDING for r in rows) == 1
    finally:
        for store in replicas:
            await store.aclose()
