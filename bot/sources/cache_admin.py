"""The platform cache (CACHE_REDIS_URL): its key count, and FLUSHDB of the configured DB only.

FLUSHALL is never sent: the DB index in the URL is the whole scope of flush-cache, so other databases on
the same server (sessions, queues, the bot's own coordination) survive it."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.sources.admin_records import CacheInfo
from bot.sources.conninfo import ConnectionSetting, redis_url_parses
from bot.sources.errors import SourceError

SOURCE = "redis"
OWN_DATABASE = (
    "CACHE_REDIS_URL and REDIS_URL name the same Redis database: FLUSHDB would wipe the bot's own state"
)
# Names of this machine's loopback: `localhost` and `127.0.0.1` in two URLs are the same server.
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def redis_location(url: str) -> tuple[str, int]:
    """(server, DB index) a Redis URL points at: `host:port` or `unix:/path` for a socket. No credentials."""
    kwargs = aioredis.ConnectionPool.from_url(url).connection_kwargs  # parses only; connects on first use
    path = kwargs.get("path")
    if path:
        return f"unix:{path}", int(kwargs.get("db", 0))
    host = str(kwargs.get("host", "localhost")).lower()
    host = "localhost" if host in _LOOPBACK else host
    return f"{host}:{kwargs.get('port', 6379)}", int(kwargs.get("db", 0))


def same_database(url: str, other: str) -> bool:
    """True when both URLs name the same DB on the same server (FLUSHDB of one empties the other).

    False when either does not parse (parsing it would raise an error quoting it): a malformed
    CACHE_REDIS_URL flushes nothing, and with a malformed REDIS_URL the bot's coordination refuses to start."""
    if not (redis_url_parses(url) and redis_url_parses(other)):
        return False
    return redis_location(url) == redis_location(other)


class CacheAdmin:
    def __init__(self, url: str, timeout_s: float = 5.0, *, bot_url: str | None = None) -> None:
        self._url = url
        self._timeout_s = timeout_s
        self._setting = ConnectionSetting.redis("CACHE_REDIS_URL", url)
        # The bot's own coordination DB (REDIS_URL): flushing it would wipe locks, dedup and rate limits.
        self.own_database = bot_url is not None and same_database(url, bot_url)

    def _client(self, what: str) -> Any:
        if self._setting.malformed:
            # Checked before from_url, whose ValueError would quote the URL, password and all.
            raise SourceError(SOURCE, f"{what}: {self._setting.malformed}")
        return aioredis.from_url(self._url, socket_timeout=self._timeout_s,
                                 socket_connect_timeout=self._timeout_s)

    async def info(self) -> CacheInfo:
        """Which server and DB index the cache is, and how many keys it holds (the flush preview)."""
        client = self._client("DBSIZE")
        try:
            keys = int(await client.dbsize())
        except RedisError as exc:
            raise SourceError(SOURCE, f"DBSIZE: {type(exc).__name__}: {self._setting.reason(exc)}") from exc
        finally:
            await client.aclose()
        return _info(client, keys)

    async def flush(self) -> CacheInfo:
        """FLUSHDB of the configured DB; returns the key count it held just before."""
        if self.own_database:
            raise SourceError(SOURCE, OWN_DATABASE)
        client = self._client("FLUSHDB")
        try:
            async with client.pipeline(transaction=True) as pipe:
                # MULTI/EXEC: the count reported is exactly what the flush removed.
                keys, _ = await pipe.dbsize().flushdb().execute()
        except RedisError as exc:
            raise SourceError(SOURCE, f"FLUSHDB: {type(exc).__name__}: {self._setting.reason(exc)}") from exc
        finally:
            await client.aclose()
        return _info(client, int(keys))


def _info(client: Any, keys: int) -> CacheInfo:
    kwargs = client.connection_pool.connection_kwargs
    path = kwargs.get("path")
    host = f"unix:{path}" if path else f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"
    return CacheInfo(host=host, db=int(kwargs.get("db", 0)), keys=keys)
