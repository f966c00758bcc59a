"""The platform database (TARGET_DATABASE_URL), read-only, through psycopg 3 async.

One short-lived connection per call rather than a pool: diagnoses are rare and brief, and the bot is
often asked about a server that is running out of connection slots — a pool would keep idle
connections parked on exactly that server between incidents. Every connection is labelled
`application_name=opsbot` (so it is recognisable, and excluded from what it reports), has a short
connect timeout and a `statement_timeout`, and runs with `default_transaction_read_only`. Checks run
in parallel, so the bot's other connections (same application_name) are left out of what it reports.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, LiteralString

import psycopg
from psycopg import errors

from bot.sources.conninfo import ConnectionSetting
from bot.sources.db_records import (
    ActiveQuery,
    AppConnections,
    ConnectionUsage,
    ReplicaInfo,
    ReplicationStatus,
    StandbyInfo,
    StatementStats,
    TableScans,
)
from bot.sources.errors import SourceError
from bot.sources.sql_text import mask_literals

SOURCE = "postgresql"
APPLICATION_NAME = "opsbot"
QUERY_TEXT_CHARS = 500
HOUR_S = 3600

_CONNECTIONS = """
SELECT coalesce(nullif(application_name, ''), '(none)'),
       coalesce(state, 'unknown'),
       count(*),
       max(extract(epoch FROM now() - state_change))::float8,
       count(*) FILTER (WHERE now() - state_change > make_interval(secs => %(hour)s))
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND application_name IS DISTINCT FROM %(me)s
GROUP BY 1, 2
"""
_LIMITS = """
SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int
"""
_LONG_QUERIES = """
SELECT pid, extract(epoch FROM now() - query_start)::float8, coalesce(application_name, ''), usename::text,
       datname::text, wait_event, left(query, %(chars)s)
FROM pg_stat_activity
WHERE state = 'active' AND backend_type = 'client backend' AND application_name IS DISTINCT FROM %(me)s
  AND now() - query_start > make_interval(secs => %(older)s)
ORDER BY query_start
LIMIT %(limit)s
"""
# Only this database's statements: the view is server-wide, the diagnosis is about TARGET_DATABASE_URL.
_TOP_STATEMENTS = """
SELECT left(query, %(chars)s), calls, mean_exec_time, max_exec_time, total_exec_time, rows
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY mean_exec_time DESC
LIMIT %(limit)s
"""
# reltuples is -1 before the first ANALYZE; n_live_tup lags until stats are flushed: take the larger.
_TABLE_SCANS = """
SELECT t.schemaname::text, t.relname::text, t.seq_scan, t.seq_tup_read, coalesce(t.idx_scan, 0),
       greatest(t.n_live_tup, c.reltuples::bigint),
       array(SELECT a.attname::text FROM pg_attribute a
             WHERE a.attrelid = t.relid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum),
       array(SELECT a.attname::text FROM pg_index i
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
             WHERE i.indrelid = t.relid)
FROM pg_stat_user_tables t JOIN pg_class c ON c.oid = t.relid
ORDER BY t.seq_tup_read DESC
LIMIT %(limit)s
"""
_IN_RECOVERY = "SELECT pg_is_in_recovery()"
_REPLICAS = """
SELECT coalesce(nullif(application_name, ''), '(unnamed)'), host(client_addr), state, sync_state,
       pg_wal_lsn_diff(sent_lsn, replay_lsn)::bigint, extract(epoch FROM replay_lag)::float8
FROM pg_stat_replication
ORDER BY 1
"""
_STANDBY = """
SELECT pg_is_wal_replay_paused(),
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint,
       extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
"""


# How PostgreSQL words a refusal for lack of connection slots (libpq gives no SQLSTATE at connect time).
_NO_SLOTS = ("too many clients", "remaining connection slots are reserved")


class OutOfConnections(SourceError):
    """The server refused the bot's own connection for lack of slots: itself an answer about the pool."""


class PostgresSource:
    def __init__(self, dsn: str, connect_timeout_s: int = 3, statement_timeout_ms: int = 5000) -> None:
        self._dsn = dsn
        # libpq's connect_timeout is whole seconds with a floor of 2.
        self._connect_timeout = max(2, connect_timeout_s)
        self._options = f"-c statement_timeout={statement_timeout_ms} -c default_transaction_read_only=on"
        self._setting = ConnectionSetting.postgres("TARGET_DATABASE_URL", dsn)

    @asynccontextmanager
    async def _connection(self, what: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if self._setting.malformed:
            raise SourceError(SOURCE, f"{what}: {self._setting.malformed}")
        try:
            conn = await psycopg.AsyncConnection.connect(
                self._dsn,
                autocommit=True,
                connect_timeout=self._connect_timeout,
                application_name=APPLICATION_NAME,
                options=self._options,
            )
        except psycopg.Error as exc:
            reason = self._reason(exc)
            if any(words in reason for words in _NO_SLOTS):
                raise OutOfConnections(SOURCE, f"{what}: the server refused a new connection: {reason}") from exc
            raise SourceError(SOURCE, f"{what}: cannot connect: {reason}") from exc
        try:
            async with conn:
                yield conn
        except psycopg.Error as exc:
            raise SourceError(SOURCE, f"{what}: {self._reason(exc)}") from exc

    async def _rows(
        self, what: str, query: LiteralString, params: dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        async with self._connection(what) as conn:
            cursor = await conn.execute(query, params)
            return await cursor.fetchall()

    def _reason(self, exc: psycopg.Error) -> str:
        """The driver's first line, with anything secret from the DSN blanked out."""
        if isinstance(exc, errors.QueryCanceled):
            return "the query was cancelled by statement_timeout (the server is slow to answer)"
        return self._setting.reason(exc)

    async def connection_usage(self) -> ConnectionUsage:
        async with self._connection("connection usage") as conn:
            limits = await (await conn.execute(_LIMITS)).fetchone()
            rows = await (await conn.execute(_CONNECTIONS, {"hour": HOUR_S, "me": APPLICATION_NAME})).fetchall()
        if limits is None:
            raise SourceError(SOURCE, "connection usage: max_connections could not be read")
        return _usage(int(limits[0]), int(limits[1]), rows)

    async def long_queries(self, older_than_s: float, limit: int = 20) -> tuple[ActiveQuery, ...]:
        rows = await self._rows("active queries", _LONG_QUERIES,
                                {"chars": QUERY_TEXT_CHARS, "older": older_than_s, "limit": limit,
                                 "me": APPLICATION_NAME})
        # Client statement text carries literal values (passwords, emails): masked before it leaves here.
        return tuple(ActiveQuery(int(r[0]), float(r[1]), r[2], r[3], r[4], r[5], mask_literals(r[6])) for r in rows)

    async def top_statements(self, limit: int = 10) -> tuple[StatementStats, ...]:
        try:
            rows = await self._rows("pg_stat_statements", _TOP_STATEMENTS,
                                    {"chars": QUERY_TEXT_CHARS, "limit": limit})
        except SourceError as exc:
            raise _explain_statements_error(exc) from exc
        return tuple(
            StatementStats(mask_literals(r[0]), int(r[1]), float(r[2]), float(r[3]), float(r[4]), int(r[5]))
            for r in rows
        )

    async def table_scans(self, limit: int = 20) -> tuple[TableScans, ...]:
        rows = await self._rows("table scans", _TABLE_SCANS, {"limit": limit})
        return tuple(
            TableScans(r[0], r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5]), tuple(r[6]), tuple(r[7]))
            for r in rows
        )

    async def replication(self) -> ReplicationStatus:
        async with self._connection("replication") as conn:
            recovery = await (await conn.execute(_IN_RECOVERY)).fetchone()
            in_recovery = bool(recovery and recovery[0])
            rows = await (await conn.execute(_REPLICAS)).fetchall()
            standby = await (await conn.execute(_STANDBY)).fetchone() if in_recovery else None
        replicas = tuple(
            ReplicaInfo(r[0], r[1], r[2], r[3], None if r[4] is None else int(r[4]), r[5]) for r in rows
        )
        info = StandbyInfo(bool(standby[0]), standby[1], standby[2]) if standby else None
        return ReplicationStatus(in_recovery, replicas, info)

    async def ping(self) -> bool:
        try:
            await self._rows("ping", "SELECT 1")
        except SourceError:
            return False
        return True


def _usage(max_connections: int, reserved: int, rows: Sequence[tuple[Any, ...]]) -> ConnectionUsage:
    by_state: dict[str, int] = {}
    apps: dict[str, dict[str, int]] = {}
    oldest: dict[str, float] = {}
    idle_over_hour = 0
    for app, state, count, oldest_s, over_hour in rows:
        by_state[state] = by_state.get(state, 0) + count
        apps.setdefault(app, {})[state] = count
        if oldest_s is not None:
            oldest[state] = max(oldest.get(state, 0.0), oldest_s)
        if state == "idle":
            idle_over_hour += over_hour
    by_application = tuple(
        sorted(
            (
                AppConnections(app, sum(states.values()), states.get("active", 0), states.get("idle", 0),
                               states.get("idle in transaction", 0) + states.get("idle in transaction (aborted)", 0))
                for app, states in apps.items()
            ),
            key=lambda a: (-a.total, a.application),
        )
    )
    in_tx = by_state.get("idle in transaction", 0) + by_state.get("idle in transaction (aborted)", 0)
    in_tx_oldest = [oldest[s] for s in ("idle in transaction", "idle in transaction (aborted)") if s in oldest]
    return ConnectionUsage(
        max_connections=max_connections,
        superuser_reserved=reserved,
        total=sum(by_state.values()),
        by_state=by_state,
        by_application=by_application,
        idle=by_state.get("idle", 0),
        idle_oldest_s=oldest.get("idle"),
        idle_over_hour=idle_over_hour,
        idle_in_transaction=in_tx,
        idle_in_transaction_oldest_s=max(in_tx_oldest) if in_tx_oldest else None,
    )


def _explain_statements_error(exc: SourceError) -> SourceError:
    cause = exc.__cause__
    if isinstance(cause, errors.UndefinedTable):
        return SourceError(SOURCE, "pg_stat_statements is not installed in this database "
                                   "(CREATE EXTENSION pg_stat_statements)")
    if isinstance(cause, errors.ObjectNotInPrerequisiteState):
        return SourceError(SOURCE, "pg_stat_statements is not loaded: add it to shared_preload_libraries "
                                   "and restart PostgreSQL")
    return exc

