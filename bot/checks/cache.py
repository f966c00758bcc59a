"""The platform cache (Redis): memory vs maxmemory, evictions, hit ratio, PING latency."""

from __future__ import annotations

from bot.checks.base import CheckContext, SourceSet, graded
from bot.checks.db_shared import CACHE_NOT_SET, duration, not_configured
from bot.checks.formatting import percent
from bot.model import Cause, Fact, Finding, Proposal, Status
from bot.sources.db_records import CacheStats

# The same capacity levels the guide uses for the connection pool (85/100 warning, 95/100 critical).
MEMORY_WARN = 0.85
MEMORY_CRIT = 0.95
# Below this hit ratio most lookups fall through to the database; only judged over enough lookups.
HIT_RATIO_WARN = 0.80
MIN_LOOKUPS = 1000
# Redis evicts in batches and settles below its limit (measured: 78-81 % of a 2 MiB maxmemory right
# after evicting), so a cache above this share that has evicted keys is at its limit, not merely busy.
EVICTING_FLOOR = 0.70
# A local Redis answers PING in well under a millisecond; tens of milliseconds means it is struggling.
SLOW_PING_MS = 50.0


class CacheCheck:
    """Redis memory vs maxmemory, evicted keys, hit ratio, clients and PING latency."""

    name = "cache"
    title = "Platform cache (Redis)"
    guide_section = "High Latency"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> CacheStats | None:
        if sources.cache is None:
            return None
        return await sources.cache.stats()

    def assess(self, evidence: CacheStats | None, ctx: CheckContext) -> Finding:
        if evidence is None:
            return not_configured(self.name, self.title, self.guide_section, CACHE_NOT_SET)
        memory = _memory_status(evidence)
        hits = _hit_status(evidence)
        ping = Status.WARN if evidence.ping_ms >= SLOW_PING_MS else Status.OK
        evicting = Status.WARN if evidence.evicted_keys else Status.OK
        status = max((memory, hits, ping, evicting), key=lambda s: s.rank)
        facts = (
            Fact("memory", _memory_text(evidence), f"warn {percent(MEMORY_WARN)}, crit {percent(MEMORY_CRIT)}",
                 memory),
            Fact("evicted keys", f"{evidence.evicted_keys:,} ({_per_hour(evidence)})", "0", evicting),
            Fact("hit ratio", percent(evidence.hit_ratio) if evidence.hit_ratio is not None else "no lookups",
                 percent(HIT_RATIO_WARN), hits),
            Fact("keys", f"{evidence.keys:,}"),
            Fact("clients", f"{evidence.connected_clients:,} connected, {evidence.blocked_clients:,} blocked"),
            Fact("PING", f"{evidence.ping_ms:.1f} ms", f"{SLOW_PING_MS:g} ms", ping),
        )
        summary = (f"Memory {_memory_text(evidence)}, {evidence.evicted_keys:,} keys evicted since start, "
                   f"hit ratio {facts[2].value}, PING {evidence.ping_ms:.1f} ms.")
        cause = _cause(evidence, memory, hits)
        return Finding(self.name, self.title, status, summary, facts=facts,
                       causes=(cause,) if cause else (), guide_section=self.guide_section)


def _memory_status(stats: CacheStats) -> Status:
    usage = stats.memory_usage
    if usage is None:
        return Status.OK
    return graded(usage, MEMORY_WARN, MEMORY_CRIT)


def _hit_status(stats: CacheStats) -> Status:
    enough = stats.keyspace_hits + stats.keyspace_misses >= MIN_LOOKUPS
    low = stats.hit_ratio is not None and stats.hit_ratio < HIT_RATIO_WARN
    return Status.WARN if enough and low else Status.OK


def _memory_text(stats: CacheStats) -> str:
    used = f"{stats.used_memory / 2**20:,.1f} MiB"
    if stats.memory_usage is None:
        return f"{used} (no maxmemory limit)"
    return f"{used} of {stats.maxmemory / 2**20:,.1f} MiB ({percent(stats.memory_usage)}, {stats.maxmemory_policy})"


def _per_hour(stats: CacheStats) -> str:
    # INFO counters run since the server started; a rate over the uptime tells old from ongoing.
    hours = max(stats.uptime_s, 1) / 3600
    return f"{stats.evicted_keys / hours:,.0f}/h over {duration(stats.uptime_s)} uptime"


def _cause(stats: CacheStats, memory: Status, hits: Status) -> Cause | None:
    saturated = (stats.memory_usage or 0.0) >= EVICTING_FLOOR and stats.evicted_keys > 0
    thrashing = hits is not Status.OK and stats.evicted_keys > 0
    if not (saturated or thrashing):
        return None
    evidence = [f"memory {_memory_text(stats)}", f"{stats.evicted_keys:,} keys evicted ({_per_hour(stats)})"]
    if stats.hit_ratio is not None:
        evidence.append(f"hit ratio {percent(stats.hit_ratio)} "
                        f"({stats.keyspace_hits:,} hits, {stats.keyspace_misses:,} misses)")
    # The guide's quick fix for a stale cache is FLUSHDB; a full cache evicting keys is the case it fits.
    proposals = (
        (Proposal("flush-cache", {}, "clear the saturated cache (guide: redis-cli FLUSHDB if stale)"),)
        if saturated else ()
    )
    return Cause(
        key="cache_pressure",
        title="Cache under memory pressure: keys evicted" + (", low hit ratio" if thrashing else ""),
        confidence=0.6 if memory is Status.CRIT else 0.45,
        evidence=tuple(evidence),
        guide_section="High Latency",
        proposals=proposals,
    )
