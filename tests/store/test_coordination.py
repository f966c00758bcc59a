"""The same behaviour tests run against MemoryCoordination and RedisCoordination (real Redis)."""

from __future__ import annotations

import asyncio

import pytest
import redis

from bot.sandbox.local_servers import free_port
from bot.store.coordination import (
    Coordination,
    CoordinationError,
    MemoryCoordination,
    RedisCoordination,
    coordination_from_url,
)


def test_both_implementations_satisfy_the_protocol() -> None:
    assert isinstance(MemoryCoordination(), Coordination)
    assert isinstance(RedisCoordination("redis://127.0.0.1:1/0"), Coordination)


async def test_claim_first_caller_wins(coord: Coordination) -> None:
    assert await coord.claim("Ev0MSG0001", 60) is True
    assert await coord.claim("Ev0MSG0001", 60) is False  # Slack's retry of the same event
    assert await coord.claim("Ev0MSG0002", 60) is True


async def test_claim_expires_after_ttl(coord: Coordination) -> None:
    assert await coord.claim("ev", 0.2)
    assert not await coord.claim("ev", 0.2)
    await asyncio.sleep(0.35)
    assert await coord.claim("ev", 0.2)


async def test_release_makes_key_claimable_again(coord: Coordination) -> None:
    assert await coord.claim("job", 60)
    await coord.release("job")
    assert await coord.claim("job", 60)
    await coord.release("never-claimed")  # releasing an unknown key is harmless


async def test_fifty_concurrent_claims_exactly_one_wins(coord: Coordination) -> None:
    results = await asyncio.gather(*(coord.claim("Ev0STORM", 30) for _ in range(50)))
    assert results.count(True) == 1
    assert results.count(False) == 49


async def test_claim_rejects_non_positive_ttl(coord: Coordination) -> None:
    with pytest.raises(ValueError):
        await coord.claim("k", 0)


async def test_incr_window_counts_and_resets_after_window(coord: Coordination) -> None:
    counts = [await coord.incr_window("diag:U0ALICE01", 0.3) for _ in range(4)]
    assert counts == [1, 2, 3, 4]
    assert await coord.incr_window("diag:U0BOB0002", 0.3) == 1  # keys are independent
    await asyncio.sleep(0.45)
    assert await coord.incr_window("diag:U0ALICE01", 0.3) == 1


async def test_incr_window_window_starts_at_first_hit_not_extended_by_later_hits(coord: Coordination) -> None:
    await coord.incr_window("w", 0.4)
    await asyncio.sleep(0.25)
    assert await coord.incr_window("w", 0.4) == 2  # still the first window
    await asyncio.sleep(0.25)  # 0.5 s after the first hit: a sliding TTL would still be counting
    assert await coord.incr_window("w", 0.4) == 1


async def test_incr_window_concurrent_increments_are_all_counted(coord: Coordination) -> None:
    counts = await asyncio.gather(*(coord.incr_window("burst", 30) for _ in range(50)))
    assert sorted(counts) == list(range(1, 51))


async def test_lock_is_exclusive_and_released_only_by_owner(coord: Coordination) -> None:
    token = await coord.acquire_lock("scheduler-leader", 30)
    assert token
    assert await coord.acquire_lock("scheduler-leader", 30) is None
    assert await coord.release_lock("scheduler-leader", "not-the-token") is False
    assert await coord.acquire_lock("scheduler-leader", 30) is None  # still held
    assert await coord.release_lock("scheduler-leader", token) is True
    assert await coord.release_lock("scheduler-leader", token) is False  # already released
    assert await coord.acquire_lock("scheduler-leader", 30)


async def test_lock_expires_and_old_owner_cannot_release_successor(coord: Coordination) -> None:
    old = await coord.acquire_lock("leader", 0.2)
    assert old
    await asyncio.sleep(0.35)
    new = await coord.acquire_lock("leader", 30)
    assert new and new != old
    assert await coord.release_lock("leader", old) is False
    assert await coord.extend_lock("leader", old, 30) is False
    assert await coord.acquire_lock("leader", 30) is None  # the successor still holds it


async def test_extend_lock_keeps_it_past_original_ttl(coord: Coordination) -> None:
    token = await coord.acquire_lock("leader", 0.3)
    assert token
    await asyncio.sleep(0.15)
    assert await coord.extend_lock("leader", token, 1.0)
    await asyncio.sleep(0.3)  # past the original TTL
    assert await coord.acquire_lock("leader", 30) is None


async def test_concurrent_lock_acquire_single_winner(coord: Coordination) -> None:
    tokens = await asyncio.gather(*(coord.acquire_lock("approve:req_7f3c9a", 30) for _ in range(50)))
    assert sum(t is not None for t in tokens) == 1


async def test_namespaces_do_not_collide(coord: Coordination) -> None:
    # A claim, a counter and a lock with the same name are different things.
    assert await coord.claim("same", 30)
    assert await coord.incr_window("same", 30) == 1
    assert await coord.acquire_lock("same", 30) is not None


async def test_ping(coord: Coordination) -> None:
    assert await coord.ping() is True


# -- Redis specifics --------------------------------------------------------------------------
async def test_redis_keys_live_under_prefix_with_ttl(redis_client_url: str) -> None:
    coord = RedisCoordination(redis_client_url)
    try:
        await coord.claim("Ev0MSG0001", 600)
        await coord.incr_window("rl", 60)
        await coord.acquire_lock("leader", 30)
    finally:
        await coord.aclose()
    raw = redis.Redis.from_url(redis_client_url, decode_responses=True)
    try:
        keys = sorted(raw.keys("*"))
        assert keys == ["opsbot:claim:Ev0MSG0001", "opsbot:lock:leader", "opsbot:window:rl"]
        for key in keys:  # nothing is left without an expiry
            assert 0 < raw.pttl(key) <= 600_000
    finally:
        raw.close()


async def test_two_redis_clients_share_state(redis_client_url: str) -> None:
    # Two replicas = two clients: a claim by one is seen by the other.
    a, b = RedisCoordination(redis_client_url), RedisCoordination(redis_client_url)
    try:
        assert await a.claim("Ev0SHARED", 60)
        assert not await b.claim("Ev0SHARED", 60)
        token = await b.acquire_lock("leader", 30)
        assert token and await a.acquire_lock("leader", 30) is None
    finally:
        await a.aclose()
        await b.aclose()


async def test_unreachable_redis_ping_false_and_calls_raise_fast() -> None:
    coord = RedisCoordination(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.5)
    try:
        assert await coord.ping() is False
        with pytest.raises(CoordinationError):
            await asyncio.wait_for(coord.claim("ev", 10), timeout=5)
    finally:
        await coord.aclose()


async def test_memory_closed_reports_not_ready() -> None:
    coord = MemoryCoordination()
    await coord.aclose()
    assert await coord.ping() is False


async def test_factory_picks_backend() -> None:
    assert isinstance(coordination_from_url(None), MemoryCoordination)
    assert isinstance(coordination_from_url(""), MemoryCoordination)
    remote = coordination_from_url("redis://127.0.0.1:6379/0")
    assert isinstance(remote, RedisCoordination)
    await remote.aclose()
