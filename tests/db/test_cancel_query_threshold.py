"""cancel-query cancels one long-running query: a query that has not yet run longer than
thresholds.query_long_s (the long_queries check's threshold) is refused in the preview and again at execute."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest
from kubernetes import client

from bot.actions import ACTIONS
from bot.actions.base import ActionEnv, ActionError
from bot.config import OpsConfig, load_ops_config
from bot.sources.kube_writes import KubeWriter
from bot.sources.postgres_admin import PostgresAdmin
from tests.actions.test_db_actions import Sleeper


def _config(query_long_s: float) -> OpsConfig:
    base = load_ops_config(None)
    return base.model_copy(update={"thresholds": base.thresholds.model_copy(update={"query_long_s": query_long_s})})


def _env(dsn: str, query_long_s: float) -> ActionEnv:
    # Database actions never touch Kubernetes; a writer pointing nowhere proves it.
    kube = KubeWriter(client.ApiClient(client.Configuration(host="http://127.0.0.1:9")))
    return ActionEnv(kube=kube, config=_config(query_long_s), postgres=PostgresAdmin(dsn))


@pytest.fixture
def running(pg_db: str) -> Iterator[Sleeper]:
    """A `pg_sleep(30)` that has started running; closed after the test."""
    sleeper = Sleeper(pg_db, 30)
    try:
        sleeper.wait_active(pg_db)
        yield sleeper
    finally:
        sleeper.close()


async def test_a_query_younger_than_query_long_s_is_refused(pg_db: str, running: Sleeper) -> None:
    env = _env(pg_db, 60.0)
    action = ACTIONS["cancel-query"]
    target = env.config.target("data-processor")
    params = action.parse({"pid": str(running.pid)}, env.config)
    preview = await action.preview(env, target, params)
    assert preview.blocked is not None
    assert "query_long_s (60 s)" in preview.blocked and f"pid {running.pid}" in preview.blocked
    with pytest.raises(ActionError, match="query_long_s"):
        await action.execute(env, target, params)
    await asyncio.sleep(0.2)
    assert running.error is None  # still running: nothing was cancelled


async def test_a_query_older_than_query_long_s_is_cancelled(pg_db: str, running: Sleeper) -> None:
    env = _env(pg_db, 0.5)
    action = ACTIONS["cancel-query"]
    target = env.config.target("data-processor")
    await asyncio.sleep(1.0)
    params = action.parse({"pid": str(running.pid)}, env.config)
    preview = await action.preview(env, target, params)
    assert preview.blocked is None, preview.blocked
    stored = action.parse({"pid": str(running.pid), **preview.pinned}, env.config)
    outcome = await action.execute(env, target, stored)
    running.join()
    assert outcome.ok and isinstance(running.error, psycopg.errors.QueryCanceled)


async def test_execute_checks_the_threshold_again(pg_db: str, running: Sleeper) -> None:
    # Previewed as long under one threshold, executed under a higher one (e.g. the config was changed
    # between proposal and approval): execute refuses on its own check, not only on the preview's.
    env = _env(pg_db, 0.5)
    action = ACTIONS["cancel-query"]
    target = env.config.target("data-processor")
    await asyncio.sleep(1.0)
    preview = await action.preview(env, target, action.parse({"pid": str(running.pid)}, env.config))
    assert preview.blocked is None, preview.blocked
    stored = action.parse({"pid": str(running.pid), **preview.pinned}, env.config)
    with pytest.raises(ActionError, match="query_long_s"):
        await action.execute(replace(env, config=_config(60.0)), target, stored)
    await asyncio.sleep(0.2)
    assert running.error is None
