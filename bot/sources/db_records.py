"""Typed records the PostgreSQL and Redis sources return. Plain frozen data, detached from the drivers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AppConnections:
    """Client connections of one application_name, split by the states that matter for a pool."""

    application: str
    total: int
    active: int
    idle: int
    idle_in_transaction: int


@dataclass(frozen=True)
class ConnectionUsage:
    """Client backends of the whole server (max_connections is server-wide), excluding opsbot's own."""

    max_connections: int
    superuser_reserved: int
    total: int
    by_state: dict[str, int]
    by_application: tuple[AppConnections, ...]
    idle: int
    idle_oldest_s: float | None
    idle_over_hour: int
    idle_in_transaction: int
    idle_in_transaction_oldest_s: float | None

    @property
    def usage(self) -> float:
        return self.total / self.max_connections if self.max_connections else 0.0


@dataclass(frozen=True)
class ActiveQuery:
    pid: int
    duration_s: float
    application: str
    user: str | None
    database: str | None
    wait_event: str | None
    query: str


@dataclass(frozen=True)
class StatementStats:
    """One normalised statement of pg_stat_statements (times in milliseconds, as the view has them)."""

    query: str
    calls: int
    mean_ms: float
    max_ms: float
    total_ms: float
    rows: int


@dataclass(frozen=True)
class TableScans:
    """Scan counters of one table (pg_stat_user_tables) with its columns and the columns leading an index."""

    schema: str
    table: str
    seq_scan: int
    seq_tup_read: int
    idx_scan: int
    live_rows: int
    columns: tuple[str, ...]
    indexed_columns: tuple[str, ...]


@dataclass(frozen=True)
class ReplicaInfo:
    """One row of pg_stat_replication as seen on the primary."""

    name: str
    client_addr: str | None
    state: str | None
    sync_state: str | None
    lag_bytes: int | None
    replay_lag_s: float | None


@dataclass(frozen=True)
class StandbyInfo:
    """What a standby knows about itself: how far replay trails what it has received."""

    replay_paused: bool
    receive_replay_bytes: int | None
    last_replay_age_s: float | None


@dataclass(frozen=True)
class ReplicationStatus:
    in_recovery: bool
    replicas: tuple[ReplicaInfo, ...]
    standby: StandbyInfo | None = None


@dataclass(frozen=True)
class CacheStats:
    """INFO memory/stats/clients/keyspace/server of the platform cache, plus a measured PING round trip."""

    used_memory: int
    maxmemory: int
    maxmemory_policy: str
    evicted_keys: int
    keyspace_hits: int
    keyspace_misses: int
    connected_clients: int
    blocked_clients: int
    keys: int
    uptime_s: int
    ping_ms: float

    @property
    def memory_usage(self) -> float | None:
        """Share of maxmemory in use; None when no limit is set (maxmemory 0)."""
        return self.used_memory / self.maxmemory if self.maxmemory else None

    @property
    def hit_ratio(self) -> float | None:
        lookups = self.keyspace_hits + self.keyspace_misses
        return self.keyspace_hits / lookups if lookups else None
