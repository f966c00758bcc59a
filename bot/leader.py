"""Which replica is the leader: the one that runs scheduled work.

With `DATABASE_URL` the leader is whoever holds a PostgreSQL session advisory lock
(`bot.store.leader_lock`). Chosen over a Kubernetes Lease because every replica already shares that
database, the lock needs no extra RBAC, and PostgreSQL frees it the moment the holder's connection dies,
so a killed leader is replaced within one re-check period instead of a lease duration. It also works the
same outside a cluster (the tests, `opsbot run` on a laptop).

Leadership is re-checked on a timer: a leader that cannot confirm it still holds the lock (the
connection broke, the database is unreachable) steps down at once; a follower tries to take the lock.
Without `DATABASE_URL` the bot runs a single replica on in-memory state, and that replica is the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot import telemetry
from bot.store.leader_lock import LeaderLockError

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]


class LeaderLock(Protocol):
    async def acquire(self) -> bool: ...

    async def held(self) -> bool: ...

    async def release(self) -> None: ...


class Election:
    """Runs `on_elected` when this replica becomes leader and `on_deposed` when it stops being one.

    `lock=None` means a single replica: it is elected at once and stays leader until `stop`."""

    def __init__(self, lock: LeaderLock | None, *, recheck_s: float, on_elected: Hook, on_deposed: Hook) -> None:
        self._lock = lock
        self._recheck_s = recheck_s
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._leader = False
        self._task: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        return self._leader

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="leader-election")

    async def stop(self) -> None:
        """Step down (stopping the scheduled work first) and give the lock back for the next leader."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._step_down("stopping")
        if self._lock is not None:
            await self._lock.release()

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                # The election must outlive a bug in one re-check; the next one starts from a clean slate.
                log.exception("leader re-check failed")
                await self._step_down("re-check failed")
            await asyncio.sleep(self._recheck_s)

    async def tick(self) -> None:
        """One re-check: confirm leadership, or try to take it. Public so tests can step it."""
        if self._lock is None:
            if not self._leader:
                await self._step_up()
            return
        if self._leader:
            try:
                still = await self._lock.held()
            except LeaderLockError as exc:
                log.warning("leader lock lost: %s", exc)
                still = False
            if not still:
                await self._step_down("lost the leader lock")
                await self._lock.release()
            return
        try:
            won = await self._lock.acquire()
        except LeaderLockError as exc:
            log.warning("cannot reach the leader lock's database: %s", exc)
            return
        if won:
            await self._step_up()

    async def _step_up(self) -> None:
        self._leader = True
        telemetry.SCHEDULER_LEADER.set(1)
        log.info("this replica is now the scheduler leader")
        try:
            await self._on_elected()
        except Exception:
            # A leader that cannot run the jobs must not keep others from running them.
            log.exception("starting the scheduled jobs failed; giving up leadership")
            await self._step_down("could not start the jobs")
            if self._lock is not None:
                await self._lock.release()

    async def _step_down(self, why: str) -> None:
        if not self._leader:
            return
        self._leader = False
        telemetry.SCHEDULER_LEADER.set(0)
        log.warning("this replica is no longer the scheduler leader (%s)", why)
        try:
            await self._on_deposed()
        except Exception:
            log.exception("stopping the scheduled jobs failed")
