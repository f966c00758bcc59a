"""flush-cache against a real Redis: FLUSHDB of the configured DB only; other DBs on the server survive."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
import redis.asyncio as aioredis
from kubernetes import client

from bot.actions import ACTIONS
from bot.actions.base import ActionEnv
from bot.config import OpsConfig
from bot.sources.cache_admin import CacheAdmin, _info, redis_location
from bot.sources.errors import SourceError
from bot.sources.kube_writes import KubeWriter
from tests.e2e.botproc import opsbot_executable

CACHE_DB = 5  # the platform cache in this test; not the bot's own DB 0
OTHER_DB = 6


def with_db(url: str, db: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


@pytest.fixture
def cache_url(redis_url: str) -> Iterator[str]:
    """DB 5 holds 7 cache keys, DB 6 holds 2 keys that must survive; both emptied afterwards."""
    clients = {db: redis.Redis.from_url(with_db(redis_url, db), socket_timeout=5) for db in (CACHE_DB, OTHER_DB)}
    try:
        for db, count in ((CACHE_DB, 7), (OTHER_DB, 2)):
            clients[db].flushdb()
            clients[db].mset({f"key:{i}": i for i in range(count)})
        yield with_db(redis_url, CACHE_DB)
    finally:
        for c in clients.values():
            c.flushdb()
            c.close()


def keys(url: str, db: int) -> int:
    with redis.Redis.from_url(with_db(url, db), socket_timeout=5) as c:
        return int(c.dbsize())


@pytest.fixture
def cache_env(cache_url: str, config: OpsConfig) -> ActionEnv:
    nowhere = KubeWriter(client.ApiClient(client.Configuration(host="http://127.0.0.1:9")))
    return ActionEnv(kube=nowhere, config=config, cache=CacheAdmin(cache_url))


async def test_flush_cache_flushes_only_the_configured_db(cache_env: ActionEnv, config: OpsConfig,
                                                          cache_url: str) -> None:
    action = ACTIONS["flush-cache"]
    params = action.parse({}, config)
    target = config.target("api-gateway")
    preview = await action.preview(cache_env, target, params)
    assert "would delete 7 keys (all of cache DB 5, for every service;" in preview.summary
    assert preview.state["db"] == "5"
    assert keys(cache_url, CACHE_DB) == 7  # previewing flushed nothing

    outcome = await action.execute(cache_env, target, params)
    assert outcome.ok and "Flushed 7 key(s)" in outcome.summary
    assert keys(cache_url, CACHE_DB) == 0
    assert keys(cache_url, OTHER_DB) == 2

    again = await action.execute(cache_env, target, params)
    assert again.ok and "Flushed 0 key(s)" in again.summary and keys(cache_url, OTHER_DB) == 2


async def test_flush_cache_in_dry_run_mode_flushes_nothing(cache_env: ActionEnv, config: OpsConfig,
                                                           cache_url: str) -> None:
    action = ACTIONS["flush-cache"]
    outcome = await action.execute(replace(cache_env, dry_run=True), config.target("api-gateway"),
                                   action.parse({}, config))
    assert outcome.dry_run and "7 keys" in outcome.summary
    assert keys(cache_url, CACHE_DB) == 7


async def test_flush_cache_without_a_cache_is_blocked(config: OpsConfig) -> None:
    nowhere = KubeWriter(client.ApiClient(client.Configuration(host="http://127.0.0.1:9")))
    action = ACTIONS["flush-cache"]
    preview = await action.preview(ActionEnv(kube=nowhere, config=config), config.target("api-gateway"),
                                   action.parse({}, config))
    assert preview.blocked and "CACHE_REDIS_URL" in preview.blocked


async def test_flush_cache_refuses_the_bots_own_redis_database(config: OpsConfig, cache_url: str) -> None:
    # REDIS_URL spelled differently (127.0.0.1 vs localhost, a password) still names the same server and DB.
    parts = urlsplit(cache_url)
    same = urlunsplit(parts._replace(netloc=f":secret@{parts.netloc.replace('localhost', '127.0.0.1')}"))
    nowhere = KubeWriter(client.ApiClient(client.Configuration(host="http://127.0.0.1:9")))
    env = ActionEnv(kube=nowhere, config=config, cache=CacheAdmin(cache_url, bot_url=same))
    action, target = ACTIONS["flush-cache"], config.target("api-gateway")
    preview = await action.preview(env, target, action.parse({}, config))
    assert preview.blocked and "REDIS_URL" in preview.blocked and "secret" not in preview.blocked
    with pytest.raises(SourceError, match="same Redis database"):
        await action.execute(env, target, action.parse({}, config))
    assert keys(cache_url, CACHE_DB) == 7
    elsewhere = ActionEnv(kube=nowhere, config=config, cache=CacheAdmin(cache_url, bot_url=with_db(cache_url, 0)))
    assert not (await action.preview(elsewhere, target, action.parse({}, config))).blocked


def _check_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPSBOT_", "REDIS", "CACHE_"))}
    return subprocess.run([opsbot_executable(), "check-config"], capture_output=True, text=True, timeout=120,
                          env={**clean, **env}, check=False)


def test_check_config_fails_when_the_cache_is_the_bots_own_database(redis_url: str) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "DATABASE_URL": "postgresql://db/x"}
    clash = _check_config({**env, "REDIS_URL": with_db(redis_url, 3), "CACHE_REDIS_URL": with_db(redis_url, 3)})
    assert clash.returncode == 1 and "CACHE_REDIS_URL" in clash.stderr and "REDIS_URL" in clash.stderr
    apart = _check_config({**env, "REDIS_URL": with_db(redis_url, 0), "CACHE_REDIS_URL": with_db(redis_url, 3)})
    assert apart.returncode == 0, apart.stderr


def test_flush_preview_names_a_unix_socket_cache() -> None:
    assert redis_location("unix:///run/redis/cache.sock?db=4") == ("unix:/run/redis/cache.sock", 4)
    assert _info(aioredis.from_url("unix:///run/redis/cache.sock?db=4"), 3).host == "unix:/run/redis/cache.sock"
    assert redis_location("redis://:pw@LOCALHOST:6380/2") == redis_location("redis://127.0.0.1:6380/2")
