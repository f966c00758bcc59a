"""Shared fixtures: the fake Slack Web API, signing, and real PostgreSQL / Redis servers.

Server fixtures never skip: if a server cannot be started or reached the test fails with the
reason and the server's log tail (DESIGN.md: a test that needs a server never silently skips).
Set ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` to use existing servers instead of throwaway ones.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from psycopg import sql

from bot.sandbox.local_servers import PostgresCluster, RedisServer, ServerStartError
from tests.deploy.rbac_plugin import RbacRecorder
from tests.fakes.signing import SIGNING_SECRET
from tests.fakes.slack_api import FakeSlack


# -- Slack ---------------------------------------------------------------------------------------
@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fresh fake Slack Web API per test; ``fake_slack.api_url`` is the client's base_url."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def slack_signing_secret() -> str:
    return SIGNING_SECRET


# -- PostgreSQL ----------------------------------------------------------------------------------
def _with_dbname(dsn: str, dbname: str) -> str:
    if dsn.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(dsn)
        return urlunsplit(parts._replace(path=f"/{dbname}"))
    return psycopg.conninfo.make_conninfo(dsn, dbname=dbname)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster | None]:
    """The throwaway cluster (None when ``TEST_DATABASE_URL`` points at an existing server).

    Exposed so tests needing more than a DSN (a streaming standby: ``create_standby()``) can get it.
    """
    if os.environ.get("TEST_DATABASE_URL"):
        yield None
        return
    try:
        cluster = PostgresCluster()
    except ServerStartError as exc:
        pytest.fail(f"could not set up a throwaway PostgreSQL cluster: {exc}", pytrace=False)
    try:
        cluster.start()
    except ServerStartError as exc:
        cluster.stop()  # removes the temp dir; the message already carries the log tail
        pytest.fail(f"could not start a throwaway PostgreSQL cluster: {exc}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_dsn(pg_cluster: PostgresCluster | None) -> str:
    """DSN of a PostgreSQL 15 server with pg_stat_statements preloaded and created in ``postgres``."""
    dsn = os.environ.get("TEST_DATABASE_URL") or (pg_cluster.dsn() if pg_cluster else "")
    try:
        with psycopg.connect(dsn, connect_timeout=5, autocommit=True) as conn:
            row = conn.execute("SHOW shared_preload_libraries").fetchone()
            if row is None or "pg_stat_statements" not in row[0]:
                # Without the preload the view errors at query time; say why once, up front.
                pytest.fail(
                    f"PostgreSQL at {dsn!r} lacks shared_preload_libraries=pg_stat_statements"
                    " (restart it with that setting, or unset TEST_DATABASE_URL for a throwaway cluster)",
                    pytrace=False,
                )
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    except psycopg.Error as exc:
        tail = pg_cluster.log_tail() if pg_cluster else "(external server: no log)"
        pytest.fail(
            f"PostgreSQL at {dsn!r} not usable: {exc}\n--- server log tail ---\n{tail}", pytrace=False
        )
    return dsn


@pytest.fixture
def pg_db(pg_dsn: str) -> Iterator[str]:
    """DSN of a fresh empty database (with pg_stat_statements) for this test; dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_dsn, connect_timeout=5, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = _with_dbname(pg_dsn, name)
    try:
        with psycopg.connect(dsn, connect_timeout=5, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        yield dsn
    finally:
        with psycopg.connect(pg_dsn, connect_timeout=5, autocommit=True) as admin:
            # FORCE: a test that leaked a connection must not make the drop (and the next test) fail.
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# -- Redis ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a Redis server: ``TEST_REDIS_URL`` or a throwaway ``redis-server`` without persistence."""
    external = os.environ.get("TEST_REDIS_URL")
    server: RedisServer | None = None
    if not external:
        try:
            server = RedisServer()
            server.start()
        except ServerStartError as exc:
            if server is not None:
                server.stop()
            pytest.fail(f"could not start a throwaway redis-server: {exc}", pytrace=False)
    url = external or server.url  # type: ignore[union-attr]
    try:
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        tail = server.log_tail() if server else "(external server: no log)"
        if server:
            server.stop()
        pytest.fail(f"Redis at {url!r} not usable: {exc}\n--- server log tail ---\n{tail}", pytrace=False)
    try:
        yield url
    finally:
        if server:
            server.stop()


@pytest.fixture
def redis_client_url(redis_url: str) -> str:
    """``redis_url`` with its database emptied (FLUSHDB) before the test."""
    client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()
    return redis_url


# -- RBAC ----------------------------------------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    """Every request the bot makes against a sandbox in this run must be allowed by the Role in
    manifests/k8s/rbac.yaml (tests/deploy/rbac_plugin.py); the run fails otherwise."""
    recorder = RbacRecorder()
    recorder.install()
    config.pluginmanager.register(recorder, "opsbot-rbac-recorder")


def pytest_unconfigure(config: pytest.Config) -> None:
    recorder = config.pluginmanager.get_plugin("opsbot-rbac-recorder")
    if isinstance(recorder, RbacRecorder):
        recorder.uninstall()
