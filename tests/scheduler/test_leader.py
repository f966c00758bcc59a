"""Leader election on a real PostgreSQL: one holder at a time, and a dead holder's lock moves on."""

from __future__ import annotations

import psycopg
import pytest

from bot.leader import Election
from bot.store.leader_lock import LeaderLockError, PostgresLeaderLock


def _kill_sessions(dsn: str) -> int:
    """What a crashed leader looks like to the server: its session ends (here by pg_terminate_backend)."""
    with psycopg.connect(dsn, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'opsbot-leader' AND datname = current_database()"
        ).fetchall()
    return len(rows)


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    async def elected(self) -> None:
        self.events.append("elected")

    async def deposed(self) -> None:
        self.events.append("deposed")


async def test_one_holder_and_the_lock_moves_when_the_holder_session_dies(pg_db: str) -> None:
    a, b = PostgresLeaderLock(pg_db, recheck_s=1), PostgresLeaderLock(pg_db, recheck_s=1)
    try:
        assert await a.acquire() is True
        assert await b.acquire() is False
        assert await a.held() is True
        assert await b.held() is False  # held() asks pg_locks for this very session, not "is it connected"

        assert _kill_sessions(pg_db) == 2
        with pytest.raises(LeaderLockError):
            await a.held()
        assert await b.acquire() is True  # b reconnects and takes the freed lock
        assert await a.acquire() is False
    finally:
        await a.release()
        await b.release()


async def test_release_hands_the_lock_over(pg_db: str) -> None:
    a, b = PostgresLeaderLock(pg_db), PostgresLeaderLock(pg_db)
    try:
        assert await a.acquire()
        await a.release()
        assert await b.acquire()
    finally:
        await b.release()


async def test_lock_names_are_independent_and_per_database(pg_db: str, pg_dsn: str) -> None:
    a, other_name, other_db = (PostgresLeaderLock(pg_db), PostgresLeaderLock(pg_db, "another-job"),
                               PostgresLeaderLock(pg_dsn))
    try:
        assert await a.acquire()
        assert await other_name.acquire()
        assert await other_db.acquire()
    finally:
        for lock in (a, other_name, other_db):
            await lock.release()


async def test_election_steps_down_when_the_lock_is_lost_and_a_follower_takes_over(pg_db: str) -> None:
    first, second = Recorder(), Recorder()
    one = Election(PostgresLeaderLock(pg_db, recheck_s=1), recheck_s=1, on_elected=first.elected,
                   on_deposed=first.deposed)
    two = Election(PostgresLeaderLock(pg_db, recheck_s=1), recheck_s=1, on_elected=second.elected,
                   on_deposed=second.deposed)
    try:
        await one.tick()
        await two.tick()
        assert (one.is_leader, two.is_leader) == (True, False)
        await one.tick()  # re-check while still holding: nothing changes
        assert first.events == ["elected"] and second.events == []

        _kill_sessions(pg_db)
        await one.tick()
        assert not one.is_leader and first.events == ["elected", "deposed"]
        await two.tick()
        assert two.is_leader and second.events == ["elected"]
        await one.tick()
        assert not one.is_leader  # the old leader reconnects as a follower
    finally:
        await one.stop()
        await two.stop()
    assert second.events == ["elected", "deposed"]  # stopping steps down first


async def test_without_a_database_the_single_replica_leads_until_stopped() -> None:
    rec = Recorder()
    election = Election(None, recheck_s=0.05, on_elected=rec.elected, on_deposed=rec.deposed)
    await election.tick()
    await election.tick()
    assert election.is_leader and rec.events == ["elected"]
    await election.stop()
    assert not election.is_leader and rec.events == ["elected", "deposed"]
