"""The per-run claim and the leader's AsyncIOScheduler, with short intervals."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bot import telemetry
from bot.scheduler import Job, JobRunner, LeaderScheduler, aligned_start, claim_ttl, slot_of
from bot.store.coordination import Coordination, CoordinationError, RedisCoordination


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Counting:
    def __init__(self, name: str = "tick", interval_s: float = 10.0) -> None:
        self.runs = 0
        self.job = Job(name, interval_s, self.run)

    async def run(self) -> str:
        self.runs += 1
        return f"run {self.runs}"


def _runs(job: str, outcome: str) -> float:
    value = telemetry.REGISTRY.get_sample_value("opsbot_scheduled_runs_total", {"job": job, "outcome": outcome})
    return value or 0.0


def test_slots_are_the_scheduled_buckets() -> None:
    assert slot_of(1000.0, 10) == slot_of(1009.999, 10) == 100
    assert slot_of(1010.0, 10) == 101
    assert aligned_start(1003.2, 10) == datetime.fromtimestamp(1010, UTC)
    assert claim_ttl(1) == 60 and claim_ttl(300) == 900


async def test_two_replicas_firing_the_same_slot_run_it_once(coord: Coordination) -> None:
    counting = Counting()
    # Replica B's clock is 2 s behind A's, and it fired later: both are still in slot 100.
    a, b = JobRunner(coord, clock=Clock(1000.5)), JobRunner(coord, clock=Clock(1002.9))
    assert await a.run_once(counting.job) == "ok"
    assert await b.run_once(counting.job) == "skipped"
    assert counting.runs == 1
    assert await JobRunner(coord, clock=Clock(1010.0)).run_once(counting.job) == "ok"  # the next slot runs
    assert counting.runs == 2


async def test_jobs_claim_independently(coord: Coordination) -> None:
    one, two = Counting("one"), Counting("two")
    runner = JobRunner(coord, clock=Clock(1000.0))
    assert [await runner.run_once(one.job), await runner.run_once(two.job)] == ["ok", "ok"]


async def test_a_failing_job_is_counted_and_does_not_raise(coord: Coordination) -> None:
    async def broken() -> str:
        raise RuntimeError("boom")

    before = _runs("broken", "error")
    assert await JobRunner(coord, clock=Clock(50.0)).run_once(Job("broken", 10, broken)) == "error"
    assert _runs("broken", "error") == before + 1


async def test_without_the_claim_store_nothing_runs() -> None:
    counting = Counting("no-redis")
    down = RedisCoordination("redis://127.0.0.1:1/0", socket_timeout=0.2)
    try:
        assert await JobRunner(down).run_once(counting.job) == "unavailable"
    finally:
        await down.aclose()
    assert counting.runs == 0


async def test_a_claim_store_error_is_not_an_exception(coord: Coordination) -> None:
    class Broken:
        async def claim(self, key: str, ttl_seconds: float) -> bool:
            raise CoordinationError("down")

    counting = Counting("broken-claim")
    assert await JobRunner(Broken()).run_once(counting.job) == "unavailable"  # type: ignore[arg-type]
    assert counting.runs == 0


async def _until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async def wait() -> None:
        while not predicate():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(wait(), timeout)


async def test_scheduler_runs_at_election_then_every_interval_and_stops_at_once(coord: Coordination) -> None:
    counting = Counting("every-second", interval_s=1)
    scheduler = LeaderScheduler([counting.job], JobRunner(coord))
    await scheduler.start()
    try:
        await _until(lambda: counting.runs >= 1)  # the catch-up run right after election
        await _until(lambda: counting.runs >= 3)  # then one per aligned second
    finally:
        await scheduler.stop()
    assert not scheduler.running
    stopped_at = counting.runs
    await asyncio.sleep(1.5)
    assert counting.runs == stopped_at


async def test_two_schedulers_sharing_the_claims_run_each_slot_once(coord: Coordination) -> None:
    """Both replicas think they lead (a hand-over overlap): the claim still lets one run per slot."""
    slots: list[int] = []

    async def record() -> str:
        slots.append(slot_of(time.time(), 1))
        return "ok"

    job = Job("overlap", 1, record)
    one, two = LeaderScheduler([job], JobRunner(coord)), LeaderScheduler([job], JobRunner(coord))
    await one.start()
    await two.start()
    try:
        await _until(lambda: len(slots) >= 4)
    finally:
        await one.stop()
        await two.stop()
    assert len(slots) == len(set(slots)), slots


async def test_a_run_still_going_makes_the_next_one_in_this_process_wait_its_turn(coord: Coordination) -> None:
    release = asyncio.Event()
    started: list[int] = []

    async def slow() -> str:
        started.append(1)
        await release.wait()
        return "done"

    job = Job("slow", 1, slow)
    clock = Clock(1000.0)
    runner = JobRunner(coord, clock=clock)
    first = asyncio.create_task(runner.run_once(job))
    await asyncio.sleep(0.05)
    clock.now = 1001.0  # the next slot comes while the first run holds the service
    assert await runner.run_once(job) == "busy"
    release.set()
    assert await first == "ok"
    assert started == [1]
    assert await runner.run_once(job) == "ok"  # slot 1001 was never claimed by the busy attempt


async def test_drain_waits_for_a_run_in_progress(coord: Coordination) -> None:
    release = asyncio.Event()

    async def slow() -> str:
        await release.wait()
        return "done"

    runner = JobRunner(coord, clock=Clock(1000.0))
    task = asyncio.create_task(runner.run_once(Job("draining", 1, slow)))
    await asyncio.sleep(0.05)
    assert await runner.drain(0.1) is False  # still running
    release.set()
    assert await runner.drain(2) is True
    assert await task == "ok"
