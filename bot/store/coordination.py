"""Cross-replica coordination: claims (dedup), fixed-window counters and locks.

Two implementations share one protocol:

* ``RedisCoordination`` — what production uses (``REDIS_URL``); every replica sees the same keys.
* ``MemoryCoordination`` — the fallback when ``REDIS_URL`` is unset. It is only correct for a single
  replica, which is why the bot announces in-memory mode at start-up.

Semantics both follow (tests run the same functions against both):

* ``claim(key, ttl)``: first caller wins until the TTL runs out. Used to process each Events API
  ``event_id`` once, including Slack's retries of the same delivery.
* ``incr_window(key, window)``: fixed window that starts at the first increment and lasts ``window``
  seconds; returns the count within the current window. Starting at the first hit (rather than at a
  wall-clock boundary) needs no clock agreement between replicas.
* ``acquire_lock(name, ttl)``: returns an opaque token or ``None``; only the holder of the token can
  release or extend the lock, so a replica whose lock expired cannot delete its successor's lock.
* ``get_json(key)`` / ``set_json(key, value, ttl)`` / ``delete_json(key)``: a small JSON document with
  a TTL (alert triage's thread map and snoozes). Last writer wins; callers keep counters elsewhere.
* ``reset_window(key)``: forget an ``incr_window`` counter, so the next hit opens a new window.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.sources.conninfo import ConnectionSetting

KEY_PREFIX: Final = "opsbot:"
DEFAULT_SOCKET_TIMEOUT: Final = 2.0


class CoordinationError(Exception):
    """The coordination backend could not be reached or answered an error."""


@runtime_checkable
class Coordination(Protocol):
    async def claim(self, key: str, ttl_seconds: float) -> bool:
        """Atomically claim ``key``; True for the first caller until the TTL expires."""
        ...

    async def release(self, key: str) -> None:
        """Forget a claim so the key can be claimed again (e.g. after a failed attempt)."""
        ...

    async def incr_window(self, key: str, window_seconds: float) -> int:
        """Increment a fixed-window counter and return the count in the current window."""
        ...

    async def acquire_lock(self, name: str, ttl_seconds: float) -> str | None:
        """Take the lock if free; returns the owner token, or None when someone holds it."""
        ...

    async def extend_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        """Reset the TTL of a lock we still own (leader renewal); False if we lost it."""
        ...

    async def release_lock(self, name: str, token: str) -> bool:
        """Release the lock only if ``token`` still owns it."""
        ...

    async def ping(self) -> bool:
        """True when the backend answers (readiness probe); never raises."""
        ...

    async def get_json(self, key: str) -> dict[str, Any] | None:
        """The document stored under ``key``, or None when absent, expired or not a JSON object."""
        ...

    async def set_json(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None:
        """Store ``value`` under ``key`` for ``ttl_seconds`` (replacing any previous document)."""
        ...

    async def delete_json(self, key: str) -> None: ...

    async def reset_window(self, key: str) -> None:
        """Drop the ``incr_window`` counter ``key``; the next increment starts a new window at 1."""
        ...

    async def aclose(self) -> None: ...


def _document(raw: str | bytes | None) -> dict[str, Any] | None:
    # Stored by set_json, but a stray or truncated value must read as absent, not crash a handler.
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _ms(seconds: float) -> int:
    # Redis expiries are integers; never round a positive TTL down to 0 (PX 0 is an error).
    if seconds <= 0:
        raise ValueError(f"TTL must be positive, got {seconds!r}")
    return max(1, round(seconds * 1000))


# Compare-and-delete / compare-and-expire: GET then DEL from the client would race with expiry and a
# new owner acquiring the lock in between; a script runs atomically on the server.
_RELEASE_LOCK: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""
_EXTEND_LOCK: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class RedisCoordination:
    """Coordination on a shared Redis; keys live under ``opsbot:`` so the DB can be shared."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = KEY_PREFIX,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
    ) -> None:
        self._prefix = prefix
        malformed = ConnectionSetting.redis("REDIS_URL", url).malformed
        if malformed:
            # Before from_url, whose ValueError would quote the URL (a password where the port should be).
            raise CoordinationError(malformed)
        # Timeouts on connect and on every read: a hung Redis must not hang an event handler.
        self._redis = aioredis.Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            decode_responses=True,
        )
        self._release_script = self._redis.register_script(_RELEASE_LOCK)
        self._extend_script = self._redis.register_script(_EXTEND_LOCK)

    def _key(self, kind: str, key: str) -> str:
        return f"{self._prefix}{kind}:{key}"

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        try:
            result = await self._redis.set(self._key("claim", key), "1", nx=True, px=_ms(ttl_seconds))
        except (RedisError, OSError) as exc:
            raise CoordinationError(f"claim {key!r}: {exc}") from exc
        return bool(result)

    async def release(self, key: str) -> None:
        try:
            await self._redis.delete(self._key("claim", key))
        except (RedisError, OSError) as exc:
            raise CoordinationError(f"release {key!r}: {exc}") from exc

    async def incr_window(self, key: str, window_seconds: float) -> int:
        full = self._key("window", key)
        try:
            # INCR and PEXPIRE NX in one MULTI: the expiry is set only by the hit that opens the window,
            # and a crash between the two commands cannot leave a counter without a TTL.
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(full)
                pipe.pexpire(full, _ms(window_seconds), nx=True)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise CoordinationError(f"incr_window {key!r}: {exc}") from exc
        return int(count)

    async def acquire_lock(self, name: str, ttl_seconds: float) -> str | None:
        token = secrets.token_hex(16)
        try:
            ok = await self._redis.set(self._key("lock", name), token, nx=True, px=_ms(ttl_seconds))
        except (RedisError, OSError) as exc:
            raise CoordinationError(f"acquire_lock {name!r}: {exc}") from exc
        return token if ok else None

    async def extend_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        try:
            result = await self._extend_script(keys=[self._key("lock", name)], args=[token, _ms(ttl_seconds)])
        except (RedisError, OSError) as exc:
            raise CoordinationError(f"extend_lock {name!r}: {exc}") from exc
        return bool(result)

    async def release_lock(self, name: str, token: str) -> bool:
        try:
            result = await self._release_script(keys=[self._key("lock", name)], args=[token])
        except (RedisError, OSError) as exc:
            raise CoordinationError(f"release_lock {name!r}: {exc}") from exc
        return bool(result)

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def get_json(self, key: str) -> dict[str, Any] | None:
        try:
            raw = await self._redis.get(self._key("doc", key))
        except (RedisError, OSError) as exc:
            raise CoordinationError(f"get_json {key!r}: {exc}") from exc
        return _document(raw)

    async def set_json(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None:
        try:
            await self._redis.set(self._key("doc", key), json.dumps(value), px=_ms(ttl_seconds))
        except (RedisError, OSError) as exc:
            raise CoordinationError(f"set_json {key!r}: {exc}") from exc

    async def delete_json(self, key: str) -> None:
        try:
            await self._redis.delete(self._key("doc", key))
        except (RedisError, OSError) as exc:
            raise CoordinationError(f"delete_json {key!r}: {exc}") from exc

    async def reset_window(self, key: str) -> None:
        try:
            await self._redis.delete(self._key("window", key))
        except (RedisError, OSError) as exc:
            raise CoordinationError(f"reset_window {key!r}: {exc}") from exc

    async def aclose(self) -> None:
        await self._redis.aclose()


@dataclass
class _Entry:
    value: str
    expires_at: float
    count: int = 0


class MemoryCoordination:
    """In-process coordination for a single replica (and for tests and the demo).

    Each operation completes without awaiting, so it is atomic with respect to other coroutines on the
    loop; the threading lock additionally covers callers on worker threads (``asyncio.to_thread``).
    """

    # Expired entries are dropped lazily on access and swept once the table grows past this size,
    # so a long-running process with many one-off event ids does not grow without bound.
    _SWEEP_THRESHOLD: Final = 10_000

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _live(self, key: str, now: float) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at <= now:
            del self._entries[key]
            return None
        return entry

    def _put(self, key: str, entry: _Entry, now: float) -> None:
        if len(self._entries) >= self._SWEEP_THRESHOLD:
            for stale in [k for k, e in self._entries.items() if e.expires_at <= now]:
                del self._entries[stale]
        self._entries[key] = entry

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        ttl = _ms(ttl_seconds) / 1000
        with self._lock:
            now = self._clock()
            full = f"claim:{key}"
            if self._live(full, now) is not None:
                return False
            self._put(full, _Entry("1", now + ttl), now)
            return True

    async def release(self, key: str) -> None:
        with self._lock:
            self._entries.pop(f"claim:{key}", None)

    async def incr_window(self, key: str, window_seconds: float) -> int:
        window = _ms(window_seconds) / 1000
        with self._lock:
            now = self._clock()
            full = f"window:{key}"
            entry = self._live(full, now)
            if entry is None:
                entry = _Entry("", now + window)
                self._put(full, entry, now)
            entry.count += 1
            return entry.count

    async def acquire_lock(self, name: str, ttl_seconds: float) -> str | None:
        ttl = _ms(ttl_seconds) / 1000
        with self._lock:
            now = self._clock()
            full = f"lock:{name}"
            if self._live(full, now) is not None:
                return None
            token = secrets.token_hex(16)
            self._put(full, _Entry(token, now + ttl), now)
            return token

    async def extend_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        ttl = _ms(ttl_seconds) / 1000
        with self._lock:
            now = self._clock()
            entry = self._live(f"lock:{name}", now)
            if entry is None or not secrets.compare_digest(entry.value, token):
                return False
            entry.expires_at = now + ttl
            return True

    async def release_lock(self, name: str, token: str) -> bool:
        with self._lock:
            full = f"lock:{name}"
            entry = self._live(full, self._clock())
            if entry is None or not secrets.compare_digest(entry.value, token):
                return False
            del self._entries[full]
            return True

    async def ping(self) -> bool:
        return not self._closed

    async def get_json(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._live(f"doc:{key}", self._clock())
            return _document(entry.value if entry is not None else None)

    async def set_json(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None:
        ttl = _ms(ttl_seconds) / 1000
        text = json.dumps(value)  # serialised like Redis does, so callers cannot share a mutable dict
        with self._lock:
            now = self._clock()
            self._put(f"doc:{key}", _Entry(text, now + ttl), now)

    async def delete_json(self, key: str) -> None:
        with self._lock:
            self._entries.pop(f"doc:{key}", None)

    async def reset_window(self, key: str) -> None:
        with self._lock:
            self._entries.pop(f"window:{key}", None)

    async def aclose(self) -> None:
        self._closed = True
        # Yield once so callers that expect a real suspension point behave the same on both backends.
        await asyncio.sleep(0)


def coordination_from_url(
    redis_url: str | None, *, socket_timeout: float = DEFAULT_SOCKET_TIMEOUT
) -> Coordination:
    """Redis when a URL is configured, otherwise the single-replica in-memory store."""
    if redis_url:
        return RedisCoordination(redis_url, socket_timeout=socket_timeout)
    return MemoryCoordination()
