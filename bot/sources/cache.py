"""The platform cache (CACHE_REDIS_URL) through redis.asyncio: INFO counters and a timed PING. Read-only."""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.sources.conninfo import ConnectionSetting
from bot.sources.db_records import CacheStats
from bot.sources.errors import SourceError

SOURCE = "redis"


class CacheSource:
    def __init__(self, url: str, timeout_s: float = 3.0) -> None:
        self._setting = ConnectionSetting.redis("CACHE_REDIS_URL", url)
        # No client for a URL that does not parse: from_url's ValueError would quote it, password and all.
        self._client = None if self._setting.malformed else aioredis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def _redis(self, what: str) -> aioredis.Redis:
        if self._client is None:
            raise SourceError(SOURCE, f"{what}: {self._setting.malformed}")
        return self._client

    def _error(self, what: str, exc: RedisError) -> SourceError:
        return SourceError(SOURCE, f"{what}: {self._setting.reason(exc)}")

    async def ping_ms(self) -> float:
        client = self._redis("PING")
        started = time.perf_counter()
        try:
            await client.ping()
        except RedisError as exc:
            raise self._error("PING", exc) from exc
        return (time.perf_counter() - started) * 1000

    async def stats(self) -> CacheStats:
        ping_ms = await self.ping_ms()
        client = self._redis("INFO")
        try:
            # The default INFO sections hold server, clients, memory and stats in one round trip.
            info: dict[str, Any] = await client.info()
            keys = int(await client.dbsize())
        except RedisError as exc:
            raise self._error("INFO", exc) from exc
        return CacheStats(
            used_memory=int(info.get("used_memory", 0)),
            maxmemory=int(info.get("maxmemory", 0)),
            maxmemory_policy=str(info.get("maxmemory_policy", "unknown")),
            evicted_keys=int(info.get("evicted_keys", 0)),
            keyspace_hits=int(info.get("keyspace_hits", 0)),
            keyspace_misses=int(info.get("keyspace_misses", 0)),
            connected_clients=int(info.get("connected_clients", 0)),
            blocked_clients=int(info.get("blocked_clients", 0)),
            keys=keys,
            uptime_s=int(info.get("uptime_in_seconds", 0)),
            ping_ms=ping_ms,
        )

    async def ping(self) -> bool:
        try:
            await self.ping_ms()
        except SourceError:
            return False
        return True
