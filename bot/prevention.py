"""The guide's prevention checks, run on a schedule: P95 latency (alert above 150 ms) and error rate for each
configured service, and connection-pool use of the platform database.

A condition is one check on one scope (a service, or the database) being at warn or crit. It is posted to
the ops channel once when it is raised and once when it clears; the raised conditions live in the
coordination store (Redis with several replicas), so a new leader knows what its predecessor announced.
A check that could not look (error, no data) changes nothing: "we could not tell" is neither a new
warning nor a recovery. Core only: the post goes through a callback the Slack layer provides.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.checks import CHECKS
from bot.checks.base import SourceSet
from bot.config import OpsConfig
from bot.engine import context_for, run_check
from bot.model import Finding, Status
from bot.store.coordination import Coordination

SERVICE_CHECKS = ("latency", "error_rate")
DATABASE_CHECK = "db_pool"
DATABASE_SCOPE = "platform-database"
# A raised condition is remembered this long after its last unhealthy run (refreshed on every run).
CONDITION_TTL_S = 7 * 24 * 3600.0
_UNHEALTHY = frozenset({Status.WARN, Status.CRIT})
_UNKNOWN = frozenset({Status.ERROR, Status.NO_DATA})

Post = Callable[[str], Awaitable[bool]]


@dataclass(frozen=True)
class Change:
    """What one run decided for one condition: raise (post a warning) or clear (post a recovery)."""

    scope: str
    finding: Finding
    raised: bool


def warning_text(scope: str, finding: Finding) -> str:
    guide = f" Guide: {finding.guide_section}." if finding.guide_section else ""
    return f":warning: Prevention check — {scope} {finding.title.lower()} is {finding.status}: {finding.summary}{guide}"


def recovery_text(scope: str, finding: Finding, since: str | None) -> str:
    raised = f" (raised at {since})" if since else ""
    return f":white_check_mark: Recovered — {scope} {finding.title.lower()} is back to ok{raised}: {finding.summary}"


def guide_status(finding: Finding) -> Status:
    """The status the guide's prevention rule looks at: for latency that is P95 alone ("alert on P95 latency
    > 150 ms"); the latency check also judges P99, which would make the scheduled warning stricter than the guide."""
    if finding.check == "latency":
        p95 = next((fact.status for fact in finding.facts if fact.label == "p95" and fact.status), None)
        if p95 is not None:
            return p95
    return finding.status


def decide(finding: Finding, raised: dict[str, Any] | None) -> bool | None:
    """Pure: True to raise, False to clear, None to leave the condition as it is."""
    status = guide_status(finding)
    if status in _UNKNOWN:
        return None
    if status in _UNHEALTHY:
        return True if raised is None else None
    return False if raised is not None else None


class Prevention:
    def __init__(
        self, sources: SourceSet, config: OpsConfig, coordination: Coordination, post: Post,
        *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sources = sources
        self._config = config
        self._coordination = coordination
        self._post = post
        self._clock = clock

    async def run(self) -> str:
        """One round over every service (and the database); returns what it announced."""
        findings = await self._measure()
        changes = [change for scope, finding in findings if (change := await self._track(scope, finding))]
        raised = sum(1 for c in changes if c.raised)
        return f"{len(findings)} checks, {raised} raised, {len(changes) - raised} cleared"

    async def _measure(self) -> list[tuple[str, Finding]]:
        timeout = self._config.diagnosis.check_timeout_s
        now = self._clock()
        runs: list[tuple[str, Awaitable[Finding]]] = []
        for service in self._config.services:
            ctx = context_for(self._config, self._config.target(service), now)
            runs += [(service, run_check(CHECKS[name], self._sources, ctx, timeout)) for name in SERVICE_CHECKS]
        if self._config.services:
            # One database behind every service: its pool is one condition, not one per service.
            first = next(iter(self._config.services))
            ctx = context_for(self._config, self._config.target(first), now)
            runs.append((DATABASE_SCOPE, run_check(CHECKS[DATABASE_CHECK], self._sources, ctx, timeout)))
        results = await asyncio.gather(*(run for _, run in runs))
        return [(scope, finding) for (scope, _), finding in zip(runs, results, strict=True)]

    async def _track(self, scope: str, finding: Finding) -> Change | None:
        key = f"prevention:{scope}:{finding.check}"
        state = await self._coordination.get_json(key)
        verdict = decide(finding, state)
        if verdict is True:
            if await self._post(warning_text(scope, finding)):
                # Recorded only once posted: a post that failed is tried again on the next run.
                await self._coordination.set_json(key, self._state(finding), CONDITION_TTL_S)
                return Change(scope, finding, raised=True)
            return None
        if verdict is False:
            since = state.get("since") if state else None
            if await self._post(recovery_text(scope, finding, str(since) if since else None)):
                await self._coordination.delete_json(key)
                return Change(scope, finding, raised=False)
            return None
        if state is not None and finding.status in _UNHEALTHY:
            await self._coordination.set_json(key, {**state, "status": str(finding.status)}, CONDITION_TTL_S)
        return None

    def _state(self, finding: Finding) -> dict[str, Any]:
        return {"status": str(finding.status), "since": self._clock().strftime("%H:%M UTC")}
