"""The cache check against a real Redis: a small maxmemory with LRU eviction, filled past it, and
lookups that miss; then a healthy cache, an unreachable one and an unset URL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from bot.checks.cache import CacheCheck
from bot.engine import run_check
from bot.model import Status
from bot.sandbox.local_servers import free_port
from tests.db.conditions import db_sources
from tests.db.helpers import ctx


@pytest.fixture
def small_cache(redis_client_url: str) -> Iterator[redis.Redis]:
    """The test Redis limited to 2 MiB with allkeys-lru; counters reset; limits restored afterwards."""
    client = redis.Redis.from_url(redis_client_url, socket_timeout=5)
    client.config_set("maxmemory", str(2 * 2**20))
    client.config_set("maxmemory-policy", "allkeys-lru")
    client.config_resetstat()
    try:
        yield client
    finally:
        client.config_set("maxmemory", "0")
        client.config_set("maxmemory-policy", "noeviction")
        client.flushdb()
        client.close()


async def test_saturated_cache_evicting_keys_is_cache_pressure(small_cache: redis.Redis, redis_url: str) -> None:
    payload = b"x" * 4096
    with small_cache.pipeline(transaction=False) as pipe:
        for n in range(2000):  # ~8 MiB into a 2 MiB cache
            pipe.set(f"session:{n}", payload)
        pipe.execute()
    with small_cache.pipeline(transaction=False) as pipe:
        for n in range(2000):
            pipe.get(f"session:{n}")
        pipe.execute()
    async with db_sources(cache_url=redis_url) as sources:
        finding = await run_check(CacheCheck(), sources, ctx(), 8)
    assert finding.status in (Status.WARN, Status.CRIT), finding.summary
    evicted = int(small_cache.info("stats")["evicted_keys"])
    assert evicted > 0 and f"{evicted:,} keys evicted" in finding.summary
    cause = finding.causes[0]
    assert cause.key == "cache_pressure" and "low hit ratio" in cause.title
    assert [p.action for p in cause.proposals] == ["flush-cache"]
    assert small_cache.dbsize() > 0  # proposing never flushes


async def test_healthy_cache_is_ok(redis_client_url: str) -> None:
    client = redis.Redis.from_url(redis_client_url, socket_timeout=5)
    try:
        client.config_resetstat()
        client.set("greeting", "hello")
        client.get("greeting")
    finally:
        client.close()
    async with db_sources(cache_url=redis_client_url) as sources:
        finding = await run_check(CacheCheck(), sources, ctx(), 8)
    assert finding.status is Status.OK, finding.summary
    assert finding.causes == () and any(f.label == "keys" and f.value == "1" for f in finding.facts)


async def test_unreachable_or_unset_cache() -> None:
    async with db_sources(cache_url=f"redis://:hunter2@127.0.0.1:{free_port()}/0") as sources:
        down = await run_check(CacheCheck(), sources, ctx(), 8)
    assert down.status is Status.ERROR and "redis" in down.summary and "hunter2" not in down.summary
    async with db_sources() as sources:
        unset = await run_check(CacheCheck(), sources, ctx(), 8)
    assert unset.status is Status.NO_DATA and "CACHE_REDIS_URL is not set" in unset.summary
