"""Replication against real PostgreSQL: a primary without standbys says so; a real streaming standby
(pg_basebackup) with replay paused shows lag on the primary, the standby says it is one, and the
replication_lag runbook ranks `replication_lag` first."""

from __future__ import annotations

import psycopg
import pytest

from bot.checks.replication import ReplicationCheck
from bot.engine import diagnose, run_check
from bot.model import Status, Symptom
from bot.runbooks import load_runbooks
from bot.sandbox.local_servers import PostgresCluster
from bot.sources.db_records import ReplicationStatus
from tests.db.conditions import db_sources, eventually
from tests.db.helpers import CONFIG, TARGET, ctx

LAG_LIMIT_S = 1.0


async def test_primary_without_standbys_says_it_has_no_replicas(pg_dsn: str) -> None:
    async with db_sources(pg_dsn) as sources:
        finding = await run_check(ReplicationCheck(), sources, ctx(), 8)
    assert finding.status is Status.OK
    assert finding.summary.startswith("This database has no replicas")


async def test_paused_standby_lags_and_the_runbook_names_replication_lag(
    pg_dsn: str, pg_cluster: PostgresCluster | None
) -> None:
    if pg_cluster is None:
        pytest.fail("this test needs the throwaway cluster to add a standby; unset TEST_DATABASE_URL", pytrace=False)
    standby = pg_cluster.create_standby()
    try:
        with psycopg.connect(standby.dsn(), autocommit=True, connect_timeout=5) as replica:
            replica.execute("SELECT pg_wal_replay_pause()")
        config = CONFIG.model_copy(update={"thresholds": CONFIG.thresholds.model_copy(
            update={"replication_lag_s": LAG_LIMIT_S})})
        with psycopg.connect(pg_dsn, autocommit=True, connect_timeout=5) as primary:
            primary.execute("CREATE TABLE IF NOT EXISTS replication_probe (n int)")
            async with db_sources(pg_dsn) as sources:
                assert sources.postgres is not None

                async def write_and_read() -> ReplicationStatus:
                    # The primary measures replay lag from the standby's replies, which follow new WAL.
                    primary.execute("INSERT INTO replication_probe SELECT generate_series(1, 100)")
                    assert sources.postgres is not None
                    return await sources.postgres.replication()

                await eventually(write_and_read,
                                 lambda s: any((r.replay_lag_s or 0) > 1.5 * LAG_LIMIT_S for r in s.replicas))
                finding = await run_check(ReplicationCheck(), sources, ctx(replication_lag_s=LAG_LIMIT_S), 8)
                result = await diagnose(load_runbooks()[Symptom.REPLICATION_LAG], sources, config, TARGET)
            primary.execute("DROP TABLE replication_probe")
        async with db_sources(standby.dsn()) as standby_sources:
            on_standby = await run_check(ReplicationCheck(), standby_sources, ctx(replication_lag_s=LAG_LIMIT_S), 8)
    finally:
        standby.stop()
    assert finding.status is Status.CRIT, finding.summary
    assert finding.evidence[0].startswith("walreceiver at 127.0.0.1: streaming, async, replay lag")
    assert "bytes behind" in finding.evidence[0]
    assert result.likely_cause is not None and result.likely_cause.key == "replication_lag"
    assert on_standby.summary.startswith("This database is a standby")
    assert "Replay is paused" in on_standby.summary
