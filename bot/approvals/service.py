"""The approvals API: propose an action, then approve (authorise, execute once), deny or expire it.

`Approvals` is the one object callers hold; the work is in the modules named for it:

* `proposing` previews and stores proposals (`Proposals`, which `Approvals` extends);
* `gate` holds the checks every click passes first, each failing one an audited refusal;
* `state_machine` decides: pending -> approved -> executing -> succeeded / failed, exactly once;
* `maintenance` holds the scheduler's jobs (expire overdue requests, fail those a dead replica left).

Every step is audited. The Slack layer calls `approve` from a `block_actions` handler after `ack()`, with
the clicker's user id from the signed payload and their user groups; the CLI calls it as a local operator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.actions.base import Action, ActionEnv
from bot.approvals import maintenance
from bot.approvals.decision import Decision, RefusalReason
from bot.approvals.gate import Gate, Origin
from bot.approvals.policy import Approver
from bot.approvals.proposing import Proposals
from bot.approvals.state_machine import StateMachine
from bot.approvals.trail import BOT_ACTOR, EXPIRED_MESSAGE
from bot.clock import utc_now
from bot.config import OpsConfig
from bot.store.approvals import ApprovalRequest, ApprovalStore, AuditRecord
from bot.store.coordination import Coordination

__all__ = ["BOT_ACTOR", "Approvals"]


class Approvals(Proposals):
    def __init__(
        self,
        store: ApprovalStore,
        coordination: Coordination,
        config: OpsConfig,
        actions: Mapping[str, Action[Any]],
        env: ActionEnv,
        *,
        dry_run: bool = False,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(store, config, actions, env)
        self._dry_run = dry_run or env.dry_run
        self._clock = clock
        self._gate = Gate(store, config, actions, self._trail)
        self._machine = StateMachine(store, coordination, config, env, trail=self._trail, gate=self._gate,
                                     proposals=self, clock=clock)

    # -- deciding ---------------------------------------------------------------------------------
    async def approve(
        self,
        request_id: str,
        approver: Approver,
        *,
        origin: Origin | None = None,
        dry_run: bool = False,
    ) -> Decision:
        """Authorise the click and, if allowed, execute the request exactly once. Never raises for a
        refusal. `origin` is the click's container (every click from Slack): it must name exactly the message
        the request was posted in, or the click is refused; None is a local caller (demo, CLI, scheduler)."""
        vetted = await self._gate.vet(request_id, approver, origin)
        if isinstance(vetted, Decision):
            return vetted
        request, action = vetted
        return await self._machine.approve(request, approver, action, dry_run=self._dry_run or dry_run)

    async def precheck(
        self,
        request_id: str,
        approver: Approver,
        *,
        origin: Origin | None = None,
    ) -> Decision | None:
        """The checks of `approve` without executing: None when this person may approve the request now,
        else the (audited) refusal. For a confirmation modal: precheck on the button click, show the
        preview, then `approve` on submit, which checks everything again."""
        vetted = await self._gate.vet(request_id, approver, origin)
        if isinstance(vetted, Decision):
            return vetted
        request, _ = vetted
        if request.expires_at <= self._clock():
            return await self._trail.refuse(request, approver, RefusalReason.EXPIRED, EXPIRED_MESSAGE)
        return None

    async def deny(
        self,
        request_id: str,
        approver: Approver,
        *,
        origin: Origin | None = None,
    ) -> Decision:
        """Decline a pending request (or, for the requester, withdraw it). The origin as for `approve`."""
        gate = await self._gate.check(request_id, approver, origin)
        if isinstance(gate, Decision):
            return gate
        request, action = gate
        return await self._machine.deny(request, approver, action)

    # -- the scheduler's jobs and the trail -------------------------------------------------------
    async def expire_due(self) -> list[ApprovalRequest]:
        """Expire pending requests past their time (the scheduler's job); returns them for message updates."""
        return await maintenance.expire_due(self.store, self._trail)

    async def fail_stuck(self) -> list[ApprovalRequest]:
        """Fail requests left approved or executing by a replica that died (the scheduler's job, like
        `expire_due`). Anything there longer than the action lock's TTL is no longer protected by it either."""
        return await maintenance.fail_stuck(self.store, self._trail, self._config.approvals.lock_ttl_s)

    async def audit(self, *, service: str | None = None, since: datetime | None = None) -> list[AuditRecord]:
        return await self.store.audit(service=service, since=since)
