"""Double clicks, simultaneous approvers, Slack retries and several replicas execute a request exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter

from bot.actions.base import ActionEnv
from bot.approvals import Approver, DecisionKind, RefusalReason
from bot.store.approvals import AuditEvent, RequestStatus
from bot.store.approvals_pg import PostgresApprovalStore
from bot.store.coordination import MemoryCoordination, RedisCoordination
from tests.approvals.conftest import ADMIN, ADMIN_2, EDITOR, EDITOR_2, StoreUnderTest, make_approvals, scale_action

CLICKERS = [EDITOR_2, ADMIN, ADMIN_2, EDITOR]


async def test_twenty_concurrent_approvals_execute_once(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    action = scale_action()
    approvals = make_approvals(backend.store, action, env=action_env)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    decisions = await asyncio.gather(
        *(approvals.approve(proposed.request.id, Approver.slack_user(CLICKERS[i % 4])) for i in range(20))
    )
    kinds = Counter(d.kind for d in decisions)
    assert kinds[DecisionKind.SUCCEEDED] == 1 and kinds[DecisionKind.REFUSED] == 19
    assert {d.reason for d in decisions if d.kind is DecisionKind.REFUSED} <= {
        RefusalReason.BUSY,
        RefusalReason.ALREADY_DECIDED,
    }
    assert len(action.executions) == 1
    stored = await backend.store.get(proposed.request.id)
    assert stored is not None and stored.status is RequestStatus.SUCCEEDED
    events = Counter(r.entry.event for r in await backend.store.audit())
    assert events[AuditEvent.CLICKED] == 20 and events[AuditEvent.EXECUTING] == 1 and events[AuditEvent.REFUSED] == 19


async def test_two_replicas_sharing_postgres_and_redis_execute_once(
    pg_db: str, redis_client_url: str, action_env: ActionEnv
) -> None:
    """Two bot processes in miniature: each its own pool and Redis client, one database, one Redis."""
    action = scale_action()  # one recorder shared by both replicas, so executions are counted across them
    stores = [PostgresApprovalStore(pg_db), PostgresApprovalStore(pg_db)]
    locks = [RedisCoordination(redis_client_url), RedisCoordination(redis_client_url)]
    replicas = [make_approvals(s, action, env=action_env, coordination=c) for s, c in zip(stores, locks, strict=True)]
    try:
        proposed = await replicas[0].propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
        decisions = await asyncio.gather(
            *(
                replicas[i % 2].approve(proposed.request.id, Approver.slack_user(CLICKERS[i % 4]))
                for i in range(20)
            )
        )
        assert [d.kind for d in decisions].count(DecisionKind.SUCCEEDED) == 1
        assert len(action.executions) == 1
        # Whichever replica answers later sees the same final state and the whole trail.
        for store in stores:
            stored = await store.get(proposed.request.id)
            assert stored is not None and stored.status is RequestStatus.SUCCEEDED
        trail = await stores[1].audit(service="auth-service")
        assert sum(r.entry.event is AuditEvent.SUCCEEDED for r in trail) == 1
        # The service's action lock was released: the next request on it is not refused as busy.
        again = await replicas[1].propose("scale", "auth-service", {"replicas": "6"}, requester=EDITOR)
        assert (await replicas[0].approve(again.request.id, Approver.slack_user(EDITOR_2))).ok
        assert len(action.executions) == 2
    finally:
        for store in stores:
            await store.aclose()
        for lock in locks:
            await lock.aclose()


async def test_held_service_lock_refuses_as_busy_and_leaves_request_pending(
    backend: StoreUnderTest, action_env: ActionEnv
) -> None:
    action = scale_action()
    coordination = MemoryCoordination()
    approvals = make_approvals(backend.store, action, env=action_env, coordination=coordination)
    proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    token = await coordination.acquire_lock("action:auth-service", 60)  # another action on it is running
    assert token is not None
    busy = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert busy.reason is RefusalReason.BUSY and action.executions == []
    stored = await backend.store.get(proposed.request.id)
    assert stored is not None and stored.status is RequestStatus.PENDING
    await coordination.release_lock("action:auth-service", token)
    assert (await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))).ok


async def test_coordination_down_refuses_and_runs_nothing(backend: StoreUnderTest, action_env: ActionEnv) -> None:
    from bot.sandbox.local_servers import free_port

    action = scale_action()
    unreachable = RedisCoordination(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.5)
    approvals = make_approvals(backend.store, action, env=action_env, coordination=unreachable)
    try:
        proposed = await approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
        decision = await approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
        assert decision.reason is RefusalReason.UNAVAILABLE and action.executions == []
        stored = await backend.store.get(proposed.request.id)
        assert stored is not None and stored.status is RequestStatus.PENDING
    finally:
        await unreachable.aclose()
