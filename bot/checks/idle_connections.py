"""Idle and idle-in-transaction connections: how many, and how long they have sat."""

from __future__ import annotations

from bot.checks.base import CheckContext, SourceSet
from bot.checks.db_pool import TERMINATE_IDLE_OLDER_THAN
from bot.checks.db_shared import POSTGRES_NOT_SET, duration, not_configured
from bot.checks.formatting import percent
from bot.model import Cause, Fact, Finding, Proposal, Status
from bot.sources.db_records import ConnectionUsage

# Idle connections holding half of max_connections leave little room for a burst, even while the
# total is below the pool's warning level.
IDLE_SHARE_WARN = 0.5


class IdleConnectionsCheck:
    """Idle and idle-in-transaction counts and ages (the guide closes idle connections older than 1 h)."""

    name = "idle_connections"
    title = "Idle database connections"
    guide_section = "Connection Pool Exhaustion"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> ConnectionUsage | None:
        if sources.postgres is None:
            return None
        return await sources.postgres.connection_usage()

    def assess(self, evidence: ConnectionUsage | None, ctx: CheckContext) -> Finding:
        if evidence is None:
            return not_configured(self.name, self.title, self.guide_section, POSTGRES_NOT_SET)
        causes = _idle_causes(evidence) + _in_transaction_causes(evidence, ctx.thresholds.query_long_s)
        status = Status.WARN if causes else Status.OK
        share = evidence.idle / evidence.max_connections if evidence.max_connections else 0.0
        summary = _summary(evidence, share)
        in_tx_limit = ctx.thresholds.query_long_s
        in_tx_late = (evidence.idle_in_transaction_oldest_s or 0.0) > in_tx_limit
        facts = (
            Fact("idle", f"{evidence.idle} ({percent(share)})", f"{percent(IDLE_SHARE_WARN)} of max",
                 Status.WARN if share >= IDLE_SHARE_WARN else Status.OK),
            Fact("idle > 1 h", str(evidence.idle_over_hour), "0",
                 Status.WARN if evidence.idle_over_hour else Status.OK),
            Fact("oldest idle", duration(evidence.idle_oldest_s) if evidence.idle else "none"),
            Fact("idle in transaction", str(evidence.idle_in_transaction)),
            Fact("oldest idle in transaction",
                 duration(evidence.idle_in_transaction_oldest_s) if evidence.idle_in_transaction else "none",
                 duration(in_tx_limit), Status.WARN if in_tx_late else Status.OK),
        )
        lines = tuple(
            f"{app.application}: idle {app.idle}, idle in transaction {app.idle_in_transaction}"
            for app in evidence.by_application
            if app.idle or app.idle_in_transaction
        )[:5]
        return Finding(self.name, self.title, status, summary, facts=facts, evidence=lines, causes=causes,
                       guide_section=self.guide_section)


def _summary(usage: ConnectionUsage, share: float) -> str:
    idle = f"{usage.idle} idle connection(s) ({percent(share)} of max_connections)"
    if usage.idle:
        idle += f", oldest idle {duration(usage.idle_oldest_s)}"
    in_tx = f"{usage.idle_in_transaction} idle in transaction"
    if usage.idle_in_transaction:
        in_tx += f", oldest {duration(usage.idle_in_transaction_oldest_s)}"
    return f"{idle}; {usage.idle_over_hour} idle for more than an hour. {in_tx}."


def _idle_causes(usage: ConnectionUsage) -> tuple[Cause, ...]:
    share = usage.idle / usage.max_connections if usage.max_connections else 0.0
    if not usage.idle_over_hour and share < IDLE_SHARE_WARN:
        return ()
    evidence = [f"{usage.idle} idle of {usage.max_connections} max_connections, oldest {duration(usage.idle_oldest_s)}"]
    proposals: tuple[Proposal, ...] = ()
    if usage.idle_over_hour:
        evidence.append(f"{usage.idle_over_hour} idle for more than an hour")
        proposals = (
            Proposal("terminate-idle", {"older_than": TERMINATE_IDLE_OLDER_THAN},
                     f"close {usage.idle_over_hour} connection(s) idle for more than an hour"),
        )
    return (
        Cause(
            key="idle_connections",
            title=f"{usage.idle} idle connections hold database slots",
            confidence=0.4 if usage.idle_over_hour else 0.3,
            evidence=tuple(evidence),
            guide_section="Connection Pool Exhaustion",
            proposals=proposals,
            # Idle connections are how a pool runs out: when the pool is exhausted they explain it.
            supports=("db_pool_exhausted",),
        ),
    )


def _in_transaction_causes(usage: ConnectionUsage, limit_s: float) -> tuple[Cause, ...]:
    # A transaction left open holds its locks and its connection for as long as a long query would.
    oldest = usage.idle_in_transaction_oldest_s
    if oldest is None or oldest <= limit_s:
        return ()
    return (
        Cause(
            key="idle_in_transaction",
            title=f"{usage.idle_in_transaction} connection(s) idle in an open transaction, "
                  f"the oldest for {duration(oldest)}",
            confidence=0.4,
            evidence=(
                f"{usage.idle_in_transaction} idle in transaction, oldest {duration(oldest)} "
                f"(longer than {duration(limit_s)})",
                "the application began a transaction and neither committed nor rolled back; "
                "idle_in_transaction_session_timeout bounds it",
            ),
            guide_section="Connection Pool Exhaustion",
        ),
    )
