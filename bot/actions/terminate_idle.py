"""`terminate-idle [older_than=1h]`: the guide's "kill idle connections older than 1 hour", scoped to the
platform database and never the bot's own session. The SQL re-checks idleness at the moment it signals,
so a connection that got busy since the preview is left alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.actions.base import ActionEnv, ActionError, Outcome, Preview, Risk, Role
from bot.actions.common import dry_run_outcome
from bot.actions.params import duration_s, only
from bot.config import OpsConfig
from bot.model import Symptom, Target
from bot.sources.admin_records import IdleConnection
from bot.sources.postgres_admin import PostgresAdmin

NOT_CONFIGURED = "TARGET_DATABASE_URL is not configured: the bot has no access to the platform database"
MAX_ROWS_SHOWN = 20


@dataclass(frozen=True)
class TerminateIdleParams:
    older_than_s: int
    older_than: str


def _row(conn: IdleConnection) -> str:
    minutes, seconds = divmod(int(conn.idle_s), 60)
    return (f"pid {conn.pid}  user {conn.user or '?'}  app {conn.application or '-'}  "
            f"client {conn.client or 'local'}  idle {minutes}m{seconds:02d}s")


def _rows(conns: list[IdleConnection]) -> tuple[str, ...]:
    shown = tuple(_row(c) for c in conns[:MAX_ROWS_SHOWN])
    more = len(conns) - MAX_ROWS_SHOWN
    return shown + ((f"... and {more} more",) if more > 0 else ())


def _admin(env: ActionEnv) -> PostgresAdmin:
    if env.postgres is None:
        raise ActionError(NOT_CONFIGURED)
    return env.postgres


class TerminateIdle:
    name = "terminate-idle"
    title = "Terminate idle database connections"
    risk = Risk.HIGH
    default_role: Role = "admin"
    verify_symptom: Symptom | None = Symptom.DB_CONNECTION_EXHAUSTION

    def parse(self, raw: Mapping[str, str], config: OpsConfig) -> TerminateIdleParams:
        only(raw, ("older_than",), self.name)
        limits = config.action_limits
        text = raw.get("older_than", "").strip() or limits.idle_older_than
        try:
            seconds = duration_s(text)
        except ActionError as exc:
            raise ActionError(f"{self.name}: older_than: {exc}") from exc
        if seconds < duration_s(limits.min_idle_older_than):
            raise ActionError(f"{self.name}: older_than={text} is below the allowed minimum "
                              f"{limits.min_idle_older_than} (ops config action_limits.min_idle_older_than)")
        return TerminateIdleParams(older_than_s=seconds, older_than=text)

    async def preview(self, env: ActionEnv, target: Target, params: TerminateIdleParams) -> Preview:
        if env.postgres is None:
            return Preview(summary="Cannot terminate idle connections", blocked=NOT_CONFIGURED)
        database = await env.postgres.database()
        conns = await env.postgres.idle_connections(params.older_than_s)
        return Preview(
            summary=f"Terminate {len(conns)} connection(s) to {database} idle for more than {params.older_than}",
            changes=_rows(conns),
            state={"database": database, "older_than_s": str(params.older_than_s)},
        )

    async def fingerprint(self, env: ActionEnv, target: Target, params: TerminateIdleParams) -> Mapping[str, str]:
        # The idle set churns by the second; what must not change is where and by which rule.
        return {"database": await _admin(env).database(), "older_than_s": str(params.older_than_s)}

    async def execute(self, env: ActionEnv, target: Target, params: TerminateIdleParams) -> Outcome:
        admin = _admin(env)
        if env.dry_run:
            return dry_run_outcome(await self.preview(env, target, params))
        ended = await admin.terminate_idle(params.older_than_s)
        return Outcome(ok=True, summary=f"Terminated {len(ended)} idle connection(s) older than {params.older_than}",
                       detail=_rows(ended))

    async def settled(self, env: ActionEnv, target: Target, params: TerminateIdleParams) -> bool:
        return True
