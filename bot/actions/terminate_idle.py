"""`terminate-idle [older_than=1h]`: the guide's "kill idle connections older than 1 hour", scoped to the
platform database and never an opsbot session. The preview's pids are stored with the request (`pids`),
and executing signals only those, re-checking idleness and age at that moment: a connection that got busy
since, or one that became idle after the approver looked, is left alone."""

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
MAX_PIDS = 2000  # more idle sessions than this in one database is a different problem than idle cleanup


@dataclass(frozen=True)
class TerminateIdleParams:
    older_than_s: int
    older_than: str
    pids: tuple[int, ...] | None = None  # the previewed sessions; None before a preview pinned them


def _pids(text: str, action: str) -> tuple[int, ...]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if len(parts) > MAX_PIDS or not all(part.isdigit() and len(part) <= 10 for part in parts):
        raise ActionError(f"{action}: pids must be a comma-separated list of at most {MAX_PIDS} process ids")
    return tuple(int(part) for part in parts)


def _count(n: int) -> str:
    return "1 connection" if n == 1 else f"{n} connections"  # "0 connections", as people say it


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
        only(raw, ("older_than", "pids"), self.name)
        limits = config.action_limits
        text = raw.get("older_than", "").strip() or limits.idle_older_than
        try:
            seconds = duration_s(text)
        except ActionError as exc:
            raise ActionError(f"{self.name}: older_than: {exc}") from exc
        if seconds < duration_s(limits.min_idle_older_than):
            raise ActionError(f"{self.name}: older_than={text} is below the allowed minimum "
                              f"{limits.min_idle_older_than} (ops config action_limits.min_idle_older_than)")
        pids = _pids(raw["pids"], self.name) if "pids" in raw else None
        return TerminateIdleParams(older_than_s=seconds, older_than=text, pids=pids)

    async def preview(self, env: ActionEnv, target: Target, params: TerminateIdleParams) -> Preview:
        if env.postgres is None:
            return Preview(summary="Cannot terminate idle connections", blocked=NOT_CONFIGURED)
        database = await env.postgres.database()
        conns = await env.postgres.idle_connections(params.older_than_s)
        if params.pids is not None:  # a stored request: only what its approver was shown
            conns = [conn for conn in conns if conn.pid in params.pids]
        if len(conns) > MAX_PIDS:
            return Preview(summary="Cannot terminate idle connections",
                           blocked=f"{len(conns)} idle connections: more than {MAX_PIDS}, handle them by hand")
        return Preview(
            summary=f"{_count(len(conns))} to {database} idle for more than {params.older_than} would be "
                    f"terminated (all applications, not only {target.service})",
            changes=_rows(conns),
            state={"database": database, "older_than_s": str(params.older_than_s)},
            # The rule too: approving runs what was previewed even if the configured default changes meanwhile.
            pinned={"pids": ",".join(str(conn.pid) for conn in conns), "older_than": params.older_than},
            unchanged=None if conns else f"no connection to {database} has been idle for more than {params.older_than}",
        )

    async def fingerprint(self, env: ActionEnv, target: Target, params: TerminateIdleParams) -> Mapping[str, str]:
        # The idle set churns by the second; what must not change is where and by which rule.
        return {"database": await _admin(env).database(), "older_than_s": str(params.older_than_s)}

    async def execute(self, env: ActionEnv, target: Target, params: TerminateIdleParams) -> Outcome:
        admin = _admin(env)
        if env.dry_run:
            return dry_run_outcome(await self.preview(env, target, params))
        pids = params.pids
        if pids is None:  # not proposed first (nothing pinned): exactly what a preview now would list
            pids = tuple(conn.pid for conn in await admin.idle_connections(params.older_than_s))
        ended = await admin.terminate_idle(params.older_than_s, pids)
        return Outcome(ok=True, summary=f"Terminated {len(ended)} idle connection(s) older than {params.older_than}",
                       detail=_rows(ended))

    async def settled(self, env: ActionEnv, target: Target, params: TerminateIdleParams) -> bool:
        return True
