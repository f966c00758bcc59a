"""JSON documents with a TTL and window resets, on MemoryCoordination and on real Redis (alert triage's
thread map and snoozes live there)."""

from __future__ import annotations

import asyncio

import pytest
import redis

from bot.store.coordination import Coordination, RedisCoordination


async def test_document_round_trip_and_replace(coord: Coordination) -> None:
    assert await coord.get_json("fp") is None
    await coord.set_json("fp", {"thread_ts": "1.2", "count": 1, "services": ["auth-service"]}, 60)
    assert await coord.get_json("fp") == {"thread_ts": "1.2", "count": 1, "services": ["auth-service"]}
    await coord.set_json("fp", {"thread_ts": "3.4"}, 60)
    assert await coord.get_json("fp") == {"thread_ts": "3.4"}


async def test_document_is_a_copy_not_shared_state(coord: Coordination) -> None:
    value = {"n": 1}
    await coord.set_json("doc", value, 60)
    value["n"] = 2
    got = await coord.get_json("doc")
    assert got == {"n": 1}
    got["n"] = 3
    assert await coord.get_json("doc") == {"n": 1}


async def test_document_expires_and_delete_forgets(coord: Coordination) -> None:
    await coord.set_json("short", {"a": 1}, 0.15)
    await coord.set_json("gone", {"b": 2}, 60)
    await coord.delete_json("gone")
    assert await coord.get_json("gone") is None
    await asyncio.sleep(0.3)
    assert await coord.get_json("short") is None


async def test_documents_and_claims_do_not_collide(coord: Coordination) -> None:
    await coord.set_json("k", {"x": True}, 60)
    assert await coord.claim("k", 60)
    await coord.release("k")
    assert await coord.get_json("k") == {"x": True}


async def test_reset_window_starts_a_new_count(coord: Coordination) -> None:
    assert [await coord.incr_window("fp", 60) for _ in range(3)] == [1, 2, 3]
    await coord.reset_window("fp")
    assert await coord.incr_window("fp", 60) == 1
    await coord.reset_window("never-counted")  # a no-op, not an error


async def test_document_rejects_non_positive_ttl(coord: Coordination) -> None:
    with pytest.raises(ValueError, match="positive"):
        await coord.set_json("k", {}, 0)


async def test_a_stray_non_object_value_reads_as_absent(redis_client_url: str) -> None:
    raw = redis.Redis.from_url(redis_client_url, decode_responses=True)
    coord = RedisCoordination(redis_client_url)
    try:
        raw.set("opsbot:doc:list", "[1, 2]")
        raw.set("opsbot:doc:broken", "{not json")
        assert await coord.get_json("list") is None
        assert await coord.get_json("broken") is None
        await coord.set_json("ok", {"a": 1}, 30)
        assert 0 < raw.pttl("opsbot:doc:ok") <= 30_000
    finally:
        await coord.aclose()
        raw.close()
