"""The scheduler's leader lock: a PostgreSQL session advisory lock held on a dedicated connection.

A session lock belongs to one backend and lives exactly as long as its connection: when the leader
process dies (SIGKILL, OOM kill, node loss), PostgreSQL ends the session and the lock is free for the next
`pg_try_advisory_lock`. Two server settings on the connection bound how long a stuck leader can keep it:

* TCP keepalives find a peer that vanished without closing its socket (a node lost, a partition);
* `idle_session_timeout` ends a session that stopped talking: a leader re-checks on a timer, so a
  session silent for several re-check periods belongs to a process that hung, and its lock is freed.

Advisory locks are per database, so every replica must use the same `DATABASE_URL` database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

import psycopg

from bot.sources.conninfo import ConnectionSetting

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S: Final = 5
# hashtextextended keys the lock by name, so the bot's other advisory locks (proposals) never collide.
_TRY_LOCK: Final = "SELECT pg_try_advisory_lock(hashtextextended(%(name)s::text, 0))"
_UNLOCK: Final = "SELECT pg_advisory_unlock(hashtextextended(%(name)s::text, 0))"
# Whether this very session holds the lock, not merely whether the connection answers.
_HELD: Final = """
SELECT EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objsubid = 1
      AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(%(name)s::text, 0)
)
"""


class LeaderLockError(Exception):
    """The leader lock's database could not be reached or answered an error."""


class PostgresLeaderLock:
    def __init__(self, dsn: str, name: str = "opsbot-scheduler", *, recheck_s: float = 5.0) -> None:
        self._dsn = dsn
        self._name = name
        self._setting = ConnectionSetting.postgres("DATABASE_URL", dsn)
        # Every database round trip is bounded by the re-check period: a leader must learn it lost the
        # lock before a follower could have taken it over.
        self._timeout_s = max(1.0, recheck_s)
        self._idle_timeout_ms = int(max(10.0, 3 * recheck_s) * 1000)
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    async def _connection(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            options = (f"-c idle_session_timeout={self._idle_timeout_ms} "
                       f"-c statement_timeout={int(self._timeout_s * 1000)} -c application_name=opsbot-leader")
            self._conn = await psycopg.AsyncConnection.connect(
                self._dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, options=options,
                keepalives=1, keepalives_idle=5, keepalives_interval=2, keepalives_count=3,
            )
        return self._conn

    async def _ask(self, query: str) -> bool:
        if self._setting.malformed:
            raise LeaderLockError(self._setting.malformed)
        try:
            conn = await asyncio.wait_for(self._connection(), CONNECT_TIMEOUT_S + 1)
            cursor = await asyncio.wait_for(conn.execute(query, {"name": self._name}), self._timeout_s)
            row = await cursor.fetchone()
        except (psycopg.Error, OSError, TimeoutError) as exc:
            await self._drop()
            raise LeaderLockError(self._setting.reason(exc)) from exc
        return bool(row and row[0])

    async def acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this session holds it now."""
        if self._conn is not None:
            # A follower's idle connection may have died (server restart, idle_session_timeout, a proxy):
            # that says nothing about the lock, so try once more on a fresh connection.
            try:
                return await self._ask(_TRY_LOCK)
            except LeaderLockError:
                pass
        return await self._ask(_TRY_LOCK)

    async def held(self) -> bool:
        """True while this session still holds the lock; any doubt (an error) raises LeaderLockError."""
        return await self._ask(_HELD)

    async def release(self) -> None:
        """Give the lock up (closing the session releases it too, which is what a crash does)."""
        if self._conn is not None and not self._conn.closed:
            with contextlib.suppress(psycopg.Error, OSError, TimeoutError):
                await asyncio.wait_for(self._conn.execute(_UNLOCK, {"name": self._name}), self._timeout_s)
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error, OSError, TimeoutError):
                await asyncio.wait_for(conn.close(), self._timeout_s)

