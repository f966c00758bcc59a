"""The platform cache (CACHE_REDIS_URL) through redis.asyncio: INFO counters and a timed PING. Read-only."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.sources.db_records import CacheStats
from bot.sources.errors import SourceError

SOURCE = "redis"


class CacheSource:
    def __init__(self, url: str, timeout_s: float = 3.0) -> None:
        self._client = aioredis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        password = urlsplit(url).password
        self._secrets = (url, password) if password else (url,)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _error(self, what: str, exc: RedisError) -> SourceError:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0] or type(exc).__name__
        for secret in self._secrets:
            reason = reason.replace(secret, "***")
        return SourceError(SOURCE, f"{what}: {reason}")

    async def ping_ms(self) -> float:
        started = time.perf_counter()
        try:
            await self._client.ping()
        except RedisError as exc:
            raise self._error("PING", exc) from exc
        return (time.perf_counter() - started) * 1000

    async def stats(self) -> CacheStats:
        ping_ms = await self.ping_ms()
        try:
            # The default INFO sections hold server, clients, memory and stats in one round trip.
            info: dict[str, Any] = await self._client.info()
            keys = int(await self._client.dbsize())
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
