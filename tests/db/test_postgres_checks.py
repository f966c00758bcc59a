"""The database checks against a real PostgreSQL: held idle and idle-in-transaction connections, the pool
against the server's real max_connections, pg_sleep queries, a table scanned without an index, slow
statements in pg_stat_statements, a missing or unloaded extension, a refusing and a silent server, and an
unset URL."""

from __future__ import annotations

import socket

import psycopg

from bot.checks.db_pool import DbPoolCheck
from bot.checks.idle_connections import IdleConnectionsCheck
from bot.checks.long_queries import LongQueriesCheck
from bot.checks.missing_indexes import MissingIndexesCheck
from bot.checks.slow_statements import SlowStatementsCheck
from bot.engine import run_check
from bot.model import Finding, Status
from bot.sandbox.local_servers import PostgresCluster, free_port
from bot.sources.db_records import TableScans
from bot.sources.postgres import PostgresSource
from tests.db.conditions import db_sources, eventually, held_connections, sleeping_query
from tests.db.helpers import ctx

TIMEOUT_S = 8.0


def _max_connections(dsn: str) -> int:
    with psycopg.connect(dsn, connect_timeout=5) as conn:
        row = conn.execute("SHOW max_connections").fetchone()
    assert row is not None
    return int(row[0])


async def test_held_idle_connections_are_counted_by_application(pg_db: str) -> None:
    with held_connections(pg_db, 12, app="orders-api"), held_connections(pg_db, 3, app="billing", in_transaction=True):
        usage = await PostgresSource(pg_db).connection_usage()
    orders = next(a for a in usage.by_application if a.application == "orders-api")
    billing = next(a for a in usage.by_application if a.application == "billing")
    assert (orders.total, orders.idle) == (12, 12)
    assert (billing.total, billing.idle_in_transaction) == (3, 3)
    assert usage.idle >= 12 and usage.idle_in_transaction >= 3
    assert usage.idle_oldest_s is not None and usage.idle_in_transaction_oldest_s is not None
    assert usage.max_connections == _max_connections(pg_db)
    assert all(a.application != "opsbot" for a in usage.by_application)


async def test_pool_check_against_the_real_max_connections(pg_db: str) -> None:
    limit = _max_connections(pg_db)
    baseline = (await PostgresSource(pg_db).connection_usage()).total  # other tests' sessions, if any
    # Warn at 8 and crit at 10 slots above what is already in use, so 12 held connections cross both.
    check_ctx = ctx(pool_warn=(baseline + 8) / limit, pool_crit=(baseline + 10) / limit)
    async with db_sources(pg_db) as sources:
        quiet = await run_check(DbPoolCheck(), sources, check_ctx, TIMEOUT_S)
        with held_connections(pg_db, 12, app="orders-api"):
            busy = await run_check(DbPoolCheck(), sources, check_ctx, TIMEOUT_S)
    assert quiet.status is Status.OK, quiet.summary
    assert busy.status is Status.CRIT, busy.summary
    assert f"of {limit} connections" in busy.summary and "orders-api" in busy.summary
    assert busy.causes[0].key == "db_pool_exhausted"
    assert any(line.startswith("orders-api: 12 (active 0, idle 12") for line in busy.evidence)


async def test_idle_in_transaction_longer_than_the_limit_is_flagged(pg_db: str) -> None:
    check_ctx = ctx(query_long_s=0.5)
    async with db_sources(pg_db) as sources:
        with held_connections(pg_db, 2, app="billing", in_transaction=True):
            finding = await eventually(
                lambda: run_check(IdleConnectionsCheck(), sources, check_ctx, TIMEOUT_S),
                lambda f: any(c.key == "idle_in_transaction" for c in f.causes),
            )
    assert finding.status is Status.WARN
    assert "2 idle in transaction" in finding.summary
    assert "billing: idle 0, idle in transaction 2" in finding.evidence


async def test_pg_sleep_longer_than_the_limit_is_a_long_query_with_its_pid(pg_db: str) -> None:
    check_ctx = ctx(query_long_s=1.0)
    async with db_sources(pg_db) as sources:
        assert (await run_check(LongQueriesCheck(), sources, check_ctx, TIMEOUT_S)).status is Status.OK
        with sleeping_query(pg_db, 60, app="report-job") as pid:
            finding = await eventually(lambda: run_check(LongQueriesCheck(), sources, check_ctx, TIMEOUT_S),
                                       lambda f: f.status is not Status.OK)
    assert finding.status is Status.WARN
    assert f"pid {pid} (report-job)" in finding.summary
    assert "pg_sleep" in finding.evidence[0] and "PgSleep" in finding.evidence[0]
    cause = finding.causes[0]
    assert cause.key == "long_running_query"
    assert cause.proposals[0].action == "cancel-query" and cause.proposals[0].params == {"pid": str(pid)}


async def test_a_long_querys_literal_values_never_leave_the_source(pg_db: str) -> None:
    """A client that writes values into its SQL: the password and e-mail reach neither the source's record nor
    the finding; the statement's shape (function, table, column) still does."""
    leaky = ("SELECT pg_sleep(60), 'Pl4nted-Passw0rd' AS pw, $$ann@example.com$$ AS email, 4111111111111111 AS card "
             "/* token=abc */")
    async with db_sources(pg_db) as sources:
        assert sources.postgres is not None
        with sleeping_query(pg_db, 60, app="leaky-job", sql=leaky):
            finding = await eventually(lambda: run_check(LongQueriesCheck(), sources, ctx(query_long_s=1.0), TIMEOUT_S),
                                       lambda f: f.status is not Status.OK)
            records = await sources.postgres.long_queries(1.0)
    texts = [r.query for r in records] + [finding.summary, *finding.evidence,
                                          *(e for c in finding.causes for e in c.evidence)]
    for secret in ("Pl4nted-Passw0rd", "ann@example.com", "4111111111111111", "abc"):
        assert not any(secret in text for text in texts), secret
    leaky_record = next(r for r in records if "pg_sleep" in r.query)
    assert leaky_record.query == "SELECT pg_sleep(?), '?' AS pw, '?' AS email, ? AS card /* */"
    assert "pg_sleep(?)" in finding.evidence[0]


def _plant_unindexed_table(dsn: str, scans: int) -> None:
    with psycopg.connect(dsn, autocommit=True, application_name="orders-api", connect_timeout=5) as conn:
        conn.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int, status text, total numeric)")
        conn.execute("INSERT INTO orders SELECT g, g % 5000, 'open', g FROM generate_series(1, 60000) g")
        conn.execute("ANALYZE orders")
        for customer in range(scans):
            conn.execute("SELECT count(*), sum(total) FROM orders WHERE customer_id = %s", (customer,))
    # Closing the connection flushes its table statistics; the checks read them from then on.


def _orders_scanned(tables: tuple[TableScans, ...], scans: int) -> bool:
    return any(t.table == "orders" and t.seq_scan >= scans for t in tables)


async def test_table_scanned_without_an_index_names_table_and_column(pg_db: str) -> None:
    _plant_unindexed_table(pg_db, scans=12)
    async with db_sources(pg_db) as sources:
        assert sources.postgres is not None
        await eventually(sources.postgres.table_scans, lambda tables: _orders_scanned(tables, 12))
        finding = await run_check(MissingIndexesCheck(), sources, ctx(), TIMEOUT_S)
    assert finding.status is Status.WARN, finding.summary
    assert "public.orders" in finding.summary and "customer_id" in finding.summary
    cause = finding.causes[0]
    assert cause.key == "missing_index" and cause.title == "Missing index on public.orders (customer_id)"
    assert any("CREATE INDEX idx_orders_customer_id ON public.orders(customer_id);" in line for line in cause.evidence)
    with psycopg.connect(pg_db, connect_timeout=5) as conn:  # a hint, never executed
        row = conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'").fetchone()
    assert row == (1,)  # only the primary key


async def test_slow_statements_from_pg_stat_statements(pg_db: str) -> None:
    with psycopg.connect(pg_db, autocommit=True, connect_timeout=5) as conn:
        for _ in range(2):
            conn.execute("SELECT pg_sleep(%s)", (0.3,))
    async with db_sources(pg_db) as sources:
        fast = await run_check(SlowStatementsCheck(), sources, ctx(), TIMEOUT_S)
        slow = await run_check(SlowStatementsCheck(), sources, ctx(query_slow_s=0.2), TIMEOUT_S)
    assert fast.status is Status.OK, fast.summary
    assert slow.status is Status.WARN, slow.summary
    assert "SELECT pg_sleep($1)" in slow.evidence[0] and "2 call(s)" in slow.evidence[0]
    assert slow.causes[0].key == "slow_query"


async def test_missing_pg_stat_statements_is_a_clear_error(pg_db: str) -> None:
    with psycopg.connect(pg_db, autocommit=True, connect_timeout=5) as conn:
        conn.execute("DROP EXTENSION pg_stat_statements")
    async with db_sources(pg_db) as sources:
        finding = await run_check(SlowStatementsCheck(), sources, ctx(), TIMEOUT_S)
        # The index check still names tables from the scan counters without statement texts.
        index = await run_check(MissingIndexesCheck(), sources, ctx(), TIMEOUT_S)
    assert finding.status is Status.ERROR
    assert "pg_stat_statements is not installed in this database" in finding.summary
    assert index.status is Status.OK and "pg_stat_statements is not installed" in index.summary


async def test_unreachable_database_is_an_error_finding_without_secrets() -> None:
    dsn = f"postgresql://opsbot:s3cret-pw@127.0.0.1:{free_port()}/platform"
    async with db_sources(dsn) as sources:
        findings: list[Finding] = [
            await run_check(check, sources, ctx(), TIMEOUT_S)
            for check in (DbPoolCheck(), LongQueriesCheck(), SlowStatementsCheck())
        ]
    for finding in findings:
        assert finding.status is Status.ERROR
        # Refused at once: the reason is the connection, not the engine's timeout.
        assert "cannot connect" in finding.summary and "No answer within" not in finding.summary
        assert "s3cret-pw" not in finding.summary
    assert await PostgresSource(dsn).ping() is False


async def test_unset_database_url_is_no_data() -> None:
    async with db_sources(None) as sources:
        finding = await run_check(DbPoolCheck(), sources, ctx(), TIMEOUT_S)
    assert finding.status is Status.NO_DATA
    assert finding.summary == "TARGET_DATABASE_URL is not set; database checks skipped."


async def test_database_that_never_answers_is_an_error_finding_not_a_hang() -> None:
    # A socket that accepts TCP connections but never speaks: what a wedged server or a black-holed
    # proxy looks like from the client.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        dsn = f"postgresql://opsbot@127.0.0.1:{silent.getsockname()[1]}/platform"
        async with db_sources(dsn) as sources:
            finding = await run_check(DbPoolCheck(), sources, ctx(), 1.0)
        assert finding.status is Status.ERROR and "No answer within 1 s" in finding.summary
        # On its own the source gives up after its connect timeout instead of waiting forever.
        assert await PostgresSource(dsn, connect_timeout_s=2).ping() is False


async def test_pg_stat_statements_not_preloaded_is_a_clear_error() -> None:
    cluster = PostgresCluster(extra_settings={"shared_preload_libraries": ""}, name="nopreload")
    try:
        cluster.start()
        with psycopg.connect(cluster.dsn(), autocommit=True, connect_timeout=5) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        async with db_sources(cluster.dsn()) as sources:
            finding = await run_check(SlowStatementsCheck(), sources, ctx(), TIMEOUT_S)
    finally:
        cluster.stop()
    assert finding.status is Status.ERROR
    assert "pg_stat_statements is not loaded: add it to shared_preload_libraries" in finding.summary


async def test_server_out_of_slots_is_a_critical_pool_finding_not_an_error() -> None:
    # Five slots in all: five held connections leave none, so the bot's own connection gets PostgreSQL's
    # "FATAL: sorry, too many clients already", the guide's symptom itself.
    cluster = PostgresCluster(extra_settings={"max_connections": "5", "superuser_reserved_connections": "0"},
                              name="fewslots")
    try:
        cluster.start()
        with held_connections(cluster.dsn(), 5, app="orders-api"):
            async with db_sources(cluster.dsn()) as sources:
                finding = await run_check(DbPoolCheck(), sources, ctx(), TIMEOUT_S)
                idle = await run_check(IdleConnectionsCheck(), sources, ctx(), TIMEOUT_S)
    finally:
        cluster.stop()
    assert finding.status is Status.CRIT, finding.summary
    assert "refused opsbot's own connection" in finding.summary
    assert "too many clients" in finding.evidence[0]
    assert finding.causes[0].key == "db_pool_exhausted"
    # Checks that need to count rows cannot, and say why.
    assert idle.status is Status.ERROR and "too many clients" in idle.summary


async def test_malformed_database_url_never_echoes_the_password() -> None:
    # psycopg's own message for this quotes the whole string, password included.
    async with db_sources("postgresql//opsbot:hunter2@db.internal/platform") as sources:
        finding = await run_check(DbPoolCheck(), sources, ctx(), TIMEOUT_S)
    assert finding.status is Status.ERROR
    assert "TARGET_DATABASE_URL is not a valid PostgreSQL connection string" in finding.summary
    assert "hunter2" not in finding.summary
