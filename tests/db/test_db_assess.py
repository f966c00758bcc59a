"""The pure `assess` of every database and cache check over hand-made records: thresholds, edge cases,
wording, causes and proposals, and how the verdict ranks them."""

from __future__ import annotations

from bot.checks.cache import CacheCheck
from bot.checks.db_pool import DbPoolCheck, SlotsRefused
from bot.checks.idle_connections import IdleConnectionsCheck
from bot.checks.long_queries import LongQueriesCheck
from bot.checks.missing_indexes import IndexEvidence, MissingIndexesCheck
from bot.checks.replication import ReplicationCheck
from bot.checks.slow_statements import SlowStatementsCheck
from bot.checks.sql_columns import filtered_columns
from bot.checks.too_many_clients import ClientLogEvidence, TooManyClientsCheck
from bot.model import Status
from bot.sources.db_records import (
    ActiveQuery,
    CacheStats,
    ReplicaInfo,
    ReplicationStatus,
    StandbyInfo,
    StatementStats,
    TableScans,
)
from bot.sources.records import LogLine
from bot.verdict import rank_causes
from tests.db.helpers import ctx, usage

CTX = ctx()


# -- db_pool ---------------------------------------------------------------------------------------
def test_pool_levels_follow_the_guide() -> None:
    assert DbPoolCheck().assess(usage(45), CTX).status is Status.OK
    warn = DbPoolCheck().assess(usage(85), CTX)
    assert warn.status is Status.WARN and "85 of 100" in warn.summary and "85.0 %" in warn.summary
    crit = DbPoolCheck().assess(usage(96), CTX)
    assert crit.status is Status.CRIT and crit.causes[0].key == "db_pool_exhausted"
    assert crit.causes[0].confidence > warn.causes[0].confidence
    assert "orders-api (96)" in crit.summary


def test_pool_thresholds_come_from_the_context() -> None:
    assert DbPoolCheck().assess(usage(30), ctx(pool_warn=0.2, pool_crit=0.25)).status is Status.CRIT
    assert DbPoolCheck().assess(usage(0), CTX).status is Status.OK


def test_pool_proposes_terminate_idle_only_for_idle_older_than_an_hour() -> None:
    old = DbPoolCheck().assess(usage(96, idle=70, idle_oldest_s=9000, idle_over_hour=40), CTX)
    proposal = old.causes[0].proposals[0]
    assert proposal.action == "terminate-idle" and proposal.params == {"older_than": "1h"}
    assert "40 connection(s)" in proposal.reason
    young = DbPoolCheck().assess(usage(96, idle=70, idle_oldest_s=120), CTX)
    assert young.causes[0].proposals == ()
    assert any("none older than an hour" in line for line in young.causes[0].evidence)
    busy = DbPoolCheck().assess(usage(96, idle=10, idle_oldest_s=9000, idle_over_hour=10), CTX)
    assert busy.causes[0].proposals == ()  # mostly active: closing idle ones would not relieve it


def test_refused_connection_is_the_pool_exhausted_right_now() -> None:
    finding = DbPoolCheck().assess(SlotsRefused("FATAL:  sorry, too many clients already"), CTX)
    assert finding.status is Status.CRIT and finding.causes[0].key == "db_pool_exhausted"
    assert finding.causes[0].confidence == 0.8 and "too many clients" in finding.evidence[0]


def test_unset_database_is_no_data_naming_the_setting() -> None:
    for check in (DbPoolCheck(), IdleConnectionsCheck(), LongQueriesCheck(), SlowStatementsCheck(),
                  MissingIndexesCheck(), ReplicationCheck()):
        finding = check.assess(None, CTX)
        assert finding.status is Status.NO_DATA and "TARGET_DATABASE_URL is not set" in finding.summary
    assert "CACHE_REDIS_URL is not set" in CacheCheck().assess(None, CTX).summary


# -- idle_connections ------------------------------------------------------------------------------
def test_idle_connections_counts_ages_and_the_guides_one_hour() -> None:
    calm = IdleConnectionsCheck().assess(usage(20, idle=5, idle_oldest_s=30), CTX)
    assert calm.status is Status.OK and calm.causes == ()
    assert calm.summary == ("5 idle connection(s) (5.0 % of max_connections), oldest idle 30.0 s; "
                            "0 idle for more than an hour. 0 idle in transaction.")
    old = IdleConnectionsCheck().assess(usage(40, idle=12, idle_oldest_s=7300, idle_over_hour=4), CTX)
    assert old.status is Status.WARN and "4 idle for more than an hour" in old.summary and "2.0 h" in old.summary
    cause = old.causes[0]
    assert cause.key == "idle_connections" and cause.supports == ("db_pool_exhausted",)
    assert cause.proposals[0].params == {"older_than": "1h"}
    many = IdleConnectionsCheck().assess(usage(70, idle=60, idle_oldest_s=300), CTX)
    assert many.status is Status.WARN and many.causes[0].proposals == ()


def test_idle_in_transaction_longer_than_a_long_query_is_its_own_cause() -> None:
    short = IdleConnectionsCheck().assess(usage(10, in_tx=2, in_tx_oldest_s=3), CTX)
    assert short.causes == ()
    long = IdleConnectionsCheck().assess(usage(10, in_tx=2, in_tx_oldest_s=42), CTX)
    assert long.status is Status.WARN
    assert [c.key for c in long.causes] == ["idle_in_transaction"] and "42.0 s" in long.causes[0].title


def test_idle_connections_fold_into_an_exhausted_pool() -> None:
    exhausted = usage(97, idle=80, idle_oldest_s=7300, idle_over_hour=50)
    findings = [DbPoolCheck().assess(exhausted, CTX), IdleConnectionsCheck().assess(exhausted, CTX)]
    causes = rank_causes(findings, "db_pool", ["terminate-idle"])
    assert [c.key for c in causes] == ["db_pool_exhausted"]
    assert causes[0].confidence > 0.7 and [p.action for p in causes[0].proposals] == ["terminate-idle"]


# -- long_queries ----------------------------------------------------------------------------------
def _query(pid: int, seconds: float) -> ActiveQuery:
    return ActiveQuery(pid, seconds, "reports", "app", "shop", "PgSleep", "SELECT pg_sleep(60)")


def test_long_queries_name_the_pid_and_propose_cancelling_it() -> None:
    assert LongQueriesCheck().assess((), CTX).status is Status.OK
    finding = LongQueriesCheck().assess((_query(41, 7.5), _query(42, 19.0)), CTX)
    assert finding.status is Status.WARN and "pid 42 (reports)" in finding.summary and "19.0 s" in finding.summary
    cause = finding.causes[0]
    assert cause.key == "long_running_query"
    assert [p.params["pid"] for p in cause.proposals] == ["42", "41"]
    assert all(p.action == "cancel-query" for p in cause.proposals)
    assert LongQueriesCheck().assess((_query(43, 51),), CTX).status is Status.CRIT


# -- slow_statements -------------------------------------------------------------------------------
def _stmt(query: str, mean_ms: float, calls: int = 10) -> StatementStats:
    return StatementStats(query, calls, mean_ms, mean_ms * 2, mean_ms * calls, calls)


def test_slow_statements_flag_means_above_one_second() -> None:
    fast = SlowStatementsCheck().assess((_stmt("SELECT 1", 0.2), _stmt("SELECT $1", 800)), CTX)
    assert fast.status is Status.OK and fast.causes == () and "0.8 s" in fast.summary
    slow = SlowStatementsCheck().assess((_stmt("SELECT * FROM orders WHERE customer_id = $1", 2300),), CTX)
    assert slow.status is Status.WARN and slow.causes[0].key == "slow_query"
    assert slow.causes[0].supports == ("missing_index",)
    assert "orders WHERE customer_id" in slow.evidence[0]
    assert SlowStatementsCheck().assess((_stmt("SELECT pg_sleep($1)", 9000),), CTX).status is Status.CRIT
    assert SlowStatementsCheck().assess((), CTX).status is Status.NO_DATA


# -- missing_indexes -------------------------------------------------------------------------------
ORDERS = TableScans("public", "orders", seq_scan=420, seq_tup_read=84_000_000, idx_scan=3, live_rows=200_000,
                    columns=("id", "customer_id", "created_at", "status"), indexed_columns=("id",))


def test_missing_index_names_table_and_filtered_columns_with_the_guides_hint() -> None:
    statements = (_stmt("SELECT * FROM orders WHERE customer_id = $1 AND created_at > $2", 1500),)
    finding = MissingIndexesCheck().assess(IndexEvidence((ORDERS,), statements), CTX)
    assert finding.status is Status.WARN
    assert "public.orders" in finding.summary and "customer_id, created_at" in finding.summary
    cause = finding.causes[0]
    assert cause.key == "missing_index" and cause.title == "Missing index on public.orders (customer_id, created_at)"
    hint = next(line for line in cause.evidence if line.startswith("hint (not executed)"))
    assert "CREATE INDEX idx_orders_customer_id_created_at ON public.orders(customer_id, created_at);" in hint
    assert cause.proposals == ()  # a hint for a person, never an action


def test_missing_index_without_statement_text_still_names_the_table() -> None:
    finding = MissingIndexesCheck().assess(IndexEvidence((ORDERS,), (), "pg_stat_statements is not loaded"), CTX)
    assert finding.status is Status.WARN and "public.orders" in finding.causes[0].title
    assert "pg_stat_statements is not loaded" in finding.summary and finding.causes[0].confidence < 0.5


def test_small_or_indexed_tables_are_not_suspects() -> None:
    small = TableScans("public", "countries", 9000, 9000 * 200, 0, 200, ("code",), ())
    indexed = TableScans("public", "users", 50, 50 * 80_000, 90_000, 80_000, ("id", "email"), ("id", "email"))
    finding = MissingIndexesCheck().assess(IndexEvidence((small, indexed), ()), CTX)
    assert finding.status is Status.OK and finding.causes == ()


def test_already_indexed_column_is_not_suggested_again() -> None:
    statements = (_stmt("SELECT * FROM orders WHERE id = $1", 1500),)
    finding = MissingIndexesCheck().assess(IndexEvidence((ORDERS,), statements), CTX)
    assert finding.causes[0].title == "Missing index on public.orders"


def test_hint_quotes_identifiers_that_are_not_plain() -> None:
    table = TableScans("Sales", "Order Lines", 50, 50 * 30_000, 0, 30_000, ("sku", "lineNo"), ())
    statements = (_stmt('SELECT * FROM "Sales"."Order Lines" WHERE sku = $1', 1500),)
    hint = MissingIndexesCheck().assess(IndexEvidence((table,), statements), CTX).causes[0].evidence[1]
    assert hint == 'hint (not executed): CREATE INDEX "idx_Order Lines_sku" ON "Sales"."Order Lines"(sku);'


def test_sql_columns_resolve_aliases_and_ignore_other_tables() -> None:
    join = "SELECT c.*, o.* FROM customers c LEFT JOIN orders o ON c.id = o.customer_id WHERE c.active = $1"
    assert filtered_columns(join, "orders", ORDERS.columns) == ("customer_id",)
    assert filtered_columns(join, "customers", ("id", "active", "name")) == ("id", "active")
    assert filtered_columns("SELECT * FROM users WHERE status = $1", "orders", ORDERS.columns) == ()
    assert filtered_columns("UPDATE orders SET status = $1 WHERE created_at < $2", "orders",
                            ORDERS.columns) == ("created_at",)


def test_slow_statements_fold_into_the_missing_index() -> None:
    statements = (_stmt("SELECT * FROM orders WHERE customer_id = $1", 2300),)
    findings = [SlowStatementsCheck().assess(statements, CTX),
                MissingIndexesCheck().assess(IndexEvidence((ORDERS,), statements), CTX)]
    causes = rank_causes(findings, "slow_statements", [])
    assert [c.key for c in causes] == ["missing_index"] and causes[0].confidence == 0.7


def test_slow_statement_an_index_cannot_help_stands_alone() -> None:
    bulk = _stmt("INSERT INTO orders SELECT g FROM generate_series($1, $2) g", 1600)
    load = SlowStatementsCheck().assess((bulk,), CTX)
    assert load.causes[0].supports == ()
    mixed = SlowStatementsCheck().assess((bulk, _stmt("SELECT * FROM orders WHERE status = $1", 1200)), CTX)
    assert mixed.causes[0].supports == ("missing_index",) and "WHERE status" in mixed.causes[0].evidence[0]


# -- too_many_clients ------------------------------------------------------------------------------
def test_too_many_clients_in_logs_is_pool_exhaustion() -> None:
    refused = 'psycopg.OperationalError: connection failed: FATAL:  sorry, too many clients already'
    reserved = "FATAL: remaining connection slots are reserved for non-replication superuser connections"
    lines = [LogLine("bl-1", "app", "INFO GET /orders 200")] * 50 + [LogLine("bl-1", "app", refused),
                                                                     LogLine("bl-2", "app", reserved)]
    finding = TooManyClientsCheck().assess(ClientLogEvidence(tuple(lines), ()), CTX)
    assert finding.status is Status.CRIT and "2 time(s)" in finding.summary and "2 pod(s)" in finding.summary
    assert finding.causes[0].key == "db_pool_exhausted"
    clean = TooManyClientsCheck().assess(ClientLogEvidence(tuple(lines[:50]), ()), CTX)
    assert clean.status is Status.OK and clean.causes == ()
    unreadable = TooManyClientsCheck().assess(ClientLogEvidence((), ("bl-1/app",)), CTX)
    assert unreadable.status is Status.ERROR


# -- replication -----------------------------------------------------------------------------------
def _replica(lag_s: float | None, lag_bytes: int, state: str = "streaming") -> ReplicaInfo:
    return ReplicaInfo("replica-1", "10.0.0.7", state, "async", lag_bytes, lag_s)


def test_no_replicas_is_said_plainly() -> None:
    finding = ReplicationCheck().assess(ReplicationStatus(False, ()), CTX)
    assert finding.status is Status.OK and finding.summary.startswith("This database has no replicas")
    assert finding.causes == ()


def test_replay_lag_against_five_seconds() -> None:
    ok = ReplicationCheck().assess(ReplicationStatus(False, (_replica(0.4, 0),)), CTX)
    assert ok.status is Status.OK and ok.causes == ()
    lagging = ReplicationCheck().assess(ReplicationStatus(False, (_replica(0.2, 0), _replica(12.5, 3_400_000))), CTX)
    assert lagging.status is Status.CRIT and "12.5 s" in lagging.summary
    cause = lagging.causes[0]
    assert cause.key == "replication_lag" and "12.5 s" in cause.title
    assert any("disk I/O on the replica" in line for line in cause.evidence)
    catching_up = ReplicationCheck().assess(ReplicationStatus(False, (_replica(None, 0, "catchup"),)), CTX)
    assert catching_up.status is Status.WARN and "catchup" in catching_up.causes[0].title
    behind = ReplicationCheck().assess(ReplicationStatus(False, (_replica(1.0, 64 * 2**20),)), CTX)
    assert behind.status is Status.WARN and "64.0 MiB" in behind.causes[0].title


def test_replica_hidden_from_an_unprivileged_role_says_what_to_grant() -> None:
    hidden = ReplicaInfo("replica-1", None, None, None, None, None)
    finding = ReplicationCheck().assess(ReplicationStatus(False, (hidden,)), CTX)
    assert finding.status is Status.NO_DATA and finding.causes == ()
    assert "needs pg_monitor" in finding.evidence[0]


def test_pool_counts_sessions_whose_state_is_hidden() -> None:
    hidden = usage(40)
    hidden = type(hidden)(**{**hidden.__dict__, "by_state": {"unknown": 40}})
    facts = {f.label: f.value for f in DbPoolCheck().assess(hidden, CTX).facts}
    assert facts["state hidden (grant pg_monitor)"] == "40"


def test_a_standby_says_it_is_one() -> None:
    paused = ReplicationCheck().assess(ReplicationStatus(True, (), StandbyInfo(True, 500_000, 30.0)), CTX)
    assert paused.status is Status.CRIT and "is a standby" in paused.summary and "paused" in paused.summary
    assert paused.causes[0].key == "replication_lag"
    fresh = ReplicationCheck().assess(ReplicationStatus(True, (), StandbyInfo(True, 6072, None)), CTX)
    assert fresh.status is Status.WARN and "unknown" not in fresh.summary
    assert fresh.causes[0].title == "This standby replays 6,072 bytes behind the primary (replay paused)"
    quiet = ReplicationCheck().assess(ReplicationStatus(True, (), StandbyInfo(False, 0, 4000.0)), CTX)
    assert quiet.status is Status.OK and "is a standby" in quiet.summary


# -- cache -----------------------------------------------------------------------------------------
def _cache(used: int, maxmemory: int, evicted: int, hits: int, misses: int, ping_ms: float = 0.3) -> CacheStats:
    return CacheStats(used, maxmemory, "allkeys-lru", evicted, hits, misses, 12, 0, 5000, 7200, ping_ms)


def test_cache_pressure_with_evictions_proposes_flush() -> None:
    full = CacheCheck().assess(_cache(99 * 2**20, 100 * 2**20, 5000, 9000, 6000), CTX)
    assert full.status is Status.CRIT
    cause = full.causes[0]
    assert cause.key == "cache_pressure" and "low hit ratio" in cause.title
    assert [p.action for p in cause.proposals] == ["flush-cache"]
    assert "2,500/h over 2.0 h uptime" in next(f.value for f in full.facts if f.label == "evicted keys")


def test_healthy_or_unbounded_cache_is_ok_and_low_hits_alone_do_not_flush() -> None:
    assert CacheCheck().assess(_cache(40 * 2**20, 100 * 2**20, 0, 9000, 100), CTX).status is Status.OK
    unbounded = CacheCheck().assess(_cache(400 * 2**20, 0, 0, 0, 0), CTX)
    assert unbounded.status is Status.OK and "no maxmemory limit" in unbounded.summary
    misses = CacheCheck().assess(_cache(40 * 2**20, 100 * 2**20, 0, 100, 5000), CTX)
    assert misses.status is Status.WARN and misses.causes == ()
    slow = CacheCheck().assess(_cache(40 * 2**20, 100 * 2**20, 0, 9000, 100, ping_ms=180), CTX)
    assert slow.status is Status.WARN
    # Evicted long ago, now half empty and hitting well: nothing to flush.
    settled = CacheCheck().assess(_cache(50 * 2**20, 100 * 2**20, 300, 9000, 100), CTX)
    assert settled.status is Status.WARN and settled.causes == ()
    # Just evicted, settled below the limit, lookups missing: at its limit, flushing is proposed.
    evicting = CacheCheck().assess(_cache(80 * 2**20, 100 * 2**20, 1800, 150, 1850), CTX)
    assert evicting.status is Status.WARN and [p.action for p in evicting.causes[0].proposals] == ["flush-cache"]
