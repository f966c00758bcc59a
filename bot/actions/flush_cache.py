"""`flush-cache`: the guide's `redis-cli FLUSHDB` on the platform cache (CACHE_REDIS_URL), only the DB
index configured there; never FLUSHALL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.actions.base import ActionEnv, ActionError, Outcome, Preview, Risk, Role
from bot.actions.common import dry_run_outcome
from bot.actions.params import only
from bot.config import OpsConfig
from bot.model import Symptom, Target
from bot.sources.cache_admin import OWN_DATABASE

NOT_CONFIGURED = "CACHE_REDIS_URL is not configured: the bot has no access to the platform cache"


def _keys(count: int) -> str:
    return "1 key" if count == 1 else f"{count} keys"


@dataclass(frozen=True)
class FlushParams:
    pass


class FlushCache:
    name = "flush-cache"
    title = "Flush the platform cache"
    risk = Risk.HIGH
    default_role: Role = "admin"
    verify_symptom: Symptom | None = Symptom.HIGH_LATENCY

    def parse(self, raw: Mapping[str, str], config: OpsConfig) -> FlushParams:
        only(raw, (), self.name)
        return FlushParams()

    async def preview(self, env: ActionEnv, target: Target, params: FlushParams) -> Preview:
        if env.cache is None:
            return Preview(summary="Cannot flush the cache", blocked=NOT_CONFIGURED)
        if env.cache.own_database:
            return Preview(summary="Cannot flush the cache", blocked=OWN_DATABASE)
        info = await env.cache.info()
        return Preview(
            summary=f"FLUSHDB on the platform cache would delete {_keys(info.keys)} (all of cache DB {info.db}, "
                    "for every service; requests would miss the cache until it warms up)",
            changes=(f"redis {info.host} db {info.db}: {info.keys} keys -> 0 (other DBs untouched)",),
            state={"cache": info.host, "db": str(info.db)},
            unchanged=None if info.keys else f"cache DB {info.db} is already empty",
        )

    async def fingerprint(self, env: ActionEnv, target: Target, params: FlushParams) -> Mapping[str, str]:
        if env.cache is None:
            raise ActionError(NOT_CONFIGURED)
        info = await env.cache.info()
        return {"cache": info.host, "db": str(info.db)}  # the key count churns; where it flushes must not

    async def execute(self, env: ActionEnv, target: Target, params: FlushParams) -> Outcome:
        if env.cache is None:
            raise ActionError(NOT_CONFIGURED)
        if env.dry_run:
            return dry_run_outcome(await self.preview(env, target, params))
        info = await env.cache.flush()
        return Outcome(ok=True, summary=f"Flushed {info.keys} key(s) from cache DB {info.db}",
                       detail=(f"redis {info.host} db {info.db} FLUSHDB",))

    async def settled(self, env: ActionEnv, target: Target, params: FlushParams) -> bool:
        return True
