"""Replication lag vs replication_lag_s (guide: > 5 seconds), from the primary's pg_stat_replication.

Pointed at a standby instead, it says so and reports how far its own replay trails what it received.
"""

from __future__ import annotations

from bot.checks.base import CheckContext, SourceSet
from bot.checks.db_shared import POSTGRES_NOT_SET, duration, not_configured
from bot.model import Cause, Fact, Finding, Status
from bot.sources.db_records import ReplicaInfo, ReplicationStatus, StandbyInfo

# One WAL segment: a replica this many bytes behind is behind by more than a blip, whatever the clock says.
LAG_BYTES_WARN = 16 * 1024 * 1024
BOTTLENECKS = "the guide's bottlenecks: network bandwidth, disk I/O on the replica, large transactions on the primary"


class ReplicationCheck:
    """pg_stat_replication: each replica's state, sync state, lag bytes and replay lag vs 5 s."""

    name = "replication"
    title = "Replication lag"
    guide_section = "Replication Lag"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> ReplicationStatus | None:
        if sources.postgres is None:
            return None
        return await sources.postgres.replication()

    def assess(self, evidence: ReplicationStatus | None, ctx: CheckContext) -> Finding:
        if evidence is None:
            return not_configured(self.name, self.title, self.guide_section, POSTGRES_NOT_SET)
        limit = ctx.thresholds.replication_lag_s
        if evidence.in_recovery and evidence.standby is not None:
            return self._standby(evidence.standby, limit)
        if not evidence.replicas:
            return Finding(self.name, self.title, Status.OK,
                           "This database has no replicas (pg_stat_replication is empty): there is no "
                           "replication to lag.",
                           facts=(Fact("replicas", "0"),), guide_section=self.guide_section)
        rated = [(replica, _status(replica, limit)) for replica in evidence.replicas]
        status = max((s for _, s in rated), key=lambda s: s.rank)
        worst = max(evidence.replicas, key=lambda r: (r.replay_lag_s or 0.0, r.lag_bytes or 0))
        summary = (f"{len(rated)} replica(s); the furthest behind, {worst.name}, replays "
                   f"{duration(worst.replay_lag_s or 0.0)} behind ({_bytes(worst.lag_bytes)}) against a "
                   f"{duration(limit)} limit.")
        facts = (
            Fact("replicas", str(len(rated))),
            Fact("worst replay lag", duration(worst.replay_lag_s or 0.0), duration(limit), status),
            Fact("worst lag bytes", _bytes(worst.lag_bytes)),
        )
        lines = tuple(_line(r) for r, _ in rated)
        # One cause for the whole replication: the worst replica names it, the others are in the evidence.
        lagging = sorted((pair for pair in rated if pair[1] in (Status.WARN, Status.CRIT)),
                         key=lambda pair: (-pair[1].rank, -(pair[0].replay_lag_s or 0.0)))
        causes = (_cause(*lagging[0], limit),) if lagging else ()
        return Finding(self.name, self.title, status, summary, facts=facts, evidence=lines, causes=causes,
                       guide_section=self.guide_section)

    def _standby(self, standby: StandbyInfo, limit: float) -> Finding:
        # With nothing received and not yet replayed, an old last-replay time only means a quiet primary.
        behind = (standby.receive_replay_bytes or 0) > 0
        lag = standby.last_replay_age_s if behind else 0.0
        status = (Status.CRIT if lag is not None and lag > limit
                  else Status.WARN if standby.replay_paused else Status.OK)
        summary = (f"This database is a standby (in recovery), not the primary: its replay trails what it "
                   f"received by {_bytes(standby.receive_replay_bytes)}")
        # The age of the last replayed transaction is unknown until the standby has replayed one.
        summary += f", {duration(lag)} of transactions." if lag is not None else "."
        if standby.replay_paused:
            summary += " Replay is paused (pg_wal_replay_resume() resumes it)."
        facts = (
            Fact("role", "standby"),
            Fact("replay lag", duration(lag), duration(limit), status),
            Fact("received, not replayed", _bytes(standby.receive_replay_bytes)),
            Fact("replay paused", "yes" if standby.replay_paused else "no"),
        )
        causes: tuple[Cause, ...] = ()
        if status is not Status.OK:
            causes = (Cause(
                key="replication_lag",
                title=_standby_title(standby, lag),
                confidence=0.7 if status is Status.CRIT else 0.4,
                evidence=(summary, BOTTLENECKS),
                guide_section="Replication Lag",
            ),)
        return Finding(self.name, self.title, status, summary, facts=facts, causes=causes,
                       guide_section=self.guide_section)


def _standby_title(standby: StandbyInfo, lag: float | None) -> str:
    behind = f"{duration(lag)}" if lag is not None else _bytes(standby.receive_replay_bytes)
    paused = " (replay paused)" if standby.replay_paused else ""
    return f"This standby replays {behind} behind the primary{paused}"


def _status(replica: ReplicaInfo, limit: float) -> Status:
    if (replica.replay_lag_s or 0.0) > limit:
        return Status.CRIT
    if replica.state is None:
        return Status.NO_DATA  # the row is visible but its columns are not: see _line
    if replica.state != "streaming" or (replica.lag_bytes or 0) >= LAG_BYTES_WARN:
        return Status.WARN
    return Status.OK


def _bytes(count: int | None) -> str:
    if count is None:
        return "unknown bytes"
    if count < 1024 * 1024:
        return f"{count:,} bytes"
    return f"{count / (1024 * 1024):,.1f} MiB"


def _line(replica: ReplicaInfo) -> str:
    where = f" at {replica.client_addr}" if replica.client_addr else ""
    if replica.state is None:
        return f"{replica.name}{where}: state and positions hidden; the bot's database role needs pg_monitor"
    return (f"{replica.name}{where}: {replica.state or 'unknown state'}, {replica.sync_state or 'unknown'}, "
            f"replay lag {duration(replica.replay_lag_s or 0.0)}, {_bytes(replica.lag_bytes)} behind")


def _cause(replica: ReplicaInfo, status: Status, limit: float) -> Cause:
    if status is Status.CRIT:
        title = f"Replica {replica.name} replays {duration(replica.replay_lag_s or 0.0)} behind (> {duration(limit)})"
    else:
        state = replica.state or "in an unknown state"
        title = f"Replica {replica.name} is {state}, {_bytes(replica.lag_bytes)} behind"
    return Cause(
        key="replication_lag",
        title=title,
        confidence=0.7 if status is Status.CRIT else 0.4,
        evidence=(_line(replica), BOTTLENECKS,
                  "meanwhile route reads that must be fresh to the primary (guide: temporary workaround)"),
        guide_section="Replication Lag",
    )
