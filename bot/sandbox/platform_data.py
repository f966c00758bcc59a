"""A small, believable platform database and cache for `opsbot demo`, on throwaway local servers.

The sandbox fakes Kubernetes and the metrics API, but flush-cache, terminate-idle and cancel-query act on
a real PostgreSQL and a real Redis. When the binaries are installed, `platform_data()` starts one of each
(in parallel: initdb dominates) and seeds what those actions and the database checks look at: a
`platform` database with orders and customers, idle pool connections of the platform services, one
report query that runs for an hour, and a few hundred cache keys. Everything is torn down on exit, Ctrl-C
included. Without the binaries it reports why, once, and yields None: the demo runs without them.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field

import psycopg
import redis
from psycopg import sql
from redis.exceptions import RedisError

from bot.sandbox.local_servers import PostgresCluster, RedisServer, ServerStartError

# Its own database rather than the cluster's `postgres`: the actions scope to current_database(), so the
# previews name `platform` as they would name a real one, and the seeding session stays out of it.
PLATFORM_DB = "platform"
CACHE_DB = 0
# Pool connections the services opened and left idle, as an application's pool does between requests.
IDLE_SESSIONS = ("auth-service", "auth-service", "api-gateway", "api-gateway", "business-logic")
REPORT_APPLICATION = "report-job"
# An hour-long report over the orders: the pg_sleep stands in for a plan that scans far too much.
REPORT_QUERY = "SELECT o.customer_id, sum(o.total) FROM orders o, pg_sleep(3600) GROUP BY o.customer_id"
CACHE_KEY_KINDS = ("user", "product", "price", "session")
CACHE_KEYS_PER_KIND = 80
_SCHEMA = (
    "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",  # the slow-statements check reads it
    "CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, created_at timestamptz NOT NULL)",
    # No index on customer_id: the lookups the services ran below scan the table, as in the guide.
    "CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, total numeric(10, 2) NOT NULL,"
    " status text NOT NULL, created_at timestamptz NOT NULL)",
    "INSERT INTO customers SELECT n, 'customer' || n || '@example.com', now() - n * interval '1 hour'"
    " FROM generate_series(1, 2000) n",
    "INSERT INTO orders SELECT n, 1 + n % 2000, (n % 500) + 0.99,"
    " (ARRAY['paid', 'shipped', 'refunded'])[1 + n % 3], now() - n * interval '1 minute'"
    " FROM generate_series(1, 30000) n",
    "ANALYZE",
    # The seeding itself is no workload of the platform's: the slow-statements check starts from a clean slate.
    "SELECT pg_stat_statements_reset()",
)
_SERVICE_QUERY = "SELECT count(*), sum(total) FROM orders WHERE customer_id = %s"


@dataclass(frozen=True)
class PlatformData:
    """Where the seeded platform lives, and what was planted in it (the demo and its tests name these)."""

    database_url: str
    cache_url: str
    report_pid: int
    idle_pids: tuple[int, ...]
    cache_keys: int
    report: ReportJob = field(repr=False, compare=False)  # how the long query ended, once it has

    def summary(self) -> str:
        return (f"platform database and cache on throwaway local PostgreSQL and redis-server: "
                f"{len(self.idle_pids)} idle service connections, a long `{REPORT_APPLICATION}` query "
                f"(pid {self.report_pid}), {self.cache_keys} cache keys")


class ReportJob:
    """The long report query, run from its own thread and connection. A cancel (cancel-query) or a
    terminate ends it; the job then gives up and disconnects, as a batch job whose statement failed would."""

    def __init__(self, dsn: str) -> None:
        self._conn = psycopg.connect(dsn, autocommit=True, application_name=REPORT_APPLICATION)
        self.pid = self._conn.info.backend_pid
        self.ended_by: str | None = None  # the error class that ended the query, e.g. "QueryCanceled"
        self._thread = threading.Thread(target=self._run, name="demo-report-job", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self._conn.execute(REPORT_QUERY)
        except psycopg.Error as exc:
            self.ended_by = type(exc).__name__
        finally:
            self._conn.close()

    def stop(self) -> None:
        if self._thread.is_alive():
            # psycopg.Error: the query ended on its own meanwhile, nothing left to cancel.
            with suppress(psycopg.Error):
                self._conn.cancel_safe(timeout=5)
        if self._thread.ident is not None:
            self._thread.join(timeout=10)
        self._conn.close()


@contextmanager
def platform_data(unavailable: Callable[[str], None]) -> Iterator[PlatformData | None]:
    """Start and seed the platform database and cache; None (after `unavailable(reason)`) when they cannot
    be started. Servers, connections, the report thread and temp dirs are gone when the block exits."""
    with ExitStack() as stack:
        try:
            data = _start(stack)
        # SubprocessError: a server binary that outlived its timeout (TimeoutExpired from PostgresCluster.run).
        except (ServerStartError, psycopg.Error, RedisError, OSError, subprocess.SubprocessError) as exc:
            stack.close()  # whatever did start goes now, not at the end of the demo
            unavailable(_first_line(exc))
            data = None
        yield data


def _start(stack: ExitStack) -> PlatformData:
    # Constructed here, started in the workers: each server's stop() is registered before it can run, so an
    # interrupt mid-start still stops it (the pool waits for its workers before the stack unwinds).
    cluster = PostgresCluster(name="demo-pg")
    stack.callback(cluster.stop)
    cache_server = RedisServer()
    stack.callback(cache_server.stop)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="demo-servers") as pool:
        database = pool.submit(_start_database, cluster)
        cache = pool.submit(_start_cache, cache_server)
        database_url, cache_keys = database.result(), cache.result()
    idle_pids = tuple(_idle_session(stack, database_url, app, n) for n, app in enumerate(IDLE_SESSIONS))
    report = ReportJob(database_url)
    stack.callback(report.stop)
    report.start()
    return PlatformData(database_url=database_url, cache_url=_cache_url(cache_server), report_pid=report.pid,
                        idle_pids=idle_pids, cache_keys=cache_keys, report=report)


def _start_database(cluster: PostgresCluster) -> str:
    cluster.start()
    with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(PLATFORM_DB)))
    url = cluster.dsn(PLATFORM_DB)
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in _SCHEMA:
            conn.execute(statement)
    return url


def _start_cache(server: RedisServer) -> int:
    server.start()
    client = redis.Redis.from_url(_cache_url(server))
    try:
        values = {f"cache:{kind}:{n}": f'{{"id": {n}, "kind": "{kind}"}}'
                  for kind in CACHE_KEY_KINDS for n in range(CACHE_KEYS_PER_KIND)}
        client.mset(values)
        return int(client.dbsize())
    finally:
        client.close()


def _cache_url(server: RedisServer) -> str:
    return f"redis://127.0.0.1:{server.port}/{CACHE_DB}"


def _idle_session(stack: ExitStack, url: str, application: str, n: int) -> int:
    conn = psycopg.connect(url, autocommit=True, application_name=application)
    stack.callback(conn.close)
    conn.execute(_SERVICE_QUERY, (1 + n * 37,))  # one request's lookup, then the pool keeps it idle
    return conn.info.backend_pid


def _first_line(exc: BaseException) -> str:
    # ServerStartError carries a server log tail; the demo prints one line.
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
