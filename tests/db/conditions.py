"""Real conditions on a real PostgreSQL: held idle / idle-in-transaction connections, a sleeping query,
and a way to wait until the server's statistics show them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import LiteralString, TypeVar

import psycopg
from kubernetes import client

from bot.checks.base import SourceSet
from bot.sources.cache import CacheSource
from bot.sources.kube import KubeSource
from bot.sources.metrics import MetricsSource
from bot.sources.postgres import PostgresSource

T = TypeVar("T")


@asynccontextmanager
async def db_sources(dsn: str | None = None, cache_url: str | None = None) -> AsyncIterator[SourceSet]:
    """Sources for checks that only read the database or the cache; Kubernetes and metrics point nowhere."""
    metrics = MetricsSource("http://127.0.0.1:9")
    cache = CacheSource(cache_url) if cache_url else None
    kube = KubeSource(client.ApiClient())
    try:
        yield SourceSet(kube=kube, metrics=metrics, postgres=PostgresSource(dsn) if dsn else None, cache=cache)
    finally:
        await metrics.aclose()
        if cache is not None:
            await cache.aclose()
        kube.close()


@contextmanager
def held_connections(dsn: str, count: int, *, app: str, in_transaction: bool = False) -> Iterator[None]:
    """`count` connections that ran one SELECT and then sit idle (or idle in an open transaction)."""
    conns: list[psycopg.Connection[tuple[object, ...]]] = []
    try:
        for _ in range(count):
            conn = psycopg.connect(dsn, autocommit=not in_transaction, application_name=app, connect_timeout=5)
            conns.append(conn)
            conn.execute("SELECT 1")
        yield
    finally:
        for conn in conns:
            conn.close()


@contextmanager
def sleeping_query(dsn: str, seconds: float, *, app: str, sql: LiteralString = "SELECT pg_sleep(%s)") -> Iterator[int]:
    """`SELECT pg_sleep(seconds)` running in a thread; yields its backend pid, cancels it on exit.

    `sql` may replace the statement: one with its values written inline (no `%s`) runs as sent, literals and
    all, as a client that interpolates its own values would send it."""
    conn = psycopg.connect(dsn, autocommit=True, application_name=app, connect_timeout=5)
    pid = conn.info.backend_pid

    def run() -> None:
        # The exit cancels the sleep; that cancellation is the expected end, not a failure.
        with suppress(psycopg.errors.QueryCanceled):
            conn.execute(sql, (seconds,) if "%s" in sql else None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield pid
    finally:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as admin:
            admin.execute("SELECT pg_cancel_backend(%s)", (pid,))
        thread.join(10)
        conn.close()


async def eventually(probe: Callable[[], Awaitable[T]], ready: Callable[[T], bool], timeout_s: float = 20) -> T:
    """Probe until `ready` holds (server statistics and replication move asynchronously); fail with the last."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        value = await probe()
        if ready(value) or loop.time() > deadline:
            assert ready(value), f"condition not reached in {timeout_s} s; last value: {value!r}"
            return value
        await asyncio.sleep(0.1)
