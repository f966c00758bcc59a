"""How `opsbot run` assembles the scheduled work from its settings and ops config."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.approvals import Decision
from bot.config import OpsConfig
from bot.config_sections import SchedulerConfig
from bot.sandbox.runner import Sandbox
from bot.scheduled_jobs import build_jobs, build_scheduling
from bot.store.approvals import ApprovalRequest
from tests.scheduler.helpers import role_config, sandbox_deps


class Silent:
    async def post(self, text: str) -> bool:
        return True

    async def expired(self, request: ApprovalRequest) -> None: ...

    async def interrupted(self, request: ApprovalRequest) -> None: ...

    async def timed_revert(self, origin: ApprovalRequest | None, decision: Decision) -> None: ...


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox("healthy") as running:
        yield running


def _config(**scheduler: float) -> OpsConfig:
    data = role_config().model_dump()
    data["scheduler"] = {**data["scheduler"], **scheduler}
    return OpsConfig.model_validate(data)


async def test_jobs_and_intervals_come_from_the_ops_config(sandbox: Sandbox, tmp_path: Path) -> None:
    deps = sandbox_deps(sandbox, tmp_path, config=_config(prevention_interval_s=120, expiry_interval_s=7))
    try:
        jobs = {job.name: job.interval_s for job in build_jobs(deps, Silent())}
    finally:
        await deps.aclose()
    assert jobs == {"prevention": 120, "approval-expiry": 7, "stuck-executions": 60, "timed-reverts": 15}


async def test_without_an_ops_channel_there_is_no_prevention_job(sandbox: Sandbox, tmp_path: Path) -> None:
    deps = sandbox_deps(sandbox, tmp_path, ops_channel=None)
    try:
        assert "prevention" not in {job.name for job in build_jobs(deps, Silent())}
    finally:
        await deps.aclose()


async def test_in_memory_mode_leads_alone_and_starts_the_jobs(sandbox: Sandbox, tmp_path: Path) -> None:
    deps = sandbox_deps(sandbox, tmp_path)
    scheduling = build_scheduling(deps, Silent(), SchedulerConfig(leader_recheck_s=0.05))
    try:
        await scheduling.election.tick()
        assert scheduling.election.is_leader and scheduling.scheduler.running
        await scheduling.stop()
        assert not scheduling.scheduler.running
    finally:
        await deps.aclose()


async def test_two_replicas_on_one_database_elect_one_leader(sandbox: Sandbox, tmp_path: Path, pg_db: str) -> None:
    first = sandbox_deps(sandbox, tmp_path, database_url=pg_db)
    second = sandbox_deps(sandbox, tmp_path, database_url=pg_db)
    one, two = build_scheduling(first, Silent()), build_scheduling(second, Silent())
    try:
        await one.election.tick()
        await two.election.tick()
        assert (one.scheduler.running, two.scheduler.running) == (True, False)
        await one.stop()  # a clean shutdown hands the lock over at once
        await two.election.tick()
        assert two.scheduler.running
    finally:
        await two.stop()
        await first.aclose()
        await second.aclose()
