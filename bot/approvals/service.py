"""The approvals API: propose an action, then approve (authorise, execute once), deny or expire it.

Exactly-once execution rests on two things. The database transition pending -> approved is a single
conditional write, so of any number of clicks, people or replicas only one gets the request. Before that
the winner takes the service's action lock (Redis, shared by replicas), so two different approved actions
never change the same service at once. Then the state the proposal was made on is re-read: if the target
moved (new revision, different pods), nothing runs and a fresh proposal is offered instead.

Every step is audited. The Slack layer calls `approve` from a `block_actions` handler after `ack()`, with
the clicker's user id from the signed payload and their user groups; the CLI calls it as a local operator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot import telemetry
from bot.actions.base import Action, ActionEnv, ActionError, Outcome, Preview, changed_keys
from bot.approvals.decision import (
    BadProposal,
    Decision,
    DecisionKind,
    ProposalRefused,
    Proposed,
    RefusalReason,
)
from bot.approvals.policy import Approver, Requirement, may_deny, refusal, requirement, second_approval_refusal
from bot.approvals.trail import EXPIRED_MESSAGE, Trail, message_link
from bot.clock import utc_now
from bot.config import OpsConfig
from bot.model import Target
from bot.sources.errors import SourceError
from bot.store.approvals import (
    ApprovalRequest,
    ApprovalStore,
    ApprovalStoreError,
    AuditEntry,
    AuditEvent,
    AuditRecord,
    NewRequest,
    RequestStatus,
)
from bot.store.coordination import Coordination, CoordinationError

log = logging.getLogger(__name__)
BOT_ACTOR = "opsbot"  # the actor of what nobody clicked: expiry, superseding


class Approvals:
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
        self.store = store
        self._coordination = coordination
        self._config = config
        self._actions = actions
        self._env = env
        self._dry_run = dry_run or env.dry_run
        self._clock = clock
        self._trail = Trail(store)

    # -- proposing --------------------------------------------------------------------------------
    async def preview(
        self, action_name: str, service: str, raw: Mapping[str, str], *, audit_as: str | None = None
    ) -> tuple[Target, Preview]:
        """What the action would do now, changing nothing. Raises BadProposal / ProposalRefused.

        With `audit_as` the preview is recorded in the trail as that actor's (a preview asked for on its
        own, e.g. `opsbot act` without --yes); a proposal records its preview itself."""
        action = self._actions.get(action_name)
        if action is None:
            raise BadProposal(f"Unknown action {action_name!r}; known: {', '.join(sorted(self._actions))}.")
        if service not in self._config.services:
            raise BadProposal(f"Unknown service {service!r}; known: {', '.join(sorted(self._config.services))}.")
        target = self._config.target(service)
        try:
            params = action.parse(raw, self._config)
        except ActionError as exc:
            raise BadProposal(str(exc)) from exc
        try:
            preview = await action.preview(self._env, target, params)
        except (ActionError, SourceError) as exc:
            raise ProposalRefused(f"Cannot preview {action_name} on {service}: {exc}") from exc
        if audit_as is not None:
            detail = preview.summary + (f" (blocked: {preview.blocked})" if preview.blocked else "")
            entry = AuditEntry(audit_as, AuditEvent.PREVIEWED, action_name, service, params=dict(raw), detail=detail)
            await self.store.append_audit(entry)
        return target, preview

    async def propose(
        self,
        action_name: str,
        service: str,
        raw: Mapping[str, str],
        requester: str,
        *,
        channel: str | None = None,
        message_ts: str | None = None,
        system: bool = False,
        awaiting_message: bool = False,
    ) -> Proposed:
        """Preview and store a pending request (the button's value is `.request.id`). Older pending
        requests of the same action on the same service are superseded. Raises BadProposal (bad input)
        or ProposalRefused (read-only mode, blocked preview, source down). `system` is the bot's own
        timed revert, which read-only mode lets through (audited as such). With `awaiting_message` (its
        buttons are about to be posted) people's clicks are refused until `attach_message`."""
        if self._config.read_only and not system:
            raise ProposalRefused("The bot is in read-only mode (ops config read_only): no actions are offered.")
        _, preview = await self.preview(action_name, service, raw)
        if preview.blocked:
            raise ProposalRefused(f"{action_name} on {service} cannot run now: {preview.blocked}")
        ttl = timedelta(minutes=self._config.approvals.ttl_minutes)
        params = {**raw, **preview.pinned}  # what was previewed is what an approval executes
        awaiting = awaiting_message and message_ts is None
        new = NewRequest(action_name, service, params, dict(preview.state), requester, ttl, channel, message_ts,
                         awaiting_message=awaiting)
        request, superseded = await self.store.create(new)
        note = " (system revert, allowed in read-only mode)" if system and self._config.read_only else ""
        await self._trail.record(request, requester, AuditEvent.PROPOSED, preview.summary + note)
        for old in superseded:
            await self._trail.record(old, BOT_ACTOR, AuditEvent.SUPERSEDED, f"replaced by {request.id}")
        return Proposed(request=request, preview=preview, superseded=tuple(superseded))

    async def attach_message(self, request_id: str, channel: str, message_ts: str) -> ApprovalRequest | None:
        """Record where the buttons were posted; later clicks must come from that message. Audited with the
        message's link, so the trail leads from the proposal to the Slack message people clicked in."""
        attached = await self.store.attach_message(request_id, channel, message_ts)
        if attached is not None:
            await self._trail.record(attached, BOT_ACTOR, AuditEvent.ATTACHED, message_link(channel, message_ts))
        return attached

    # -- deciding ---------------------------------------------------------------------------------
    async def approve(
        self,
        request_id: str,
        approver: Approver,
        *,
        channel: str | None = None,
        message_ts: str | None = None,
        require_message: bool = False,
        dry_run: bool = False,
    ) -> Decision:
        """Authorise the click and, if allowed, execute the request exactly once. Never raises for a
        refusal; `channel`/`message_ts` are the click's container, checked against where it was posted.
        With `require_message` (a click from Slack) they must name exactly that message: a missing one, or a
        request posted nowhere, is refused too."""
        vetted = await self._vet(request_id, approver, _Origin(channel, message_ts, require_message))
        if isinstance(vetted, Decision):
            return vetted
        request, action = vetted
        if self._dry_run or dry_run:
            return await self._dry_run_decision(request, approver, action)
        needed = requirement(self._config, action)
        if needed.four_eyes and not approver.local and request.first_approver is None:
            first = await self._first_approval(request, approver, needed)
            if isinstance(first, Decision):
                return first
            request = first  # someone else was first at the same moment: this click is the second
        lock = f"action:{request.service}"
        try:
            token = await self._coordination.acquire_lock(lock, self._config.approvals.lock_ttl_s)
        except CoordinationError as exc:
            log.warning("approval %s: coordination unavailable: %s", request.id, exc)
            message = "Cannot coordinate with the other replicas right now; nothing was run. Try again."
            return await self._trail.refuse(request, approver, RefusalReason.UNAVAILABLE, message)
        if token is None:
            message = f"Another action on {request.service} is running; try again when it has finished."
            return await self._trail.refuse(request, approver, RefusalReason.BUSY, message)
        try:
            return await self._approve_locked(request, approver, action)
        finally:
            try:
                await self._coordination.release_lock(lock, token)
            except CoordinationError as exc:  # the lock's TTL frees it anyway
                log.warning("approval %s: could not release %s: %s", request.id, lock, exc)

    async def precheck(
        self,
        request_id: str,
        approver: Approver,
        *,
        channel: str | None = None,
        message_ts: str | None = None,
        require_message: bool = False,
    ) -> Decision | None:
        """The checks of `approve` without executing: None when this person may approve the request now,
        else the (audited) refusal. For a confirmation modal: precheck on the button click, show the
        preview, then `approve` on submit, which checks everything again."""
        vetted = await self._vet(request_id, approver, _Origin(channel, message_ts, require_message))
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
        channel: str | None = None,
        message_ts: str | None = None,
        require_message: bool = False,
    ) -> Decision:
        """Decline a pending request (or, for the requester, withdraw it). The origin as for `approve`."""
        gate = await self._gate(request_id, approver, _Origin(channel, message_ts, require_message))
        if isinstance(gate, Decision):
            return gate
        request, action = gate
        refused = may_deny(self._config, requirement(self._config, action), approver, request.requester)
        if refused is not None:
            reason = RefusalReason(refused.reason)
            return await self._trail.refuse(request, approver, reason, refused.message, refused.required_role)
        denied = await self.store.transition(
            request.id, RequestStatus.PENDING, RequestStatus.DENIED, actor=approver.id, outcome="denied"
        )
        if denied is None:
            return await self._lost_race(request.id, approver)
        await self._trail.record(denied, approver.id, AuditEvent.DENIED)
        return Decision(DecisionKind.DENIED, f"Declined by {approver.id}; nothing was changed.", request=denied)

    async def expire_due(self) -> list[ApprovalRequest]:
        """Expire pending requests past their time (the scheduler's job); returns them for message updates."""
        expired = await self.store.expire_due()
        for request in expired:
            await self._trail.record(request, BOT_ACTOR, AuditEvent.EXPIRED)
        return expired

    async def fail_stuck(self) -> list[ApprovalRequest]:
        """Fail requests left approved or executing by a replica that died (the scheduler's job, like
        `expire_due`). Anything there longer than the action lock's TTL is no longer protected by it either."""
        older_than = timedelta(seconds=self._config.approvals.lock_ttl_s)
        outcome = "interrupted: the bot stopped while approving or executing; check the target's state before retrying"
        stuck = await self.store.fail_stuck(older_than, outcome)
        for request in stuck:
            await self._trail.record(request, BOT_ACTOR, AuditEvent.FAILED, outcome)
        return stuck

    async def audit(self, *, service: str | None = None, since: datetime | None = None) -> list[AuditRecord]:
        return await self.store.audit(service=service, since=since)

    # -- steps ------------------------------------------------------------------------------------
    async def _gate(
        self, request_id: str, approver: Approver, origin: _Origin
    ) -> tuple[ApprovalRequest, Action[Any]] | Decision:
        """Checks every click passes first: the request exists, came from its message, may be acted on."""
        request = await self.store.get(request_id)
        if request is None:
            return await self._trail.refuse_unknown(request_id, approver)
        await self._trail.record(request, approver.id, AuditEvent.CLICKED, "local operator" if approver.local else "")
        if _unattached(request) and not approver.local:
            message = "This proposal's message is not posted yet; use the button in the message once it is."
            return await self._trail.refuse(request, approver, RefusalReason.WRONG_MESSAGE, message)
        if origin.elsewhere(request):
            message = "This button does not belong to the message the request was posted in."
            return await self._trail.refuse(request, approver, RefusalReason.WRONG_MESSAGE, message)
        if self._config.read_only and not approver.system:
            message = "The bot is in read-only mode (ops config read_only): nothing is executed."
            return await self._trail.refuse(request, approver, RefusalReason.READ_ONLY, message)
        action = self._actions.get(request.action)
        if action is None:
            message = f"The action {request.action!r} is not available in this version of the bot."
            return await self._trail.refuse(request, approver, RefusalReason.UNAVAILABLE, message)
        return request, action

    async def _vet(
        self, request_id: str, approver: Approver, origin: _Origin
    ) -> tuple[ApprovalRequest, Action[Any]] | Decision:
        """The gate, then: may this person approve it, and is it still pending (expiry is the store's call)."""
        gate = await self._gate(request_id, approver, origin)
        if isinstance(gate, Decision):
            return gate
        request, action = gate
        refused = refusal(self._config, requirement(self._config, action), approver, request.requester)
        if refused is not None:
            reason = RefusalReason(refused.reason)
            return await self._trail.refuse(request, approver, reason, refused.message, refused.required_role)
        if request.status is not RequestStatus.PENDING:
            return await self._trail.refuse_settled(request, approver)
        again = second_approval_refusal(requirement(self._config, action), approver, request.first_approver)
        if again is not None:
            reason = RefusalReason(again.reason)
            return await self._trail.refuse(request, approver, reason, again.message, again.required_role)
        return request, action

    async def _first_approval(
        self, request: ApprovalRequest, approver: Approver, needed: Requirement
    ) -> ApprovalRequest | Decision:
        """Four eyes, first click: record it (conditional write, audited); the request stays pending until a
        different authorised person approves. Returns the request when another person won the first
        approval at the same moment, which makes this click the second."""
        first = await self.store.first_approval(request.id, approver.id)
        if first is None:
            current = await self.store.get(request.id)
            if current is not None and current.status is RequestStatus.PENDING and current.first_approver:
                again = second_approval_refusal(needed, approver, current.first_approver)
                if again is None:
                    return current
                reason = RefusalReason(again.reason)
                return await self._trail.refuse(current, approver, reason, again.message, again.required_role)
            return await self._lost_race(request.id, approver)
        note = f"1 of 2 approvals: a second {needed.role} must approve before anything runs"
        await self._trail.record(first, approver.id, AuditEvent.APPROVED, note)
        message = f"Approval 1 of 2 recorded; nothing runs until a second {needed.role} (not you) approves."
        return Decision(DecisionKind.FIRST_APPROVAL, message, request=first, required_role=needed.role)

    async def _approve_locked(self, request: ApprovalRequest, approver: Approver, action: Action[Any]) -> Decision:
        approved = await self.store.transition(
            request.id, RequestStatus.PENDING, RequestStatus.APPROVED, actor=approver.id
        )
        if approved is None:
            return await self._lost_race(request.id, approver)
        try:
            return await self._execute_approved(approved, approver, action)
        except Exception as exc:
            # Whatever broke between approved and executing, the request must not stay approved forever.
            failed = await self._fail_approved(approved, approver, exc)
            if isinstance(exc, ApprovalStoreError):
                raise  # the caller tells the clicker the database is down
            return failed

    async def _fail_approved(self, approved: ApprovalRequest, approver: Approver, exc: Exception) -> Decision:
        """End an approved request failed after an unexpected error; best effort when the store is the problem
        (`fail_stuck` then catches the row once the action lock's TTL has passed)."""
        log.exception("approval %s: %s failed before executing", approved.id, approved.action)
        summary = f"not run: unexpected error before executing ({type(exc).__name__}); see the bot's log"
        try:
            failed = await self.store.transition(
                approved.id, RequestStatus.APPROVED, RequestStatus.FAILED, outcome=summary
            )
            stored = failed or await self.store.get(approved.id) or approved
            if failed is not None:
                await self._trail.record(failed, approver.id, AuditEvent.FAILED, summary)
        except ApprovalStoreError as store_exc:
            log.warning("approval %s: could not record the failure: %s", approved.id, store_exc)
            stored = replace(approved, status=RequestStatus.FAILED, outcome=summary)
        return Decision(DecisionKind.FAILED, f"Failed: {summary}", request=stored, outcome=Outcome(False, summary))

    async def _execute_approved(self, approved: ApprovalRequest, approver: Approver, action: Action[Any]) -> Decision:
        second = f"2 of 2 approvals (first: {approved.first_approver})" if approved.first_approver else ""
        await self._trail.record(approved, approver.id, AuditEvent.APPROVED, second)
        target = self._config.target(approved.service)
        try:
            params = action.parse(approved.params, self._config)
            current = await action.fingerprint(self._env, target, params)
        except (ActionError, SourceError) as exc:
            return await self._finish(approved, approver, RequestStatus.APPROVED, Outcome(ok=False, summary=str(exc)))
        changed = changed_keys(approved.state, current)
        if changed:
            return await self._target_changed(approved, approver, changed)
        executing = await self.store.transition(approved.id, RequestStatus.APPROVED, RequestStatus.EXECUTING)
        if executing is None:  # only this holder can move an approved request; guard anyway
            return await self._lost_race(approved.id, approver)
        await self._trail.record(executing, approver.id, AuditEvent.EXECUTING)
        outcome = await _run(action, self._env, target, params, executing.id)
        telemetry.ACTIONS.labels(action.name, "succeeded" if outcome.ok else "failed").inc()
        return await self._finish(executing, approver, RequestStatus.EXECUTING, outcome)

    async def _finish(
        self, request: ApprovalRequest, approver: Approver, source: RequestStatus, outcome: Outcome
    ) -> Decision:
        status = RequestStatus.SUCCEEDED if outcome.ok else RequestStatus.FAILED
        final = await self.store.transition(request.id, source, status, outcome=outcome.summary)
        event = AuditEvent.SUCCEEDED if outcome.ok else AuditEvent.FAILED
        detail = "; ".join((outcome.summary, *outcome.detail))
        if final is None:  # another path settled it first (e.g. fail_stuck): report what is stored, not ours
            return await self._settled_elsewhere(request, approver, outcome, event, detail)
        await self._trail.record(final, approver.id, event, detail)
        kind = DecisionKind.SUCCEEDED if outcome.ok else DecisionKind.FAILED
        verb = "Done" if outcome.ok else "Failed"
        return Decision(kind, f"{verb}: {outcome.summary}", request=final, outcome=outcome)

    async def _settled_elsewhere(
        self, request: ApprovalRequest, approver: Approver, outcome: Outcome, event: AuditEvent, detail: str
    ) -> Decision:
        stored = await self.store.get(request.id) or replace(request, status=RequestStatus.FAILED)
        note = f"{detail} (but the request was already {stored.status}: {stored.outcome or 'no outcome'})"
        await self._trail.record(stored, approver.id, event, note)
        kind = DecisionKind.SUCCEEDED if stored.status is RequestStatus.SUCCEEDED else DecisionKind.FAILED
        message = (f"The action reported: {outcome.summary}; but the request is recorded as {stored.status}"
                   f"{': ' + stored.outcome if stored.outcome else ''}. Check the target's state.")
        return Decision(kind, message, request=stored, outcome=outcome)

    async def _target_changed(self, request: ApprovalRequest, approver: Approver, changed: list[str]) -> Decision:
        detail = f"target changed since the proposal ({', '.join(changed)})"
        stale = await self.store.transition(
            request.id, RequestStatus.APPROVED, RequestStatus.SUPERSEDED, outcome=detail
        )
        stale = stale or request
        await self._trail.record(stale, approver.id, AuditEvent.SUPERSEDED, detail)
        try:
            fresh: Proposed | None = await self.propose(
                request.action, request.service, request.params, request.requester, channel=request.channel,
                awaiting_message=request.channel is not None,
            )
        except (BadProposal, ProposalRefused) as exc:
            fresh = None
            detail = f"{detail}; could not re-propose: {exc}"
        message = f"Nothing was changed: the {request.service} {detail}."
        if fresh is not None:
            message += " Here is a fresh proposal for the current state."
        return Decision(
            DecisionKind.REFUSED, message, request=stale, reason=RefusalReason.TARGET_CHANGED, reproposal=fresh
        )

    async def _dry_run_decision(self, request: ApprovalRequest, approver: Approver, action: Action[Any]) -> Decision:
        """Every check a real click gets, then a preview instead of execution; the request stays pending."""
        if request.expires_at <= self._clock():
            return await self._trail.refuse(request, approver, RefusalReason.EXPIRED, EXPIRED_MESSAGE)
        try:
            _, preview = await self.preview(request.action, request.service, request.params)
        except (BadProposal, ProposalRefused) as exc:
            return await self._trail.refuse(request, approver, RefusalReason.UNAVAILABLE, str(exc))
        changed = changed_keys(request.state, preview.state)
        note = f"; target changed since the proposal ({', '.join(changed)})" if changed else ""
        await self._trail.record(request, approver.id, AuditEvent.PREVIEWED, f"dry run: {preview.summary}{note}")
        message = f"Dry run: nothing executed. Would do: {preview.summary}{note}"
        return Decision(DecisionKind.PREVIEWED, message, request=request, preview=preview)

    async def _lost_race(self, request_id: str, approver: Approver) -> Decision:
        """The conditional write found the request no longer pending-and-live: say what it became."""
        current = await self.store.get(request_id)
        if current is None:  # deleted underneath us
            return await self._trail.refuse_unknown(request_id, approver)
        if current.status is RequestStatus.PENDING:  # still pending, so the write failed on expiry
            expired = await self.store.transition(current.id, RequestStatus.PENDING, RequestStatus.EXPIRED)
            if expired is not None:
                await self._trail.record(expired, BOT_ACTOR, AuditEvent.EXPIRED)
            return await self._trail.refuse(expired or current, approver, RefusalReason.EXPIRED, EXPIRED_MESSAGE)
        return await self._trail.refuse_settled(current, approver)


def _unattached(request: ApprovalRequest) -> bool:
    """Created for a message about to be posted but not yet tied to it: until `attach_message`, no click
    can be checked against its message, so people's clicks are refused. Requests made without a message
    (`opsbot act`, the demo, the bot's own reverts) keep their own checks."""
    return request.awaiting_message


@dataclass(frozen=True)
class _Origin:
    """Where a click says it came from: the button's container, or what a modal opened from that button
    carries in its private_metadata. `exact` (every click from Slack) leaves no part of it optional."""

    channel: str | None
    message_ts: str | None
    exact: bool = False

    def elsewhere(self, request: ApprovalRequest) -> bool:
        """A request posted in a message only accepts clicks from there."""
        if self.exact:
            # A modal's submission or a button from Slack always has a message behind it; one that names no
            # message, or a request that was never posted, cannot be tied to the message people saw.
            posted = (request.channel, request.message_ts)
            return None in posted or (self.channel, self.message_ts) != posted
        if self.channel is None or request.channel is None:
            return False
        if self.channel != request.channel:
            return True
        return (self.message_ts is not None and request.message_ts is not None
                and self.message_ts != request.message_ts)


async def _run(action: Action[Any], env: ActionEnv, target: Target, params: Any, request_id: str) -> Outcome:
    """Execute, turning every failure into a failed Outcome: the request must end succeeded or failed."""
    try:
        return await action.execute(env, target, params)
    except (ActionError, SourceError) as exc:
        return Outcome(ok=False, summary=str(exc))
    except Exception as exc:
        log.exception("approval %s: %s raised", request_id, action.name)
        return Outcome(ok=False, summary=f"unexpected error ({type(exc).__name__}); see the bot's log")
