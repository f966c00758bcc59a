"""What the leader runs on a schedule, and how `opsbot run` starts and stops it.

Jobs (intervals from the ops config's `scheduler:` section):

* `prevention` — the guide's prevention checks for every service (`bot.prevention`), when `OPS_CHANNEL`
  names where to post them;
* `approval-expiry` — pending approval requests past their TTL become expired; their buttons are updated;
* `stuck-executions` — requests a dead replica left executing are failed, their buttons say so;
* `timed-reverts` — debug logging and memory bumps go back when their annotation says (`bot.timed_reverts`).

Post-action verification stays with the replica that executed the action: it compares against the
measurement that replica took when the request was approved, and it is a one-off follow-up to a click,
not periodic work.

Everything Slack-facing goes through `Notifier`, which the Slack layer implements (`handlers.scheduled`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from bot.approvals import Decision
from bot.config_sections import SchedulerConfig
from bot.leader import Election
from bot.prevention import Prevention
from bot.scheduler import Job, JobRunner, LeaderScheduler
from bot.store.approvals import ApprovalRequest
from bot.store.leader_lock import PostgresLeaderLock
from bot.timed_reverts import TimedReverts
from bot.wiring import Deps

log = logging.getLogger(__name__)


class Notifier(Protocol):
    async def post(self, text: str) -> bool:
        """Post to the ops channel; False when it could not (the caller retries next run)."""
        ...

    async def expired(self, request: ApprovalRequest) -> None:
        """Replace the request's buttons: it expired with nobody approving."""
        ...

    async def interrupted(self, request: ApprovalRequest) -> None:
        """Replace the request's buttons: its execution was cut off by a replica dying."""
        ...

    async def timed_revert(self, origin: ApprovalRequest | None, decision: Decision) -> None:
        """Report a timed revert in the thread of the request that made the change (`origin`)."""
        ...


def build_jobs(deps: Deps, notifier: Notifier) -> list[Job]:
    cfg = deps.config.scheduler
    prevention = Prevention(deps.sources, deps.config, deps.coordination, notifier.post)
    reverts = TimedReverts(deps.approvals, deps.action_env, deps.config, notifier.timed_revert)

    async def expire() -> str:
        expired = await deps.approvals.expire_due()
        for request in expired:
            await notifier.expired(request)
        return f"{len(expired)} request(s) expired"

    async def fail_stuck() -> str:
        stuck = await deps.approvals.fail_stuck()
        for request in stuck:
            await notifier.interrupted(request)
        return f"{len(stuck)} interrupted execution(s) failed"

    jobs = [
        Job("approval-expiry", cfg.expiry_interval_s, expire),
        Job("stuck-executions", cfg.stuck_interval_s, fail_stuck),
        Job("timed-reverts", cfg.revert_interval_s, reverts.run),
    ]
    if deps.settings.ops_channel:
        jobs.insert(0, Job("prevention", cfg.prevention_interval_s, prevention.run))
    else:
        log.warning("OPS_CHANNEL is not set: the scheduled prevention checks are off")
    return jobs


@dataclass
class Scheduling:
    """The leader election and the scheduler it drives, as `serve` starts and stops them."""

    election: Election
    scheduler: LeaderScheduler

    def start(self) -> None:
        self.election.start()

    async def stop(self, drain_s: float = 10.0) -> None:
        """Step down and release the lock, then let runs in progress finish before the process closes."""
        await self.election.stop()
        if not await self.scheduler.runner.drain(drain_s):
            log.warning("scheduled runs still in progress after %g s; stopping anyway", drain_s)


def build_scheduling(deps: Deps, notifier: Notifier, config: SchedulerConfig | None = None) -> Scheduling:
    """Leader by PostgreSQL advisory lock with DATABASE_URL; without it this single replica leads."""
    cfg = config or deps.config.scheduler
    scheduler = LeaderScheduler(build_jobs(deps, notifier), JobRunner(deps.coordination))
    database_url = deps.settings.database_url
    lock = (PostgresLeaderLock(database_url.get_secret_value(), recheck_s=cfg.leader_recheck_s)
            if database_url is not None else None)
    election = Election(lock, recheck_s=cfg.leader_recheck_s, on_elected=scheduler.start, on_deposed=scheduler.stop)
    return Scheduling(election, scheduler)
