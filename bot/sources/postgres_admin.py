"""Administrative queries on the platform database (TARGET_DATABASE_URL): idle connections to terminate
and one query to cancel.

Every statement is scoped to the configured database and never touches the bot's own session: the SQL
itself re-checks the conditions at the moment it signals a backend, so a connection that became busy
between preview and execute is left alone. Values go in as parameters, never into the SQL text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from bot.sources.admin_records import BackendQuery, IdleConnection
from bot.sources.conninfo import ConnectionSetting
from bot.sources.errors import SourceError
from bot.sources.sql_text import mask_literals

SOURCE = "postgres"
APPLICATION = "opsbot-admin"
# Sessions of any opsbot process (its admin and diagnosis connections) are never terminated or cancelled.
OWN_APPLICATIONS = "opsbot%"

# Idle client sessions of this database older than %(older)s seconds, other than this one. Written out
# twice rather than composed, so each statement reads as the exact SQL sent.
_LIST_IDLE = """
    SELECT pid, usename, application_name, client_addr::text, state_change,
           EXTRACT(EPOCH FROM now() - state_change)::float8
    FROM pg_stat_activity
    WHERE datname = current_database() AND backend_type = 'client backend' AND state = 'idle'
      AND pid <> pg_backend_pid() AND state_change < now() - make_interval(secs => %(older)s)
      AND application_name NOT LIKE %(own)s
    ORDER BY state_change
"""
# pg_terminate_backend in the same statement as the re-check: only the sessions the approver saw in the
# preview (%(pids)s), still idle and still old at that instant, are signalled.
_TERMINATE_IDLE = """
    SELECT pid, usename, application_name, client_addr::text, state_change,
           EXTRACT(EPOCH FROM now() - state_change)::float8, pg_terminate_backend(pid)
    FROM pg_stat_activity
    WHERE datname = current_database() AND backend_type = 'client backend' AND state = 'idle'
      AND pid <> pg_backend_pid() AND state_change < now() - make_interval(secs => %(older)s)
      AND application_name NOT LIKE %(own)s AND pid = ANY(%(pids)s::int[])
    ORDER BY state_change
"""
_BACKEND = """
    SELECT pid, datname, usename, application_name, state, query, query_start,
           EXTRACT(EPOCH FROM now() - query_start)::float8, pid = pg_backend_pid(),
           datname IS NOT DISTINCT FROM current_database()
    FROM pg_stat_activity WHERE pid = %(pid)s
"""
_CANCEL = """
    SELECT pg_cancel_backend(pid) FROM pg_stat_activity
    WHERE pid = %(pid)s AND datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
      AND query_start = %(query_start)s AND application_name NOT LIKE %(own)s
"""


class PostgresAdmin:
    def __init__(self, dsn: str, timeout_s: float = 5.0) -> None:
        self._dsn = dsn
        self._timeout_s = timeout_s
        self._setting = ConnectionSetting.postgres("TARGET_DATABASE_URL", dsn)

    async def _rows(self, what: str, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        if self._setting.malformed:
            raise SourceError(SOURCE, f"{what}: {self._setting.malformed}")
        try:
            async with await psycopg.AsyncConnection.connect(
                self._dsn, autocommit=True, connect_timeout=max(1, int(self._timeout_s)),
                application_name=APPLICATION, options=f"-c statement_timeout={int(self._timeout_s * 1000)}",
            ) as conn:
                cursor = await conn.execute(query, params)
                return list(await cursor.fetchall())
        except psycopg.Error as exc:
            raise SourceError(SOURCE, f"{what}: {self._setting.reason(exc)}") from exc

    async def database(self) -> str:
        rows = await self._rows("current database", "SELECT current_database()", {})
        return str(rows[0][0])

    async def idle_connections(self, older_than_s: float) -> list[IdleConnection]:
        """The sessions terminate-idle would end now (the guide's state = 'idle' AND state_change < ...)."""
        rows = await self._rows("list idle connections", _LIST_IDLE, {"older": older_than_s, "own": OWN_APPLICATIONS})
        return [_idle(row) for row in rows]

    async def terminate_idle(self, older_than_s: float, pids: Sequence[int]) -> list[IdleConnection]:
        """Terminate those of `pids` still idle and older than the threshold; returns those signalled."""
        params = {"older": older_than_s, "pids": list(pids), "own": OWN_APPLICATIONS}
        rows = await self._rows("terminate idle connections", _TERMINATE_IDLE, params)
        return [_idle(row) for row in rows if row[-1]]

    async def backend(self, pid: int) -> BackendQuery | None:
        rows = await self._rows(f"read backend {pid}", _BACKEND, {"pid": pid})
        if not rows:
            return None
        pid_, db, user, app, state, query, started, duration, own, _ = rows[0]
        # Literals masked here, before the text can reach a preview in Slack (strings, $$..$$, numbers).
        return BackendQuery(pid=pid_, database=db, user=user, application=app, state=state,
                            query=mask_literals(query or ""),
                            query_start=started, duration_s=duration, own_session=bool(own))

    async def cancel(self, pid: int, query_start: datetime) -> bool:
        """pg_cancel_backend for one active query of this database, the one started at `query_start` (not
        the session's next query); False when there was none to cancel."""
        params = {"pid": pid, "query_start": query_start, "own": OWN_APPLICATIONS}
        rows = await self._rows(f"cancel query of backend {pid}", _CANCEL, params)
        return bool(rows and rows[0][0])


def _idle(row: Sequence[Any]) -> IdleConnection:
    pid, user, app, client, changed, idle_s = row[:6]
    assert isinstance(changed, datetime)
    return IdleConnection(pid=pid, user=user, application=app or None, client=client, state_change=changed,
                          idle_s=float(idle_s))
