"""A malformed connection string never reaches a user or a log: the drivers' parse errors quote it
(`invalid percent-encoded token: "s3cr3t%zz"`, `Port could not be cast to integer value as 's3cr3t'`), so
every source and store answers with a fixed message naming the setting instead, and blanks the string and
its password out of any other error."""

from __future__ import annotations

import logging

import pytest
from kubernetes import client

from bot.actions import ACTIONS
from bot.actions.base import ActionEnv
from bot.approvals import Approvals, ProposalRefused
from bot.config import load_ops_config
from bot.sources.cache import CacheSource
from bot.sources.cache_admin import CacheAdmin, same_database
from bot.sources.conninfo import ConnectionSetting
from bot.sources.errors import SourceError
from bot.sources.kube_writes import KubeWriter
from bot.sources.postgres import PostgresSource
from bot.sources.postgres_admin import PostgresAdmin
from bot.store.approvals import ApprovalStoreError
from bot.store.approvals_memory import MemoryApprovalStore
from bot.store.approvals_pg import PostgresApprovalStore
from bot.store.coordination import CoordinationError, MemoryCoordination, RedisCoordination
from bot.store.leader_lock import LeaderLockError, PostgresLeaderLock

SECRET = "s3cr3t"
# Each one makes the driver's parser fail with a message quoting the password.
BAD_DSNS = (f"postgresql://u:{SECRET}%zz@localhost/db", f"u:{SECRET}@x")
BAD_REDIS_URL = f"redis://default:{SECRET}"  # no host: redis-py reads the password as the port


def _shown(text: str, setting: str) -> None:
    assert SECRET not in text, text
    assert setting in text and "not a valid" in text, text


@pytest.mark.parametrize("dsn", BAD_DSNS)
async def test_postgres_admin_names_the_setting_not_its_value(dsn: str) -> None:
    with pytest.raises(SourceError) as info:
        await PostgresAdmin(dsn).database()
    _shown(str(info.value), "TARGET_DATABASE_URL")


@pytest.mark.parametrize("dsn", BAD_DSNS)
async def test_the_refusal_shown_for_a_database_action_holds_no_password(dsn: str) -> None:
    # What Slack shows for `/diagnose act terminate-idle`: the proposal's refusal text.
    config = load_ops_config(None)
    kube = KubeWriter(client.ApiClient(client.Configuration(host="http://127.0.0.1:9")))
    env = ActionEnv(kube=kube, config=config, postgres=PostgresAdmin(dsn))
    approvals = Approvals(MemoryApprovalStore(), MemoryCoordination(), config, dict(ACTIONS), env)
    with pytest.raises(ProposalRefused) as info:
        await approvals.propose("terminate-idle", "data-processor", {}, "U0ADMIN")
    _shown(str(info.value), "TARGET_DATABASE_URL")


@pytest.mark.parametrize("dsn", BAD_DSNS)
async def test_postgres_source_names_the_setting_not_its_value(dsn: str) -> None:
    with pytest.raises(SourceError) as info:
        await PostgresSource(dsn).long_queries(5.0)
    _shown(str(info.value), "TARGET_DATABASE_URL")


@pytest.mark.parametrize("dsn", BAD_DSNS)
async def test_approvals_store_names_the_setting_and_logs_no_password(
        dsn: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = PostgresApprovalStore(dsn)
    try:
        with pytest.raises(ApprovalStoreError) as info:
            await store.open()
        _shown(str(info.value), "DATABASE_URL")
    finally:
        await store.aclose()
    assert SECRET not in caplog.text


@pytest.mark.parametrize("dsn", BAD_DSNS)
async def test_leader_lock_names_the_setting_not_its_value(dsn: str) -> None:
    with pytest.raises(LeaderLockError) as info:
        await PostgresLeaderLock(dsn).acquire()
    _shown(str(info.value), "DATABASE_URL")


async def test_cache_source_names_the_setting_not_its_value() -> None:
    source = CacheSource(BAD_REDIS_URL)  # constructing it must not raise the quoting ValueError either
    with pytest.raises(SourceError) as info:
        await source.stats()
    _shown(str(info.value), "CACHE_REDIS_URL")
    assert await source.ping() is False
    await source.aclose()


async def test_cache_admin_names_the_setting_not_its_value() -> None:
    admin = CacheAdmin(BAD_REDIS_URL, bot_url="redis://localhost:6379/0")
    assert admin.own_database is False and same_database(BAD_REDIS_URL, "redis://localhost:6379/0") is False
    for call in (admin.info, admin.flush):
        with pytest.raises(SourceError) as info:
            await call()
        _shown(str(info.value), "CACHE_REDIS_URL")


def test_coordination_names_the_setting_not_its_value() -> None:
    with pytest.raises(CoordinationError) as info:
        RedisCoordination(BAD_REDIS_URL)
    _shown(str(info.value), "REDIS_URL")
    assert info.value.__cause__ is None and info.value.__context__ is None  # no chained driver message


def test_other_errors_keep_their_first_line_with_the_secrets_blanked() -> None:
    dsn = f"postgresql://app:{SECRET}%21@db.internal/orders"
    setting = ConnectionSetting.postgres("TARGET_DATABASE_URL", dsn)
    assert setting.malformed is None
    quoted = Exception(f'connection to "{dsn}" failed: password "{SECRET}!" rejected ({SECRET}%21)\nDETAIL: more')
    assert setting.reason(quoted) == 'connection to "***" failed: password "***" rejected (***)'
    assert ConnectionSetting.redis("REDIS_URL", f"redis://:{SECRET}@cache:6379/0").reason(
        Exception(f"AUTH {SECRET} failed")) == "AUTH *** failed"
    assert setting.reason(Exception("")) == "Exception"


def test_a_percent_encoded_password_is_blanked_as_written_and_decoded() -> None:
    for setting in (ConnectionSetting.redis("REDIS_URL", f"redis://:{SECRET}%40x@cache:6379/0"),
                    ConnectionSetting.redis("CACHE_REDIS_URL", f"redis://app:{SECRET}%40x@cache/0"),
                    ConnectionSetting.postgres("DATABASE_URL", f"postgresql://app:{SECRET}%40x@db/orders")):
        assert setting.malformed is None
        quoted = Exception(f"AUTH {SECRET}@x failed ({SECRET}%40x)")
        assert setting.reason(quoted) == "AUTH *** failed (***)", setting.name


def test_an_empty_password_blanks_nothing() -> None:
    setting = ConnectionSetting.postgres("TARGET_DATABASE_URL", "postgresql://app:@db.internal/orders")
    assert setting.reason(Exception("server closed the connection")) == "server closed the connection"


async def test_a_valid_dsn_still_connects(pg_db: str) -> None:
    assert (await PostgresAdmin(pg_db).database()).startswith("test_")  # the fresh database pg_db made
