"""`cancel-query pid=N`: pg_cancel_backend of one long-running query of the platform database. The session
survives; only its current statement is cancelled. Sessions of other databases and the bot's own are
refused, and so is a query that has not yet run longer than `thresholds.query_long_s` (the threshold of
the long_queries check that points at it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.actions.base import ActionEnv, ActionError, Outcome, Preview, Risk, Role
from bot.actions.common import dry_run_outcome
from bot.actions.params import integer, only
from bot.actions.terminate_idle import NOT_CONFIGURED
from bot.config import OpsConfig
from bot.model import Symptom, Target
from bot.sources.admin_records import BackendQuery
from bot.sources.postgres_admin import PostgresAdmin

MAX_QUERY_CHARS = 300


@dataclass(frozen=True)
class CancelQueryParams:
    pid: int
    query_start: datetime | None = None  # the previewed query's start; None before a preview pinned it


def _query_start(raw: Mapping[str, str], action: str) -> datetime | None:
    text = raw.get("query_start", "").strip()
    if not text:
        return None
    try:
        started = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ActionError(f"{action}: query_start must be an ISO timestamp, got {text[:40]!r}") from exc
    if started.tzinfo is None:
        raise ActionError(f"{action}: query_start needs a time zone")
    return started


def _shown(query: str) -> str:
    """The statement on one line, clipped; its literals were already masked by the source."""
    text = " ".join(query.split())
    return text if len(text) <= MAX_QUERY_CHARS else text[:MAX_QUERY_CHARS] + "…"


def _refusal(backend: BackendQuery | None, pid: int, database: str) -> str | None:
    if backend is None:
        return f"no session with pid {pid}"
    if backend.own_session or (backend.application or "").startswith("opsbot"):
        return f"pid {pid} is the bot's own session"
    if backend.database != database:
        return f"pid {pid} belongs to database {backend.database or '(none)'}, not {database}"
    return None


def _too_recent(backend: BackendQuery, long_s: float) -> str | None:
    """The action is for the long-running query a diagnosis found, not any active one: a query is long by
    the same rule as the long_queries check (running for more than query_long_s)."""
    running = backend.duration_s or 0.0
    if running > long_s:
        return None
    return (f"pid {backend.pid}'s query has run for only {running:.1f} s; cancel-query cancels only queries "
            f"running longer than thresholds.query_long_s ({long_s:g} s)")


def _whose(backend: BackendQuery) -> str:
    """The platform database is shared: name the application the query belongs to, whichever service asked."""
    return f"application {backend.application or '(no application_name)'}, user {backend.user or '?'}"


def _state(backend: BackendQuery | None) -> dict[str, str]:
    if backend is None:
        return {"pid": "", "query_start": ""}
    started = backend.query_start.isoformat() if backend.query_start else ""
    return {"pid": str(backend.pid), "query_start": started}


def _admin(env: ActionEnv) -> PostgresAdmin:
    if env.postgres is None:
        raise ActionError(NOT_CONFIGURED)
    return env.postgres


class CancelQuery:
    name = "cancel-query"
    title = "Cancel a long-running query"
    risk = Risk.MEDIUM
    default_role: Role = "admin"
    verify_symptom: Symptom | None = Symptom.SLOW_QUERIES
    verify_check = "long_queries"  # what a cancel changes: the query is no longer running

    def parse(self, raw: Mapping[str, str], config: OpsConfig) -> CancelQueryParams:
        only(raw, ("pid", "query_start"), self.name)
        pid = integer(raw, "pid", low=1, high=2**31 - 1, action=self.name)
        return CancelQueryParams(pid, _query_start(raw, self.name))

    async def preview(self, env: ActionEnv, target: Target, params: CancelQueryParams) -> Preview:
        if env.postgres is None:
            return Preview(summary="Cannot cancel the query", blocked=NOT_CONFIGURED)
        database = await env.postgres.database()
        backend = await env.postgres.backend(params.pid)
        state = _state(backend)
        refusal = _refusal(backend, params.pid, database)
        if refusal is None and backend is not None and backend.state != "active":
            refusal = f"pid {params.pid} is not running a query (state {backend.state})"
        if refusal is None and backend is not None and backend.query_start is None:
            refusal = f"pid {params.pid}: its query's start time is not visible to the bot"
        if refusal is None and backend is not None:
            refusal = _too_recent(backend, env.config.thresholds.query_long_s)
        if refusal or backend is None:
            return Preview(summary=f"Cannot cancel the query of pid {params.pid}", state=state, blocked=refusal)
        return Preview(
            summary=f"The query pid {params.pid} has been running for {backend.duration_s or 0:.1f} s "
                    f"({_whose(backend)}) would be cancelled",
            changes=(f"query: {_shown(backend.query)}", "the session stays connected; its transaction aborts"),
            state=state,
            pinned={"query_start": state["query_start"]},
        )

    async def fingerprint(self, env: ActionEnv, target: Target, params: CancelQueryParams) -> Mapping[str, str]:
        return _state(await _admin(env).backend(params.pid))

    async def execute(self, env: ActionEnv, target: Target, params: CancelQueryParams) -> Outcome:
        admin = _admin(env)
        backend = await admin.backend(params.pid)
        refusal = _refusal(backend, params.pid, await admin.database())
        if refusal:
            raise ActionError(refusal)
        if env.dry_run:
            return dry_run_outcome(await self.preview(env, target, params))
        started = params.query_start or (backend.query_start if backend is not None else None)
        if backend is not None and backend.state == "active" and backend.query_start == started:
            # Checked again on the query about to be cancelled (an execute without a preview's pin, too).
            too_recent = _too_recent(backend, env.config.thresholds.query_long_s)
            if too_recent:
                raise ActionError(too_recent)
        if started is None or not await admin.cancel(params.pid, started):
            # Finished (or already cancelled) since: a retried execute is a no-op.
            return Outcome(ok=True, summary=f"pid {params.pid} was no longer running the previewed query; "
                                            "nothing cancelled")
        query = _shown(backend.query) if backend else ""
        return Outcome(ok=True, summary=f"Cancelled the query of pid {params.pid}", detail=(f"query: {query}",))

    async def settled(self, env: ActionEnv, target: Target, params: CancelQueryParams) -> bool:
        return True
