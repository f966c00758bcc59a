"""Database connections in use vs max_connections: the guide's pool levels (normal ~45/100, warn 85, crit 95)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.checks.base import CheckContext, SourceSet, graded
from bot.checks.db_shared import POSTGRES_NOT_SET, duration, not_configured
from bot.checks.formatting import percent
from bot.model import Cause, Fact, Finding, Proposal, Status
from bot.sources.db_records import AppConnections, ConnectionUsage
from bot.sources.postgres import OutOfConnections

APPS_SHOWN = 5
# Idle connections "are many" when they hold at least half of what is in use: closing them is then
# the guide's quickest relief ("Close idle connections").
IDLE_MANY_SHARE = 0.5
# The guide's procedure closes idle connections older than one hour; younger ones belong to a live pool.
TERMINATE_IDLE_OLDER_THAN = "1h"


@dataclass(frozen=True)
class SlotsRefused:
    """The server would not even let the bot in: every slot it may use is taken."""

    reason: str


class DbPoolCheck:
    """Connections vs max_connections (warn 85 %, crit 95 %), by application_name and state."""

    name = "db_pool"
    title = "Database connections"
    guide_section = "Connection Pool Exhaustion"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> ConnectionUsage | SlotsRefused | None:
        if sources.postgres is None:
            return None
        try:
            return await sources.postgres.connection_usage()
        except OutOfConnections as exc:
            return SlotsRefused(exc.message)

    def assess(self, evidence: ConnectionUsage | SlotsRefused | None, ctx: CheckContext) -> Finding:
        if evidence is None:
            return not_configured(self.name, self.title, self.guide_section, POSTGRES_NOT_SET)
        if isinstance(evidence, SlotsRefused):
            return self._refused(evidence)
        warn, crit = ctx.thresholds.pool_warn, ctx.thresholds.pool_crit
        usage = evidence.usage
        status = graded(usage, warn, crit)
        used = f"{evidence.total} of {evidence.max_connections}"
        summary = (
            f"{used} connections in use ({percent(usage)}; warn at {percent(warn)}, crit at {percent(crit)})."
        )
        if evidence.by_application and status is not Status.OK:
            top = evidence.by_application[0]
            summary += f" Most are held by {top.application} ({top.total})."
        facts: tuple[Fact, ...] = (
            Fact("connections", f"{used} ({percent(usage)})", f"warn {percent(warn)}, crit {percent(crit)}", status),
            Fact("active", str(evidence.by_state.get("active", 0))),
            Fact("idle", str(evidence.idle)),
            Fact("idle in transaction", str(evidence.idle_in_transaction)),
            Fact("reserved for superusers", str(evidence.superuser_reserved)),
        )
        hidden = evidence.by_state.get("unknown", 0)
        if hidden:
            # Counted, but their state is only visible to a role with pg_monitor.
            facts += (Fact("state hidden (grant pg_monitor)", str(hidden)),)
        lines = tuple(_app_line(app) for app in evidence.by_application[:APPS_SHOWN])
        causes = () if status is Status.OK else (_cause(evidence, status, used),)
        return Finding(self.name, self.title, status, summary, facts=facts, evidence=lines, causes=causes,
                       guide_section=self.guide_section)

    def _refused(self, refused: SlotsRefused) -> Finding:
        summary = ("PostgreSQL refused opsbot's own connection: no connection slot is free "
                   "(\"too many clients\"), so the pool is exhausted right now.")
        cause = Cause(
            key="db_pool_exhausted",
            title="Database connection pool exhausted: the server refuses new connections",
            confidence=0.8,
            evidence=(refused.reason,),
            guide_section="Connection Pool Exhaustion",
        )
        return Finding(self.name, self.title, Status.CRIT, summary,
                       facts=(Fact("connections", "all slots taken", None, Status.CRIT),),
                       evidence=(refused.reason,), causes=(cause,), guide_section=self.guide_section)


def _app_line(app: AppConnections) -> str:
    return (
        f"{app.application}: {app.total} (active {app.active}, idle {app.idle}, "
        f"idle in transaction {app.idle_in_transaction})"
    )


def _cause(usage: ConnectionUsage, status: Status, used: str) -> Cause:
    evidence = [f"{used} connections in use ({percent(usage.usage)})"]
    evidence += [_app_line(app) for app in usage.by_application[:3]]
    proposals: tuple[Proposal, ...] = ()
    idle_many = usage.idle >= IDLE_MANY_SHARE * usage.total
    if idle_many and usage.idle_over_hour:
        proposals = (
            Proposal("terminate-idle", {"older_than": TERMINATE_IDLE_OLDER_THAN},
                     f"close {usage.idle_over_hour} connection(s) idle for more than an hour"),
        )
    elif idle_many:
        evidence.append(
            f"{usage.idle} idle connections, the oldest idle for {duration(usage.idle_oldest_s)}: none older "
            "than an hour, so an application pool holds them; lower its pool size or max_overflow"
        )
    return Cause(
        key="db_pool_exhausted",
        title=f"Database connection pool near exhaustion: {used} connections in use",
        confidence=0.7 if status is Status.CRIT else 0.5,
        evidence=tuple(evidence),
        guide_section="Connection Pool Exhaustion",
        proposals=proposals,
    )
