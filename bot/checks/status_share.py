"""How much of a service's traffic ends in one HTTP status (401, 403): overall, by endpoint, and its trend.

Shared by `unauthorized_share` and `forbidden_share`. The trend compares the configured period with a
longer one: a share that is several times its hour average is new, one that matches it is chronic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from bot.checks.base import Check, CheckContext, SourceSet, graded
from bot.checks.formatting import percent
from bot.model import Cause, Fact, Finding, Status
from bot.sources.records import ErrorStats

# The longer window the configured period is compared with.
TREND_PERIOD = "1h"
# A share at least this many times the longer window's is "rising"; at most its inverse, "falling".
TREND_FACTOR = 2.0
TOP_ENDPOINTS = 3


@dataclass(frozen=True)
class ShareEvidence:
    current: ErrorStats
    baseline: ErrorStats  # the same service over TREND_PERIOD


@dataclass(frozen=True)
class EndpointShare:
    endpoint: str
    count: int
    requests: int

    @property
    def share(self) -> float:
        return self.count / self.requests if self.requests else 0.0


async def collect_share(sources: SourceSet, ctx: CheckContext) -> ShareEvidence:
    service, period = ctx.target.service, ctx.diagnosis.metrics_period
    current, baseline = await asyncio.gather(
        sources.metrics.errors(service, period), sources.metrics.errors(service, TREND_PERIOD)
    )
    return ShareEvidence(current, baseline)


def share_of(stats: ErrorStats, status: int) -> float:
    return stats.by_status.get(status, 0) / stats.requests if stats.requests else 0.0


def by_endpoint(stats: ErrorStats, status: int) -> list[EndpointShare]:
    """Endpoints answering `status`, most such responses first."""
    rows = [EndpointShare(e.endpoint, e.by_status.get(status, 0), e.requests) for e in stats.by_endpoint]
    return sorted((r for r in rows if r.count), key=lambda r: -r.count)


def trend(stats: ErrorStats, baseline: ErrorStats, status: int) -> str | None:
    """'rising', 'falling' or 'steady' against the longer window; None when that window saw no traffic."""
    if baseline.requests == 0 or baseline.period == stats.period:
        return None
    now, before = share_of(stats, status), share_of(baseline, status)
    if before == 0:
        return "rising" if now > 0 else "steady"
    ratio = now / before
    return "rising" if ratio >= TREND_FACTOR else "falling" if ratio <= 1 / TREND_FACTOR else "steady"


def assess_share(check: Check, evidence: ShareEvidence, ctx: CheckContext, status_code: int, what: str, *,
                 cause: Callable[[tuple[str, ...]], Cause] | None = None) -> Finding:
    """The finding for one status: its share of requests against the guide's error-rate threshold. A critical
    share is itself an explanation (`cause`), so a quick sweep does not rank a bystander rollout above it."""
    name, title, guide_section = check.name, check.title, check.guide_section
    stats = evidence.current
    if stats.requests == 0:
        return Finding(name, title, Status.NO_DATA, "No requests in the window.", guide_section=guide_section)
    count = stats.by_status.get(status_code, 0)
    share = share_of(stats, status_code)
    limit = ctx.thresholds.error_rate
    status = graded(share, limit / 2, limit)
    of_errors = count / stats.errors if stats.errors else 0.0
    direction = trend(stats, evidence.baseline, status_code)
    facts = [
        Fact(f"{status_code} share", percent(share), percent(limit), status),
        Fact(f"{status_code}s", f"{count:,} of {stats.requests:,} requests in {stats.period}"),
        Fact("share of errors", percent(of_errors)),
    ]
    if direction is not None:
        before = percent(share_of(evidence.baseline, status_code))
        facts.append(Fact("trend", f"{direction} ({percent(share)} vs {before} over {evidence.baseline.period})"))
    rows = by_endpoint(stats, status_code)
    lines = [f"{r.endpoint}: {r.count:,} {status_code}s of {r.requests:,} ({percent(r.share)})"
             for r in rows[:TOP_ENDPOINTS]]
    summary = (f"{percent(share)} of requests over {stats.period} were {what} "
               f"({count:,}; {percent(of_errors)} of errors)")
    summary += f", mostly on {rows[0].endpoint}." if rows else "."
    if direction == "rising":
        summary += f" Rising against the last {evidence.baseline.period}."
    causes = (cause((summary, *lines)),) if cause is not None and status is Status.CRIT else ()
    return Finding(name, title, status, summary, facts=tuple(facts), evidence=tuple(lines), causes=causes,
                   guide_section=guide_section)
