"""The throwaway PostgreSQL / Redis fixtures give real, working servers."""

from __future__ import annotations

import time

import psycopg
import pytest
import redis

from bot.sandbox.local_servers import PostgresCluster, RedisServer, ServerStartError


def test_pg_stat_statements_view_records_statements(pg_db: str) -> None:
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
        for _ in range(3):
            conn.execute("SELECT pg_sleep(%s)", (0.01,))
        row = conn.execute(
            "SELECT calls FROM pg_stat_statements WHERE query = 'SELECT pg_sleep($1)'"
            " AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone()
    assert row is not None and row[0] == 3


def test_held_idle_connection_shows_in_pg_stat_activity(pg_db: str) -> None:
    with psycopg.connect(pg_db, autocommit=True, application_name="test-idle-holder") as held:
        held.execute("SELECT 1")
        with psycopg.connect(pg_db, autocommit=True) as probe:
            states = probe.execute(
                "SELECT state FROM pg_stat_activity WHERE application_name = 'test-idle-holder'"
            ).fetchall()
    assert states == [("idle",)]


def test_pg_db_is_fresh_per_test_and_dropped(pg_dsn: str, pg_db: str) -> None:
    name = pg_db.rsplit("/", 1)[-1]
    assert name.startswith("test_")
    with psycopg.connect(pg_db, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone()
    assert tables == (0,)
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() == (1,)


def test_server_is_postgres_15_with_preloaded_pg_stat_statements(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
        preload = conn.execute("SHOW shared_preload_libraries").fetchone()
    assert version is not None and int(version[0]) >= 150000
    assert preload is not None and "pg_stat_statements" in preload[0]


def test_redis_set_get(redis_client_url: str) -> None:
    client = redis.Redis.from_url(redis_client_url, decode_responses=True)
    try:
        assert client.dbsize() == 0  # flushed for this test
        client.set("opsbot:test", "value", ex=60)
        assert client.get("opsbot:test") == "value"
    finally:
        client.close()


def test_redis_client_url_is_flushed_between_tests(redis_client_url: str) -> None:
    # Runs after test_redis_set_get in file order: its key must be gone.
    client = redis.Redis.from_url(redis_client_url, decode_responses=True)
    try:
        assert client.get("opsbot:test") is None
    finally:
        client.close()


def test_throwaway_redis_starts_fast_and_is_gone_after_stop() -> None:
    server = RedisServer().start()
    try:
        assert server.startup_seconds < 5
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        client.close()
    finally:
        server.stop()
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(server.url, socket_connect_timeout=1).ping()
    assert not server.base_dir.exists()


def test_streaming_standby_replicates(pg_cluster: PostgresCluster | None) -> None:
    # With TEST_DATABASE_URL there is no local primary to attach to: start one just for this test.
    own = PostgresCluster().start() if pg_cluster is None else None
    primary_cluster = own or pg_cluster
    assert primary_cluster is not None
    try:
        _check_standby(primary_cluster)
    finally:
        if own is not None:
            own.stop()


def _check_standby(pg_cluster: PostgresCluster) -> None:
    standby = pg_cluster.create_standby()
    try:
        with psycopg.connect(pg_cluster.dsn(), autocommit=True) as primary:
            rows = primary.execute("SELECT state FROM pg_stat_replication").fetchall()
            assert rows == [("streaming",)]
            primary.execute("CREATE TABLE IF NOT EXISTS repl_probe (v int)")
            primary.execute("INSERT INTO repl_probe VALUES (42)")
        deadline = time.monotonic() + 10
        with psycopg.connect(standby.dsn(), autocommit=True) as replica:
            assert replica.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
            while True:
                try:
                    if replica.execute("SELECT v FROM repl_probe").fetchall() == [(42,)]:
                        break
                except psycopg.errors.UndefinedTable:
                    pass
                assert time.monotonic() < deadline, "row never replicated"
                time.sleep(0.05)
    finally:
        standby.stop()
        with psycopg.connect(pg_cluster.dsn(), autocommit=True) as primary:
            primary.execute("DROP TABLE IF EXISTS repl_probe")


def test_postgres_start_failure_raises_with_log_tail() -> None:
    cluster = PostgresCluster(extra_settings={"shared_buffers": "not-a-size"})
    try:
        with pytest.raises(ServerStartError) as err:
            cluster.start()
    finally:
        cluster.stop()
    assert "pg_ctl start failed" in str(err.value)
    assert "shared_buffers" in str(err.value)  # the server's own complaint, from the log tail
    assert not cluster.base_dir.exists()


def test_redis_start_failure_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    server = RedisServer()
    monkeypatch.setattr(server, "binary", "/bin/false")
    try:
        with pytest.raises(ServerStartError, match="exited"):
            server.start(attempts=1)
    finally:
        server.stop()
