"""terminate-idle and cancel-query against a real PostgreSQL: held idle connections, a running pg_sleep."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace

import psycopg
import pytest
from kubernetes import client

from bot.actions import ACTIONS
from bot.actions.base import ActionEnv, ActionError, changed_keys
from bot.config import OpsConfig
from bot.sources.kube_writes import KubeWriter
from bot.sources.postgres_admin import PostgresAdmin


@pytest.fixture
def db_config(config: OpsConfig) -> OpsConfig:
    """Thresholds of seconds instead of the guide's hour, so the test can make connections "old"; and any
    running query counts as long-running (cancel-query's query_long_s rule has its own tests in tests/db)."""
    limits = config.action_limits.model_copy(update={"min_idle_older_than": "1s"})
    thresholds = config.thresholds.model_copy(update={"query_long_s": 0.001})
    return config.model_copy(update={"action_limits": limits, "thresholds": thresholds})


def unreachable_kube() -> KubeWriter:
    """Database actions never touch Kubernetes; a writer pointing nowhere proves it."""
    return KubeWriter(client.ApiClient(client.Configuration(host="http://127.0.0.1:9")))


@pytest.fixture
def db_env(pg_db: str, db_config: OpsConfig) -> ActionEnv:
    return ActionEnv(kube=unreachable_kube(), config=db_config, postgres=PostgresAdmin(pg_db))


def connect(dsn: str, app: str) -> psycopg.Connection:
    conn = psycopg.connect(dsn, autocommit=True, application_name=app, connect_timeout=5)
    conn.execute("SELECT 1")  # leaves the session idle, state_change = now
    return conn


def sessions(dsn: str) -> set[int]:
    """Backend pids of every client session on the server, seen from a separate connection."""
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as probe:
        rows = probe.execute("SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'").fetchall()
    return {row[0] for row in rows}


def alive(conn: psycopg.Connection) -> bool:
    try:
        conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return False
    return True


class Sleeper:
    """A session running `pg_sleep` in a thread, as the guide's long-running query."""

    def __init__(self, dsn: str, seconds: float, app: str = "test-sleeper") -> None:
        self.conn = psycopg.connect(dsn, autocommit=True, application_name=app, connect_timeout=5)
        self.pid = self.conn.info.backend_pid
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(seconds,), daemon=True)
        self._thread.start()

    def again(self, seconds: float) -> None:
        """The same session's next query, after the first one ended."""
        self.join()
        self.error = None
        self._thread = threading.Thread(target=self._run, args=(seconds,), daemon=True)
        self._thread.start()

    def _run(self, seconds: float) -> None:
        try:
            self.conn.execute("SELECT pg_sleep(%s)", (seconds,))
        except BaseException as exc:  # recorded for the test to assert on
            self.error = exc

    def wait_active(self, dsn: str) -> None:
        with psycopg.connect(dsn, autocommit=True) as probe:
            for _ in range(100):
                row = probe.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (self.pid,)).fetchone()
                if row and row[0] == "active":
                    return
                time.sleep(0.05)
        raise AssertionError("pg_sleep never became active")

    def join(self) -> None:
        self._thread.join(timeout=30)

    def close(self) -> None:
        self.conn.cancel_safe()
        self.join()
        self.conn.close()


@pytest.fixture
def sleeper(pg_db: str) -> Iterator[Sleeper]:
    running = Sleeper(pg_db, 30)
    running.wait_active(pg_db)
    try:
        yield running
    finally:
        running.close()


async def test_terminate_idle_ends_exactly_the_old_idle_connections(db_env: ActionEnv, db_config: OpsConfig,
                                                                   pg_db: str, pg_dsn: str,
                                                                   sleeper: Sleeper) -> None:
    action = ACTIONS["terminate-idle"]
    params = action.parse({"older_than": "2s"}, db_config)
    target = db_config.target("data-processor")
    with ExitStack() as stack:
        old = [stack.enter_context(connect(pg_db, f"old-{i}")) for i in range(3)]
        elsewhere = stack.enter_context(connect(pg_dsn, "other-database"))  # idle and old, other database
        time.sleep(2.5)  # what makes them "older than 2s"
        old_pids = {c.info.backend_pid for c in old}

        preview = await action.preview(db_env, target, params)
        assert preview.blocked is None
        assert preview.summary.startswith("3 connections to ") and "would be terminated" in preview.summary
        assert preview.summary.endswith("(all applications, not only data-processor)")  # the database is shared
        assert {int(line.split()[1]) for line in preview.changes} == old_pids
        assert old_pids <= sessions(pg_dsn)  # previewing terminated nothing
        assert changed_keys(preview.state, await action.fingerprint(db_env, target, params)) == []

        fresh = stack.enter_context(connect(pg_db, "fresh"))  # idle, but not for long enough
        outcome = await action.execute(db_env, target, params)
        assert {int(line.split()[1]) for line in outcome.detail} == old_pids
        assert not any(alive(c) for c in old)
        assert alive(fresh) and alive(elsewhere)
        assert sleeper.error is None and sleeper.conn.info.backend_pid == sleeper.pid  # active query untouched


def test_terminate_idle_threshold_has_a_floor(config: OpsConfig) -> None:
    with pytest.raises(ActionError, match="below the allowed minimum 5m"):
        ACTIONS["terminate-idle"].parse({"older_than": "30s"}, config)
    assert ACTIONS["terminate-idle"].parse({}, config).older_than_s == 3600  # the guide's hour


async def test_terminate_idle_in_dry_run_mode_terminates_nothing(db_env: ActionEnv, db_config: OpsConfig,
                                                                 pg_db: str) -> None:
    action = ACTIONS["terminate-idle"]
    with connect(pg_db, "old") as conn:
        time.sleep(1.5)
        outcome = await action.execute(replace(db_env, dry_run=True), db_config.target("data-processor"),
                                       action.parse({"older_than": "1s"}, db_config))
        assert outcome.dry_run and str(conn.info.backend_pid) in " ".join(outcome.detail)
        assert alive(conn)


async def test_cancel_query_cancels_a_running_pg_sleep(db_env: ActionEnv, db_config: OpsConfig,
                                                       sleeper: Sleeper) -> None:
    action = ACTIONS["cancel-query"]
    params = action.parse({"pid": str(sleeper.pid)}, db_config)
    target = db_config.target("data-processor")
    preview = await action.preview(db_env, target, params)
    assert preview.blocked is None and "pg_sleep" in preview.changes[0]
    assert preview.summary.startswith(f"The query pid {sleeper.pid} has been running for ")
    assert "(application test-sleeper, user " in preview.summary and preview.summary.endswith(") would be cancelled")
    assert preview.state["pid"] == str(sleeper.pid) and preview.state["query_start"]

    outcome = await action.execute(db_env, target, params)
    sleeper.join()
    assert outcome.ok and isinstance(sleeper.error, psycopg.errors.QueryCanceled)
    assert alive(sleeper.conn)  # the session survives, only its statement was cancelled
    assert changed_keys(preview.state, await action.fingerprint(db_env, target, params)) == ["query_start"]

    again = await action.execute(db_env, target, params)
    assert again.ok and "no longer running" in again.summary


async def test_cancel_query_refuses_other_databases_idle_sessions_and_unknown_pids(
        db_env: ActionEnv, db_config: OpsConfig, pg_db: str, pg_dsn: str) -> None:
    action = ACTIONS["cancel-query"]
    target = db_config.target("data-processor")
    other = Sleeper(pg_dsn, 30)  # running, but in another database
    try:
        other.wait_active(pg_dsn)
        refused = await action.preview(db_env, target, action.parse({"pid": str(other.pid)}, db_config))
        assert refused.blocked and "belongs to database postgres" in refused.blocked
        with pytest.raises(ActionError, match="belongs to database"):
            await action.execute(db_env, target, action.parse({"pid": str(other.pid)}, db_config))
        assert other.error is None
    finally:
        other.close()
    with connect(pg_db, "idle") as idle:
        blocked = await action.preview(db_env, target, action.parse({"pid": str(idle.info.backend_pid)}, db_config))
        assert blocked.blocked and "not running a query" in blocked.blocked
    unknown = await action.preview(db_env, target, action.parse({"pid": "2147483000"}, db_config))
    assert unknown.blocked and "no session" in unknown.blocked


async def test_database_actions_without_a_database_are_blocked(config: OpsConfig) -> None:
    env = ActionEnv(kube=unreachable_kube(), config=config)
    for name, raw in (("terminate-idle", {}), ("cancel-query", {"pid": "42"})):
        action = ACTIONS[name]
        preview = await action.preview(env, config.target("data-processor"), action.parse(raw, config))
        assert preview.blocked and "TARGET_DATABASE_URL" in preview.blocked


async def test_terminate_idle_ends_only_the_previewed_sessions_and_never_opsbot_ones(
        db_env: ActionEnv, db_config: OpsConfig, pg_db: str) -> None:
    action = ACTIONS["terminate-idle"]
    target = db_config.target("data-processor")
    raw = {"older_than": "1s"}
    with ExitStack() as stack:
        shown = stack.enter_context(connect(pg_db, "shown"))
        bots = stack.enter_context(connect(pg_db, "opsbot-diagnosis"))  # another opsbot process' session
        time.sleep(1.5)
        preview = await action.preview(db_env, target, action.parse(raw, db_config))
        assert preview.pinned == {"pids": str(shown.info.backend_pid), "older_than": "1s"}
        late = stack.enter_context(connect(pg_db, "late"))  # idle and old by execution, but nobody saw it
        time.sleep(1.5)
        stored = action.parse({**raw, **preview.pinned}, db_config)  # what the approvals layer stores
        outcome = await action.execute(db_env, target, stored)
        assert [int(line.split()[1]) for line in outcome.detail] == [shown.info.backend_pid]
        assert not alive(shown) and alive(late) and alive(bots)


async def test_cancel_query_never_cancels_the_sessions_next_query(db_env: ActionEnv, db_config: OpsConfig,
                                                                  pg_db: str) -> None:
    action = ACTIONS["cancel-query"]
    target = db_config.target("data-processor")
    running = Sleeper(pg_db, 30)
    try:
        running.wait_active(pg_db)
        preview = await action.preview(db_env, target, action.parse({"pid": str(running.pid)}, db_config))
        assert preview.pinned["query_start"] == preview.state["query_start"] != ""
        running.conn.cancel_safe()  # the previewed query ends on its own ...
        running.again(30)  # ... and the session starts its next one
        time.sleep(0.1)
        running.wait_active(pg_db)
        stored = action.parse({"pid": str(running.pid), **preview.pinned}, db_config)
        outcome = await action.execute(db_env, target, stored)
        assert outcome.ok and "no longer running the previewed query" in outcome.summary
        time.sleep(0.3)
        assert running.error is None  # the next query still runs
    finally:
        running.close()


async def test_cancel_query_refuses_opsbot_sessions(db_env: ActionEnv, db_config: OpsConfig, pg_db: str) -> None:
    action = ACTIONS["cancel-query"]
    target = db_config.target("data-processor")
    bots = Sleeper(pg_db, 30, app="opsbot-scheduler")
    try:
        bots.wait_active(pg_db)
        params = action.parse({"pid": str(bots.pid)}, db_config)
        preview = await action.preview(db_env, target, params)
        assert preview.blocked and "the bot's own session" in preview.blocked
        with pytest.raises(ActionError, match="own session"):
            await action.execute(db_env, target, params)
        assert bots.error is None
    finally:
        bots.close()


def test_pinned_params_are_validated(db_config: OpsConfig) -> None:
    with pytest.raises(ActionError, match="pids must be"):
        ACTIONS["terminate-idle"].parse({"older_than": "1s", "pids": "12,x"}, db_config)
    with pytest.raises(ActionError, match="query_start"):
        ACTIONS["cancel-query"].parse({"pid": "12", "query_start": "yesterday"}, db_config)


async def test_cancel_query_preview_masks_every_literal(db_env: ActionEnv, db_config: OpsConfig, pg_db: str) -> None:
    conn = psycopg.connect(pg_db, autocommit=True, application_name="report", connect_timeout=5)
    failed: list[BaseException] = []

    def run() -> None:
        try:
            conn.execute("SELECT pg_sleep(30), $tag$s3cr3t-token$tag$ AS t, 4111111111111111 AS card, 'ann@x.io'")
        except psycopg.Error as exc:
            failed.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        pid = conn.info.backend_pid
        with psycopg.connect(pg_db, autocommit=True) as probe:
            for _ in range(100):
                row = probe.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
                if row and row[0] == "active":
                    break
                time.sleep(0.05)
        action = ACTIONS["cancel-query"]
        preview = await action.preview(db_env, db_config.target("data-processor"),
                                       action.parse({"pid": str(pid)}, db_config))
        shown = " ".join(preview.changes)
        assert "pg_sleep" in shown
        assert "s3cr3t" not in shown and "4111111111111111" not in shown and "ann@x.io" not in shown
    finally:
        conn.cancel_safe()
        thread.join(30)
        conn.close()


async def test_terminate_idle_pins_the_default_rule_it_previewed(db_env: ActionEnv, db_config: OpsConfig) -> None:
    action = ACTIONS["terminate-idle"]
    preview = await action.preview(db_env, db_config.target("data-processor"), action.parse({}, db_config))
    assert preview.pinned["older_than"] == db_config.action_limits.idle_older_than  # shown and run as previewed
