"""The slow_queries and db_connection_exhaustion runbooks end to end: sources built by `build_deps` from
TARGET_DATABASE_URL (and the sandbox's Kubernetes API for the service's logs), `diagnose` against a real
PostgreSQL with a planted problem, and the planted cause ranked first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
from pydantic import SecretStr

from bot.config import OpsConfig, Settings
from bot.engine import diagnose
from bot.model import Status, Symptom
from bot.runbooks import load_runbooks
from bot.sandbox.runner import Sandbox
from bot.wiring import Deps, build_deps
from tests.db.conditions import eventually, held_connections, sleeping_query
from tests.db.helpers import CONFIG, TARGET


def _config(**thresholds: Any) -> OpsConfig:
    return CONFIG.model_copy(update={"thresholds": CONFIG.thresholds.model_copy(update=thresholds)})


@asynccontextmanager
async def _deps(dsn: str, tmp_path: Path, refusals: int = 0, scenario: str = "healthy") -> AsyncIterator[Deps]:
    """Deps over a sandbox scenario; `refusals` "too many clients" lines appended to one service pod's log."""
    with Sandbox(scenario) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        settings = Settings(_env_file=None, kubeconfig=str(kubeconfig), metrics_api_url=sandbox.metrics_url,
                            redis_url=None, database_url=None, opsbot_config=None,
                            target_database_url=SecretStr(dsn), cache_redis_url=None)
        deps = build_deps(settings, CONFIG)
        try:
            if refusals:
                pod = (await deps.sources.kube.pods(TARGET))[0]
                line = "ERROR psycopg.OperationalError: connection failed: FATAL:  sorry, too many clients already"
                sandbox.cluster.append_logs(TARGET.namespace, pod.name, pod.containers[0].name, [line] * refusals)
            yield deps
        finally:
            await deps.aclose()


async def test_slow_queries_runbook_ranks_the_missing_index_first(pg_db: str, tmp_path: Path) -> None:
    with psycopg.connect(pg_db, autocommit=True, application_name="orders-api", connect_timeout=5) as conn:
        conn.execute("CREATE TABLE invoices (id bigint PRIMARY KEY, account_id int, amount numeric)")
        conn.execute("INSERT INTO invoices SELECT g, g % 2000, g FROM generate_series(1, 80000) g")
        for account in range(15):
            conn.execute("SELECT sum(amount) FROM invoices WHERE account_id = %s", (account,))
    async with _deps(pg_db, tmp_path) as deps:
        assert deps.sources.postgres is not None
        await eventually(deps.sources.postgres.table_scans,
                         lambda tables: any(t.table == "invoices" and t.seq_scan >= 15 for t in tables))
        # 1 ms: an 80,000-row sequential scan is slow for this test, as a 1 s one is in production.
        result = await diagnose(load_runbooks()[Symptom.SLOW_QUERIES], deps.sources, _config(query_slow_s=0.001),
                                TARGET)
    by_check = {f.check: f for f in result.findings}
    assert by_check["slow_statements"].status is Status.WARN
    assert by_check["missing_indexes"].status is Status.WARN
    assert by_check["long_queries"].status is Status.OK
    top = result.likely_cause
    assert top is not None and top.key == "missing_index", result.causes
    assert top.title == "Missing index on public.invoices (account_id)"
    assert any("WHERE account_id = $1" in line for line in top.evidence)  # the slow statement folded in


async def test_connection_exhaustion_runbook_ranks_the_pool_first(pg_db: str, tmp_path: Path) -> None:
    with psycopg.connect(pg_db, connect_timeout=5) as conn:
        row = conn.execute("SHOW max_connections").fetchone()
    assert row is not None
    limit = int(row[0])
    # The server's real max_connections; warn and crit set so that 15 held connections exhaust "the pool".
    config = _config(pool_warn=10 / limit, pool_crit=12 / limit)
    async with _deps(pg_db, tmp_path, refusals=4) as deps:
        with held_connections(pg_db, 15, app="business-logic"):
            result = await diagnose(load_runbooks()[Symptom.DB_CONNECTION_EXHAUSTION], deps.sources, config, TARGET)
    by_check = {f.check: f for f in result.findings}
    assert by_check["db_pool"].status is Status.CRIT, by_check["db_pool"].summary
    assert by_check["too_many_clients"].status is Status.CRIT, by_check["too_many_clients"].summary
    assert "4 time(s)" in by_check["too_many_clients"].summary
    top = result.likely_cause
    assert top is not None and top.key == "db_pool_exhausted", result.causes
    # The pool numbers and the service's own refusals are one explanation, not two.
    assert any(line.startswith("business-logic: 15") for line in top.evidence)
    assert any("too many clients already" in line for line in top.evidence)
    assert top.confidence > 0.85


async def test_connection_exhaustion_runbook_finds_nothing_on_a_quiet_server(pg_db: str, tmp_path: Path) -> None:
    async with _deps(pg_db, tmp_path) as deps:
        result = await diagnose(load_runbooks()[Symptom.DB_CONNECTION_EXHAUSTION], deps.sources, CONFIG, TARGET)
    assert {f.check: f.status for f in result.findings} == {
        "db_pool": Status.OK, "idle_connections": Status.OK, "too_many_clients": Status.OK,
        "long_queries": Status.OK,
    }
    assert result.causes == ()


async def test_wiring_builds_the_database_and_cache_sources_only_when_configured(
    pg_dsn: str, redis_url: str, tmp_path: Path
) -> None:
    with Sandbox("healthy") as sandbox:
        kubeconfig = str(sandbox.write_kubeconfig(tmp_path / "kubeconfig"))
        bare = build_deps(Settings(_env_file=None, kubeconfig=kubeconfig, metrics_api_url=sandbox.metrics_url,
                                   redis_url=None, database_url=None, target_database_url=None,
                                   cache_redis_url=None), CONFIG)
        full = build_deps(Settings(_env_file=None, kubeconfig=kubeconfig, metrics_api_url=sandbox.metrics_url,
                                   redis_url=None, database_url=None, target_database_url=SecretStr(pg_dsn),
                                   cache_redis_url=SecretStr(redis_url)), CONFIG)
        try:
            assert bare.sources.postgres is None and bare.sources.cache is None
            assert full.sources.postgres is not None and full.sources.cache is not None
            assert await full.sources.postgres.ping() and await full.sources.cache.ping()
        finally:
            await bare.aclose()
            await full.aclose()


async def test_timeout_runbook_names_the_query_behind_the_lock_over_the_health_endpoints_word(
        pg_db: str, tmp_path: Path) -> None:
    """upstream-timeouts: data-processor hangs behind a lock in its database. Its health endpoint says the
    database is degraded; pg_stat_activity shows who holds the lock and who waits. The top cause is the
    long-running query, with the endpoint's word folded in, and cancelling it is proposed."""
    with psycopg.connect(pg_db, autocommit=True, connect_timeout=5) as conn:
        conn.execute("CREATE TABLE batch_jobs (id int PRIMARY KEY, state text)")
    holder = "LOCK TABLE batch_jobs IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60)"
    target = CONFIG.target("data-processor")
    async with _deps(pg_db, tmp_path, scenario="upstream-timeouts") as deps:
        assert deps.sources.postgres is not None
        postgres = deps.sources.postgres
        with sleeping_query(pg_db, 60, app="batch-job", sql=holder) as holder_pid, \
                sleeping_query(pg_db, 60, app="data-processor", sql="SELECT count(*) FROM batch_jobs"):
            await eventually(lambda: postgres.long_queries(1.0), lambda queries: len(queries) == 2)
            result = await diagnose(load_runbooks()[Symptom.TIMEOUT], deps.sources, _config(query_long_s=1.0),
                                    target)
    by_check = {f.check: f for f in result.findings}
    assert by_check["long_queries"].status is Status.WARN
    health = next(c for c in by_check["dependency_health"].causes if c.key == "database")
    assert health.title == "Database reported degraded by the health endpoint"
    top = result.likely_cause
    assert top is not None and top.key == "long_running_query", result.causes
    assert "health check database: degraded" in top.evidence
    assert "Database connectivity failure" not in {c.title for c in result.causes}
    assert any(p.action == "cancel-query" and p.params["pid"] == str(holder_pid) for p in top.proposals)
