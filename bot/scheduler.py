"""Scheduled work on APScheduler 3 (AsyncIOScheduler); only the leader replica runs it.

Two guards make each run happen once across replicas:

1. Leadership (`bot.leader.Election`): only the leader has a running scheduler. The job store is in
   memory and private to the process (APScheduler 3 job stores must never be shared between schedulers).
2. A per-run claim: before doing anything a run claims `once:{job}:{slot}` in the shared coordination
   store, where `slot` is the scheduled time bucket (interval triggers are aligned to multiples of the
   interval since the epoch, so every replica computes the same buckets). During a hand-over an old
   leader that has not yet noticed it lost the lock and the new one may both fire; only one wins the claim.

Jobs are derived from the database and the cluster each time they run, never from what this process
remembers, so a new leader picks up what the last one left: each job also runs once right after election
(pending expiries, reverts that came due while no leader was up). Core only: no Slack, no client libraries.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import telemetry
from bot.store.coordination import Coordination, CoordinationError

log = logging.getLogger(__name__)
# APScheduler logs every run at INFO ("Running job ..."); the runner's own line says the same with the slot.
logging.getLogger("apscheduler").setLevel(logging.WARNING)
# A claim outlives its slot by enough that a replica whose clock lags, or a leader that has not yet seen
# it was replaced, still finds it taken.
MIN_CLAIM_TTL_S = 60.0


@dataclass(frozen=True)
class Job:
    """One periodic job. `run` does the work and returns a short note for the log."""

    name: str
    interval_s: float
    run: Callable[[], Awaitable[str]]


def slot_of(moment: float, interval_s: float) -> int:
    """The scheduled bucket a run at `moment` (epoch seconds) belongs to. Runs fire at or after their
    scheduled time and within the interval, so flooring gives the bucket they were scheduled for."""
    return math.floor(moment / interval_s)


def aligned_start(now: float, interval_s: float) -> datetime:
    """The next multiple of the interval since the epoch: every replica's trigger fires on the same grid."""
    return datetime.fromtimestamp((slot_of(now, interval_s) + 1) * interval_s, UTC)


def claim_ttl(interval_s: float) -> float:
    return max(MIN_CLAIM_TTL_S, 3 * interval_s)


class JobRunner:
    """Runs a job once per slot across replicas (the claim), and counts every outcome."""

    def __init__(self, coordination: Coordination, *, clock: Callable[[], float] = time.time) -> None:
        self._coordination = coordination
        self._clock = clock
        self._running: set[str] = set()
        self._idle = asyncio.Event()  # set while no run is in progress
        self._idle.set()

    async def run_once(self, job: Job) -> str:
        """Returns the outcome: ok, error, skipped (another run had the slot), busy (this job's previous
        run is still going here) or unavailable (no claim)."""
        if job.name in self._running:
            # The catch-up run and the first interval run, or a run longer than its interval: one at a time.
            return self._count(job, "busy")
        self._running.add(job.name)
        self._idle.clear()
        try:
            return await self._claimed_run(job)
        finally:
            self._running.discard(job.name)
            if not self._running:
                self._idle.set()

    async def _claimed_run(self, job: Job) -> str:
        slot = slot_of(self._clock(), job.interval_s)
        try:
            first = await self._coordination.claim(f"once:{job.name}:{slot}", claim_ttl(job.interval_s))
        except CoordinationError as exc:
            # Without the claim a run could double up with another replica's; the next slot retries.
            log.warning("scheduled job %s slot %d not run: coordination unavailable: %s", job.name, slot, exc)
            return self._count(job, "unavailable")
        if not first:
            return self._count(job, "skipped")
        try:
            note = await job.run()
        except Exception:
            log.exception("scheduled job %s slot %d failed", job.name, slot)
            return self._count(job, "error")
        log.info("scheduled job %s ran for slot %d: %s", job.name, slot, note)
        return self._count(job, "ok")

    async def drain(self, timeout_s: float) -> bool:
        """Wait for runs in progress to finish (shutdown: before the clients they use are closed)."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    @staticmethod
    def _count(job: Job, outcome: str) -> str:
        telemetry.SCHEDULED_RUNS.labels(job=job.name, outcome=outcome).inc()
        return outcome


class LeaderScheduler:
    """The leader's AsyncIOScheduler: started on election, shut down at once when leadership is lost."""

    def __init__(self, jobs: Sequence[Job], runner: JobRunner, *, clock: Callable[[], float] = time.time) -> None:
        self._jobs = tuple(jobs)
        self.runner = runner  # serve drains it on shutdown
        self._clock = clock
        self._scheduler: AsyncIOScheduler | None = None

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    async def start(self) -> None:
        """(Re)build the schedule from nothing: each job now, then on its aligned interval."""
        if self._scheduler is not None:
            return
        scheduler = AsyncIOScheduler(timezone=UTC)
        now = self._clock()
        for job in self._jobs:
            common = {"args": (job,), "coalesce": True, "max_instances": 1}
            # The catch-up run: what came due while no leader was up runs as soon as one is elected.
            scheduler.add_job(self.runner.run_once, DateTrigger(run_date=datetime.fromtimestamp(now, UTC)),
                              id=f"{job.name}@election", misfire_grace_time=None, **common)
            trigger = IntervalTrigger(seconds=job.interval_s, start_date=aligned_start(now, job.interval_s),
                                      timezone=UTC)
            # A run later than its interval belongs to the next slot; let that one run instead.
            scheduler.add_job(self.runner.run_once, trigger, id=job.name,
                              misfire_grace_time=max(1, int(job.interval_s)), **common)
        scheduler.start()  # needs the running loop (APScheduler 3.11 uses get_running_loop)
        self._scheduler = scheduler
        log.info("scheduler started: %s", ", ".join(f"{j.name} every {j.interval_s:g} s" for j in self._jobs))

    async def stop(self) -> None:
        """No further runs start; a run already past its claim finishes (nobody else will do that slot)."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=False)
            log.info("scheduler stopped")
