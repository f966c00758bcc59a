"""A new proposal supersedes the older pending ones of its action and service, except one that already holds
a first approval: proposing needs no role, so otherwise a viewer could cancel an admin's approval and turn
the second admin's click into "superseded". Run on both stores (in memory and real PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from kubernetes import client

from bot.actions.base import ActionEnv
from bot.approvals import Approver, DecisionKind
from bot.sources.kube_writes import KubeWriter
from bot.store.approvals import ApprovalStore, NewRequest, RequestStatus
from bot.store.approvals_memory import MemoryApprovalStore
from bot.store.approvals_pg import PostgresApprovalStore
from tests.approvals.conftest import ADMIN, ADMIN_2, VIEWER, high_risk_action, make_approvals, role_config


@pytest.fixture(params=["memory", "postgres"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[ApprovalStore]:
    impl: ApprovalStore
    impl = MemoryApprovalStore() if request.param == "memory" else PostgresApprovalStore(
        request.getfixturevalue("pg_db"))
    await impl.open()
    yield impl
    await impl.aclose()


def _new(requester: str, action: str = "scale-to-zero", service: str = "data-processor") -> NewRequest:
    return NewRequest(action, service, {}, {"replicas": "3"}, requester, timedelta(minutes=15))


async def _status(store: ApprovalStore, request_id: str) -> RequestStatus:
    request = await store.get(request_id)
    assert request is not None
    return request.status


async def test_a_half_approved_request_is_not_superseded(store: ApprovalStore) -> None:
    first, _ = await store.create(_new(ADMIN))
    assert await store.first_approval(first.id, ADMIN) is not None
    second, superseded = await store.create(_new(VIEWER))
    assert superseded == []
    kept = await store.get(first.id)
    assert kept is not None and kept.status is RequestStatus.PENDING and kept.first_approver == ADMIN
    assert second.status is RequestStatus.PENDING and second.first_approver is None
    # The half-approved request can still get its second approval.
    assert (await store.transition(first.id, RequestStatus.PENDING, RequestStatus.APPROVED, actor=ADMIN_2)) is not None


async def test_requests_without_a_first_approval_are_still_superseded(store: ApprovalStore) -> None:
    half, _ = await store.create(_new(ADMIN))
    assert await store.first_approval(half.id, ADMIN) is not None
    plain, _ = await store.create(_new(ADMIN))  # pending with no approval yet: the newest proposal replaces it
    other_service, _ = await store.create(_new(ADMIN, service="auth-service"))
    newest, superseded = await store.create(_new(VIEWER))
    assert [r.id for r in superseded] == [plain.id]
    statuses = {r.id: await _status(store, r.id) for r in (half, plain, other_service, newest)}
    assert statuses == {
        half.id: RequestStatus.PENDING,
        plain.id: RequestStatus.SUPERSEDED,
        other_service.id: RequestStatus.PENDING,
        newest.id: RequestStatus.PENDING,
    }


async def test_first_approval_racing_a_proposal_never_ends_superseded_with_an_approval(store: ApprovalStore) -> None:
    # Whichever write comes second sees the first's result: either the approval is kept (not superseded),
    # or the request was superseded and the approval is refused. Never an approval silently lost.
    for _ in range(20):
        old, _ = await store.create(_new(ADMIN))
        approved, (new, superseded) = await asyncio.gather(store.first_approval(old.id, ADMIN),
                                                           store.create(_new(VIEWER)))
        current = await store.get(old.id)
        assert current is not None
        if approved is not None:
            assert current.status is RequestStatus.PENDING and current.first_approver == ADMIN
            assert old.id not in [r.id for r in superseded]
        else:
            assert current.status is RequestStatus.SUPERSEDED and current.first_approver is None
        # Clear the field for the next round: the newest proposal supersedes `new` unless it was approved.
        await store.transition(new.id, RequestStatus.PENDING, RequestStatus.DENIED, actor=ADMIN)
        if approved is not None:
            await store.transition(old.id, RequestStatus.PENDING, RequestStatus.DENIED, actor=ADMIN)


async def test_viewer_proposal_does_not_cancel_an_admins_first_approval(store: ApprovalStore) -> None:
    # The reviewer's scenario through the core: ADMIN gives 1 of 2, a VIEWER proposes the same action, and
    # ADMIN_2's click still completes the four-eyes approval of the original request.
    action = high_risk_action()
    env = ActionEnv(kube=KubeWriter(client.ApiClient()), config=role_config())
    approvals = make_approvals(store, action, env=env)
    proposed = await approvals.propose("scale-to-zero", "data-processor", {}, requester=ADMIN)
    first = await approvals.approve(proposed.request.id, Approver.slack_user(ADMIN))
    assert first.kind is DecisionKind.FIRST_APPROVAL
    again = await approvals.propose("scale-to-zero", "data-processor", {}, requester=VIEWER)
    assert again.superseded == ()
    second = await approvals.approve(proposed.request.id, Approver.slack_user(ADMIN_2))
    assert second.kind is DecisionKind.SUCCEEDED, second
    assert len(action.executions) == 1
    # The viewer's request is its own: pending, with no approval carried over from the first one.
    theirs = await store.get(again.request.id)
    assert theirs is not None and theirs.status is RequestStatus.PENDING and theirs.first_approver is None
