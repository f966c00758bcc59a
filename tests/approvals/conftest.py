"""Fixtures for the approvals tests: both stores (memory and real PostgreSQL), a role config, the core."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from kubernetes import client

from bot.actions.base import ActionEnv, Risk
from bot.approvals import Approvals
from bot.config import OpsConfig, load_ops_config
from bot.sources.kube_writes import KubeWriter
from bot.store.approvals import ApprovalStore
from bot.store.approvals_memory import MemoryApprovalStore
from bot.store.approvals_pg import PostgresApprovalStore
from bot.store.coordination import Coordination, MemoryCoordination
from tests.approvals.fakes import RecordingAction

VIEWER, EDITOR, EDITOR_2, ADMIN, ADMIN_2 = "U0VIEWER", "U0EDITOR", "U0EDITOR2", "U0ADMIN", "U0ADMIN2"
ONCALL_GROUP = "S0ONCALL"  # a user group holding the editor role


class ManualClock:
    def __init__(self) -> None:
        # Starts at the real time: the core's own clock (expiry in precheck and dry runs) is the real one,
        # so a fixed date here would make every memory-store request look expired once that date passed.
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class StoreUnderTest:
    """A store plus a way to make one request overdue, the same condition on either backend."""

    store: ApprovalStore
    make_overdue: Callable[[str], Awaitable[None]]
    kind: str


def role_config(**overrides: Any) -> OpsConfig:
    base = load_ops_config(None)
    data = base.model_dump()
    data["roles"] = {
        "viewer": {"users": [VIEWER], "usergroups": []},
        "editor": {"users": [EDITOR, EDITOR_2], "usergroups": [ONCALL_GROUP]},
        "admin": {"users": [ADMIN, ADMIN_2], "usergroups": []},
    }
    data.update(overrides)
    return OpsConfig.model_validate(data)


async def _memory_store() -> StoreUnderTest:
    clock = ManualClock()
    store = MemoryApprovalStore(clock=clock)

    async def overdue(request_id: str) -> None:
        request = await store.get(request_id)
        assert request is not None
        clock.now = request.expires_at + timedelta(seconds=1)

    return StoreUnderTest(store, overdue, "memory")


def _pg_store(dsn: str) -> StoreUnderTest:
    store = PostgresApprovalStore(dsn)

    async def overdue(request_id: str) -> None:
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            await conn.execute(
                "UPDATE approval_requests SET expires_at = now() - interval '1 second' WHERE id = %s", (request_id,)
            )

    return StoreUnderTest(store, overdue, "postgres")


@pytest.fixture(params=["memory", "postgres"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[StoreUnderTest]:
    under_test = await _memory_store() if request.param == "memory" else _pg_store(request.getfixturevalue("pg_db"))
    await under_test.store.open()
    yield under_test
    await under_test.store.aclose()


@pytest.fixture
def action_env() -> ActionEnv:
    # The recording action never calls the writer; an unconfigured client opens no connection.
    return ActionEnv(kube=KubeWriter(client.ApiClient()), config=role_config())


def make_approvals(
    store: ApprovalStore,
    *actions: RecordingAction,
    env: ActionEnv,
    coordination: Coordination | None = None,
    config: OpsConfig | None = None,
    dry_run: bool = False,
) -> Approvals:
    registry: dict[str, Any] = {a.name: a for a in actions}
    return Approvals(
        store, coordination or MemoryCoordination(), config or role_config(), registry, env, dry_run=dry_run
    )


def scale_action() -> RecordingAction:
    return RecordingAction(name="scale", risk=Risk.MEDIUM, default_role="editor")


def high_risk_action() -> RecordingAction:
    return RecordingAction(name="scale-to-zero", risk=Risk.HIGH, default_role="admin")
