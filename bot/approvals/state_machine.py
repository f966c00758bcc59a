"""Deciding a request: the state machine pending -> approved -> executing -> succeeded / failed, with
denied, superseded (target changed) and expired on the way, each transition a conditional write.

Exactly-once execution rests on two things. The database transition pending -> approved is a single
conditional write, so of any number of clicks, people or replicas only one gets the request. Before that
the winner takes the service's action lock (Redis, shared by replicas), so two different approved actions
never change the same service at once. Then the state the proposal was made on is re-read: if the target
moved (new revision, different pods), nothing runs and a fresh proposal is offered instead.

The requests handed in here have passed the gate (`bot.approvals.gate`); every step is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot import telemetry
from bot.actions.base import Action, ActionEnv, ActionError, Outcome, changed_keys
from bot.approvals.decision import BadProposal, Decision, DecisionKind, ProposalRefused, Proposed, RefusalReason
from bot.approvals.gate import Gate
from bot.approvals.policy import Approver, Requirement, may_deny, requirement, second_approval_refusal
from bot.approvals.proposing import Proposals
from bot.approvals.trail import EXPIRED_MESSAGE, Trail
from bot.config import OpsConfig
from bot.model import Target
from bot.sources.errors import SourceError
from bot.store.approvals import ApprovalRequest, ApprovalStore, ApprovalStoreError, AuditEvent, RequestStatus
from bot.store.coordination import Coordination, CoordinationError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Ready:
    """An approved request moved to executing, with its parsed params: all that is left is to run it."""

    request: ApprovalRequest
    target: Target
    params: Any


class StateMachine:
    def __init__(
        self,
        store: ApprovalStore,
        coordination: Coordination,
        config: OpsConfig,
        env: ActionEnv,
        *,
        trail: Trail,
        gate: Gate,
        proposals: Proposals,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._coordination = coordination
        self._config = config
        self._env = env
        self._trail = trail
        self._gate = gate
        self._proposals = proposals  # re-proposals when the target changed, previews for dry runs
        self._clock = clock

    async def approve(self, request: ApprovalRequest, approver: Approver, action: Action[Any], *,
                      dry_run: bool) -> Decision:
        """Execute a vetted pending request exactly once (or, for four eyes, record the first approval; in a
        dry run, preview it instead)."""
        if dry_run:
            return await self._dry_run_decision(request, approver)
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

    async def deny(self, request: ApprovalRequest, approver: Approver, action: Action[Any]) -> Decision:
        """Decline a pending request that passed the gate (or, for the requester, withdraw it)."""
        refused = may_deny(self._config, requirement(self._config, action), approver, request.requester)
        if refused is not None:
            reason = RefusalReason(refused.reason)
            return await self._trail.refuse(request, approver, reason, refused.message, refused.required_role)
        denied = await self._store.transition(
            request.id, RequestStatus.PENDING, RequestStatus.DENIED, actor=approver.id, outcome="denied"
        )
        if denied is None:
            return await self._gate.lost_race(request.id, approver)
        await self._trail.record(denied, approver.id, AuditEvent.DENIED)
        return Decision(DecisionKind.DENIED, f"Declined by {approver.id}; nothing was changed.", request=denied)

    # -- steps ------------------------------------------------------------------------------------
    async def _first_approval(
        self, request: ApprovalRequest, approver: Approver, needed: Requirement
    ) -> ApprovalRequest | Decision:
        """Four eyes, first click: record it (conditional write, audited); the request stays pending until a
        different authorised person approves. Returns the request when another person won the first
        approval at the same moment, which makes this click the second."""
        first = await self._store.first_approval(request.id, approver.id)
        if first is None:
            current = await self._store.get(request.id)
            if current is not None and current.status is RequestStatus.PENDING and current.first_approver:
                again = second_approval_refusal(needed, approver, current.first_approver)
                if again is None:
                    return current
                reason = RefusalReason(again.reason)
                return await self._trail.refuse(current, approver, reason, again.message, again.required_role)
            return await self._gate.lost_race(request.id, approver)
        note = f"1 of 2 approvals: a second {needed.role} must approve before anything runs"
        await self._trail.record(first, approver.id, AuditEvent.APPROVED, note)
        message = f"Approval 1 of 2 recorded; nothing runs until a second {needed.role} (not you) approves."
        return Decision(DecisionKind.FIRST_APPROVAL, message, request=first, required_role=needed.role)

    async def _approve_locked(self, request: ApprovalRequest, approver: Approver, action: Action[Any]) -> Decision:
        approved = await self._store.transition(
            request.id, RequestStatus.PENDING, RequestStatus.APPROVED, actor=approver.id
        )
        if approved is None:
            return await self._gate.lost_race(request.id, approver)
        try:
            ready = await self._prepare(approved, approver, action)
        except Exception as exc:
            # Whatever broke between approved and executing, the request must not stay approved forever.
            # Nothing has run yet, so this (and only this) path may say so.
            failed = await self._fail_approved(approved, approver, exc)
            if isinstance(exc, ApprovalStoreError):
                raise  # the caller tells the clicker the database is down and nothing was changed
            return failed
        if isinstance(ready, Decision):
            return ready
        outcome = await _run(action, self._env, ready.target, ready.params, ready.request.id)
        telemetry.ACTIONS.labels(action.name, "succeeded" if outcome.ok else "failed").inc()
        return await self._record_outcome(ready.request, approver, outcome)

    async def _fail_approved(self, approved: ApprovalRequest, approver: Approver, exc: Exception) -> Decision:
        """End a request failed after an unexpected error before its action ran; best effort when the store is
        the problem (`fail_stuck` then catches the row once the action lock's TTL has passed). The request is
        approved, or executing when the error came after that transition (auditing it) but before the run."""
        log.exception("approval %s: %s failed before executing", approved.id, approved.action)
        summary = f"not run: unexpected error before executing ({type(exc).__name__}); see the bot's log"
        try:
            failed = await self._store.transition(
                approved.id, RequestStatus.APPROVED, RequestStatus.FAILED, outcome=summary
            )
            if failed is None:  # the error came after the move to executing (auditing it), still before the run
                failed = await self._store.transition(
                    approved.id, RequestStatus.EXECUTING, RequestStatus.FAILED, outcome=summary
                )
            stored = failed or await self._store.get(approved.id) or approved
            if failed is not None:
                await self._trail.record(failed, approver.id, AuditEvent.FAILED, summary)
        except ApprovalStoreError as store_exc:
            log.warning("approval %s: could not record the failure: %s", approved.id, store_exc)
            stored = replace(approved, status=RequestStatus.FAILED, outcome=summary)
        return Decision(DecisionKind.FAILED, f"Failed: {summary}", request=stored, outcome=Outcome(False, summary))

    async def _prepare(self, approved: ApprovalRequest, approver: Approver, action: Action[Any]) -> _Ready | Decision:
        """Everything before the action runs: audit the approval, re-read the target (a changed one is
        re-proposed instead), move to executing. A Decision when it must not run."""
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
        executing = await self._store.transition(approved.id, RequestStatus.APPROVED, RequestStatus.EXECUTING)
        if executing is None:  # only this holder can move an approved request; guard anyway
            return await self._gate.lost_race(approved.id, approver)
        await self._trail.record(executing, approver.id, AuditEvent.EXECUTING)
        return _Ready(executing, target, params)

    async def _record_outcome(self, executing: ApprovalRequest, approver: Approver, outcome: Outcome) -> Decision:
        """Store and audit what the action did. Never raises: the action has run, and the clicker must hear
        that and its result even when the database fails now (raising would read "nothing was changed")."""
        try:
            return await self._finish(executing, approver, RequestStatus.EXECUTING, outcome)
        except Exception as exc:
            return await self._unrecorded(executing, outcome, exc)

    async def _unrecorded(self, executing: ApprovalRequest, outcome: Outcome, exc: Exception) -> Decision:
        """The action ran but its result could not be stored or audited: report the real outcome, say what is
        missing, and log it loudly so the record can be reconciled."""
        try:
            stored = await self._store.get(executing.id) or executing
        except Exception:  # the store is what failed; what it last told us is all there is
            stored = executing
        if stored.status is RequestStatus.EXECUTING:
            # `fail_stuck` will end it as "outcome unknown" once the lock's TTL passes; the log says what happened.
            missing = "its result could not be recorded (the request will show as outcome unknown)"
        else:
            missing = f"it is recorded as {stored.status}, but the audit trail lacks its result"
        log.error("approval %s: %s on %s RAN (%s: %s) but %s: %s; reconcile the record with the target",
                  executing.id, executing.action, executing.service, "ok" if outcome.ok else "failed",
                  outcome.summary, missing, exc, exc_info=exc)
        kind = DecisionKind.SUCCEEDED if outcome.ok else DecisionKind.FAILED
        verb = "Done" if outcome.ok else "Failed"
        failed = "the approvals database failed" if isinstance(exc, ApprovalStoreError) else "recording it failed"
        note = f"The action ran, but {failed}: {missing}."
        message = f"{verb}: {outcome.summary.rstrip('.')}. {note}"
        return Decision(kind, message, request=stored, outcome=outcome, unrecorded=note)

    async def _finish(
        self, request: ApprovalRequest, approver: Approver, source: RequestStatus, outcome: Outcome
    ) -> Decision:
        status = RequestStatus.SUCCEEDED if outcome.ok else RequestStatus.FAILED
        final = await self._store.transition(request.id, source, status, outcome=outcome.summary)
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
        stored = await self._store.get(request.id) or replace(request, status=RequestStatus.FAILED)
        note = f"{detail} (but the request was already {stored.status}: {stored.outcome or 'no outcome'})"
        await self._trail.record(stored, approver.id, event, note)
        kind = DecisionKind.SUCCEEDED if stored.status is RequestStatus.SUCCEEDED else DecisionKind.FAILED
        message = (f"The action reported: {outcome.summary}; but the request is recorded as {stored.status}"
                   f"{': ' + stored.outcome if stored.outcome else ''}. Check the target's state.")
        return Decision(kind, message, request=stored, outcome=outcome)

    async def _target_changed(self, request: ApprovalRequest, approver: Approver, changed: list[str]) -> Decision:
        detail = f"target changed since the proposal ({', '.join(changed)})"
        stale = await self._store.transition(
            request.id, RequestStatus.APPROVED, RequestStatus.SUPERSEDED, outcome=detail
        )
        stale = stale or request
        await self._trail.record(stale, approver.id, AuditEvent.SUPERSEDED, detail)
        try:
            fresh: Proposed | None = await self._proposals.propose(
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

    async def _dry_run_decision(self, request: ApprovalRequest, approver: Approver) -> Decision:
        """Every check a real click gets, then a preview instead of execution; the request stays pending."""
        if request.expires_at <= self._clock():
            return await self._trail.refuse(request, approver, RefusalReason.EXPIRED, EXPIRED_MESSAGE)
        try:
            _, preview = await self._proposals.preview(request.action, request.service, request.params)
        except (BadProposal, ProposalRefused) as exc:
            return await self._trail.refuse(request, approver, RefusalReason.UNAVAILABLE, str(exc))
        changed = changed_keys(request.state, preview.state)
        note = f"; target changed since the proposal ({', '.join(changed)})" if changed else ""
        await self._trail.record(request, approver.id, AuditEvent.PREVIEWED, f"dry run: {preview.summary}{note}")
        message = f"Dry run: nothing executed. Would do: {preview.summary}{note}"
        return Decision(DecisionKind.PREVIEWED, message, request=request, preview=preview)


async def _run(action: Action[Any], env: ActionEnv, target: Target, params: Any, request_id: str) -> Outcome:
    """Execute, turning every failure into a failed Outcome: the request must end succeeded or failed."""
    try:
        return await action.execute(env, target, params)
    except (ActionError, SourceError) as exc:
        return Outcome(ok=False, summary=str(exc))
    except Exception as exc:
        log.exception("approval %s: %s raised", request_id, action.name)
        return Outcome(ok=False, summary=f"unexpected error ({type(exc).__name__}); see the bot's log")
