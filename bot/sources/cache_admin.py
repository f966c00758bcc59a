"""The platform cache (CACHE_REDIS_URL): its key count, and FLUSHDB of the configured DB only.

FLUSHALL is never sent: the DB index in the URL is the whole scope of flush-cache, so other databases on
the same server (sessions, queues, the bot's own coordination) survive it."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.sources.admin_records import CacheInfo
from bot.sources.errors import SourceError

SOURCE = "redis"


class CacheAdmin:
    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self._url = url
        self._timeout_s = timeout_s

    def _client(self) -> Any:
        return aioredis.from_url(self._url, socket_timeout=self._timeout_s,
                                 socket_connect_timeout=self._timeout_s)

    async def info(self) -> CacheInfo:
        """Which server and DB index the cache is, and how many keys it holds (the flush preview)."""
        client = self._client()
        try:
            keys = int(await client.dbsize())
        except RedisError as exc:
            raise SourceError(SOURCE, f"DBSIZE: {type(exc).__name__}: {exc}") from exc
        finally:
            await client.aclose()
        return _info(client, keys)

    async def flush(self) -> CacheInfo:
        """FLUSHDB of the configured DB; returns the key count it held just before."""
        client = self._client()
        try:
            async with client.pipeline(transaction=True) as pipe:
                # MULTI/EXEC: the count reported is exactly what the flush removed.
                keys, _ = await pipe.dbsize().flushdb().execute()
        except RedisError as exc:
            raise SourceError(SOURCE, f"FLUSHDB: {type(exc).__name__}: {exc}") from exc
        finally:
            await client.aclose()
        return _info(client, int(keys))


def _info(client: Any, keys: int) -> CacheInfo:
    kwargs = client.connection_pool.connection_kwargs
    host = f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"
    return CacheInfo(host=host, db=int(kwargs.get("db", 0)), keys=keys)
