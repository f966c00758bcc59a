"""Timed changes going back on time: debug logging and memory bumps revert when their annotation says so.

The deployment itself records when a timed change ends (`opsbot.io/debug-logging-until`,
`opsbot.io/memory-bump-until`, written in the same patch as the change), so the revert needs no memory of
who clicked: the leader reads the annotations of every configured service, and runs each revert that is
due through the approvals core as `opsbot` (proposed and approved by the bot, audited like any other).
A change that came due while no leader was up is reverted on the first run after one is elected.

The thread to report in is the original request's, found in the audit trail; the report itself goes
through a callback the Slack layer provides.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.actions.base import REVERT_PARAM, ActionEnv, ActionError
from bot.actions.debug_logging import DEBUG_UNTIL
from bot.actions.memory_bump import BUMP_UNTIL
from bot.approvals import Approvals, Approver, Decision, DecisionKind, ProposalError
from bot.approvals.service import BOT_ACTOR
from bot.config import OpsConfig
from bot.sources.errors import SourceError
from bot.store.approvals import ApprovalRequest, ApprovalStoreError, AuditEvent

log = logging.getLogger(__name__)
# action -> the annotation holding when its change ends
TIMED_ACTIONS = {"debug-logging": DEBUG_UNTIL, "memory-bump": BUMP_UNTIL}
ANNOTATION_TIME = "%Y-%m-%dT%H:%M:%SZ"
_SETTLED = frozenset({DecisionKind.SUCCEEDED, DecisionKind.FAILED})

Reported = Callable[[ApprovalRequest | None, Decision], Awaitable[None]]


@dataclass(frozen=True)
class Due:
    service: str
    action: str
    at: datetime


def parse_until(value: str | None) -> datetime | None:
    """The annotation's time; None when absent or unreadable (a hand-edited value is not acted on)."""
    if not value:
        return None
    try:
        return datetime.strptime(value, ANNOTATION_TIME).replace(tzinfo=UTC)
    except ValueError:
        return None


def due_changes(service: str, annotations: dict[str, str], now: datetime) -> list[Due]:
    """Pure: which timed changes on one deployment have reached their end."""
    out = []
    for action, key in TIMED_ACTIONS.items():
        until = parse_until(annotations.get(key))
        if until is not None and until <= now:
            out.append(Due(service, action, until))
    return out


class TimedReverts:
    def __init__(
        self, approvals: Approvals, env: ActionEnv, config: OpsConfig, reported: Reported,
        *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._approvals = approvals
        self._env = env
        self._config = config
        self._reported = reported
        self._clock = clock

    async def run(self) -> str:
        reverted = 0
        for service in self._config.services:
            for due in await self._due(service):
                if await self._revert(due):
                    reverted += 1
        return f"{reverted} timed change(s) reverted"

    async def _due(self, service: str) -> list[Due]:
        try:
            deployment = await self._env.kube.deployment(self._config.target(service))
        except SourceError as exc:
            log.warning("timed reverts: cannot read %s: %s", service, exc)
            return []
        return due_changes(service, dict(deployment.annotations), self._clock())

    async def _revert(self, due: Due) -> bool:
        try:
            origin = await self._origin(due)
            proposed = await self._approvals.propose(
                due.action, due.service, {REVERT_PARAM: "true"}, BOT_ACTOR,
                channel=origin.channel if origin else None, system=True,
            )
            # The bot acts on what a person already approved: audited, not gated, not stopped by read-only.
            decision = await self._approvals.approve(proposed.request.id, Approver.bot_system(BOT_ACTOR))
        except (ProposalError, SourceError, ActionError, ApprovalStoreError) as exc:
            log.warning("timed revert of %s on %s could not run: %s", due.action, due.service, exc)
            return False
        if decision.kind not in _SETTLED:
            # Refused (another action holds the service, the target moved): the annotation is still there,
            # so the next run tries again; nothing to tell the channel yet.
            log.info("timed revert of %s on %s not run yet: %s", due.action, due.service, decision.message)
            return False
        log.info("timed revert of %s on %s (due %s): %s", due.action, due.service,
                 due.at.strftime(ANNOTATION_TIME), decision.message)
        await self._reported(origin, decision)
        return decision.kind is DecisionKind.SUCCEEDED

    async def _origin(self, due: Due) -> ApprovalRequest | None:
        """The request that made the change: the newest successful non-revert run of the action."""
        for record in reversed(await self._approvals.audit(service=due.service)):
            entry = record.entry
            if (entry.event is AuditEvent.SUCCEEDED and entry.action == due.action
                    and entry.params.get(REVERT_PARAM) != "true" and entry.request_id):
                return await self._approvals.store.get(entry.request_id)
        return None
