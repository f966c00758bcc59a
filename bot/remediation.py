"""From a diagnosis to a verified fix: offer its proposals, review a click, approve, verify, revert on time.

This sits on the approvals API (`bot.approvals.Approvals`) and adds what the Slack handlers and the demo
console share, so both behave the same:

* `offer` turns the top causes' proposals into stored requests (one per action: a newer proposal of the
  same action on the same service supersedes the older one) and remembers the diagnosis' symptom-check
  finding as the "before" of a later verification;
* `review` is the preview shown on a click: every check a click gets, then the dry run, changing nothing;
* `approve` records the baseline and calls the core, which authorises and executes exactly once;
* `verify` waits for the change to settle, then `action_limits.verify_delay_s`, re-runs the runbook and
  compares the symptom check before and after (an action that `ChecksItself` is measured by its own check);
* `schedule_revert` runs a timed change's revert (debug logging, memory bump) in this process when it is
  due, audited as `opsbot` — unless `timed_reverts_in_process=False`: `opsbot run` leaves it to the leader
  replica's scheduler (`bot.timed_reverts`), which works from the deployment's annotation alone.

Core only: no Slack. Identities are Slack user ids from the signed payload, or `opsbot` for the bot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.actions import ACTIONS
from bot.actions.base import (
    Action,
    ActionEnv,
    ActionError,
    ChecksItself,
    Outcome,
    Preview,
    VerifiedByCheck,
    changed_keys,
)
from bot.approvals import (
    Approvals,
    Approver,
    Decision,
    DecisionKind,
    Origin,
    ProposalError,
    Proposed,
    RefusalReason,
    Requirement,
    requirement,
)
from bot.approvals.policy import may_deny, refusal
from bot.approvals.service import BOT_ACTOR
from bot.checks import CHECKS
from bot.checks.base import SourceSet
from bot.clock import utc_now
from bot.config import OpsConfig
from bot.engine import context_for, diagnose, run_check
from bot.model import Diagnosis, Finding, Proposal, Symptom
from bot.runbooks import Runbook
from bot.sources.errors import SourceError
from bot.store.approvals import ApprovalRequest, AuditEntry, AuditEvent, RequestStatus
from bot.verification import (
    SETTLE_POLL_S,
    SETTLE_TIMEOUT_S,
    Trend,
    Verification,
    compare,
    compare_reached,
    measure_itself,
    wait_settled,
)
from bot.wiring import Deps

log = logging.getLogger(__name__)
# Causes beyond the first few are long shots; offering their fixes as buttons invites the wrong click.
MAX_CAUSES_OFFERED = 3
# Baselines of proposals nobody clicked are dropped oldest first past this many.
MAX_BASELINES = 500
OUTSIDER = "Guests and deactivated accounts cannot approve or decline actions."
# Refusals that only concern who is looking: they still see the preview, without the Approve button.
_VIEW_ONLY = frozenset({RefusalReason.NOT_AUTHORISED, RefusalReason.NO_ROLES, RefusalReason.SELF_APPROVAL})


@dataclass(frozen=True)
class Offer:
    """One proposal of a diagnosis: stored as a request (a button), or why it cannot be offered."""

    proposal: Proposal
    proposed: Proposed | None = None
    unavailable: str | None = None


@dataclass(frozen=True)
class Review:
    """What a click on a proposal shows before anyone approves. `refused` says why this person may not
    approve it (ephemeral, naming `required_role`); otherwise `preview` is the dry run right now."""

    request: ApprovalRequest | None
    refused: str | None = None
    required_role: str | None = None
    preview: Preview | None = None
    needed: Requirement | None = None
    title: str = ""
    risk: str = ""
    stale: tuple[str, ...] = ()  # state keys that moved since the proposal: approving will re-propose
    dry_run: bool = False
    # Anyone in the channel sees the preview; these say whether this person may approve / decline it.
    approve_refused: str | None = None
    may_deny: bool = True


@dataclass(frozen=True)
class _Baseline:
    symptom: Symptom | None  # None: the action's own check measured it
    finding: Finding | None


class Remediation:
    def __init__(
        self,
        approvals: Approvals,
        *,
        actions: Mapping[str, Action[Any]],
        config: OpsConfig,
        env: ActionEnv,
        sources: SourceSet,
        runbooks: Mapping[Symptom, Runbook],
        dry_run: bool = False,
        settle_timeout_s: float = SETTLE_TIMEOUT_S,
        settle_poll_s: float = SETTLE_POLL_S,
        clock: Callable[[], datetime] = utc_now,
        timed_reverts_in_process: bool = True,
    ) -> None:
        self.approvals = approvals
        self._timed_reverts_in_process = timed_reverts_in_process
        self._actions = actions
        self._config = config
        self._env = env
        self._sources = sources
        self._runbooks = runbooks
        self.dry_run = dry_run or env.dry_run
        self._settle_timeout_s = settle_timeout_s
        self._settle_poll_s = settle_poll_s
        self._clock = clock
        self._proposed_on: dict[str, _Baseline] = {}  # request id -> the proposing diagnosis' measurement
        self._before: dict[str, _Baseline] = {}  # request id -> the measurement taken when it was approved
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def read_only(self) -> bool:
        return self._config.read_only

    @property
    def action_names(self) -> frozenset[str]:
        """What `/diagnose act` may propose."""
        return frozenset(self._actions)

    # -- offering -----------------------------------------------------------------------------------
    async def offer(self, diag: Diagnosis, requester: str, channel: str | None = None) -> list[Offer]:
        """Store a request for each distinct action the top causes propose; nothing when read-only."""
        if self.read_only:
            return []
        offers: list[Offer] = []
        seen: set[str] = set()
        for cause in diag.causes[:MAX_CAUSES_OFFERED]:
            for proposal in cause.proposals:
                if proposal.action in seen:
                    continue  # the store would supersede the first with the second: keep the better-ranked one
                seen.add(proposal.action)
                offers.append(await self._offer_one(diag, proposal, requester, channel))
        return offers

    async def _offer_one(self, diag: Diagnosis, proposal: Proposal, requester: str, channel: str | None) -> Offer:
        try:
            proposed = await self.approvals.propose(
                proposal.action, diag.target.service, proposal.params, requester, channel=channel,
                awaiting_message=channel is not None,
            )
        except ProposalError as exc:
            return Offer(proposal, unavailable=str(exc))
        measured = _Baseline(diag.symptom, _symptom_finding(diag, self._runbooks))
        self._remember(self._proposed_on, proposed.request.id, measured)
        return Offer(proposal, proposed=proposed)

    async def propose(
        self, proposal: Proposal, service: str, requester: str, channel: str | None = None
    ) -> Proposed | None:
        """A single follow-up proposal (a revert); None when it cannot be offered now (logged)."""
        if self.read_only:
            return None
        try:
            return await self.approvals.propose(proposal.action, service, proposal.params, requester, channel=channel,
                                                awaiting_message=channel is not None)
        except ProposalError as exc:
            log.info("not offering %s on %s: %s", proposal.label, service, exc)
            return None

    async def attach(self, offers: Sequence[Offer | Proposed], channel: str, message_ts: str) -> None:
        """Record the message the buttons went out in; clicks from elsewhere are refused."""
        for item in offers:
            proposed = item.proposed if isinstance(item, Offer) else item
            if proposed is not None:
                await self.approvals.attach_message(proposed.request.id, channel, message_ts)

    # -- a click ------------------------------------------------------------------------------------
    async def review(
        self,
        request_id: str,
        approver: Approver,
        *,
        origin: Origin | None = None,
    ) -> Review:
        """The preview for a click, after every check `approve` makes (the core's precheck, audited).
        Whoever may not approve (a viewer, the requester, the first of two approvers) still sees the preview,
        with `approve_refused` saying why; the requester may withdraw. Changes nothing; `approve` checks
        everything again on submit."""
        refused = await self.approvals.precheck(request_id, approver, origin=origin)
        if refused is not None and refused.reason not in _VIEW_ONLY:
            return Review(refused.request, refused=refused.message, required_role=refused.required_role)
        request = await self.approvals.store.get(request_id)
        action = self._actions.get(request.action) if request is not None else None
        if request is None or action is None:  # gone between the two reads; the precheck found it
            return Review(request, refused="This request is no longer available.")
        try:
            _, preview = await self.approvals.preview(request.action, request.service, request.params)
        except ProposalError as exc:
            return Review(request, refused=str(exc))
        needed = requirement(self._config, action)
        return Review(
            request,
            preview=preview,
            needed=needed,
            required_role=refused.required_role if refused is not None else None,
            approve_refused=refused.message if refused is not None else None,
            may_deny=may_deny(self._config, needed, approver, request.requester) is None,
            title=action.title,
            risk=str(action.risk),
            stale=tuple(changed_keys(request.state, preview.state)),
            dry_run=self.dry_run,
        )

    async def refuse(self, request_id: str, actor: str, message: str) -> None:
        """Audit a refusal made before the core was asked (the clicker is not a full workspace member)."""
        request = await self.approvals.store.get(request_id)
        entry = (AuditEntry.of(request, actor, AuditEvent.REFUSED, message) if request is not None else
                 AuditEntry(actor, AuditEvent.REFUSED, "unknown", "unknown", detail=f"{message} ({request_id[:64]!r})"))
        await self.approvals.store.append_audit(entry)

    async def outsider_decision(self, request_id: str) -> Decision:
        """The refusal a guest or deactivated account gets; the request is untouched."""
        return Decision(DecisionKind.REFUSED, OUTSIDER, request=await self.approvals.store.get(request_id),
                        reason=RefusalReason.NOT_AUTHORISED)

    async def approve(
        self,
        request_id: str,
        approver: Approver,
        *,
        origin: Origin | None = None,
    ) -> Decision:
        """Take the "before" measurement, then let the core authorise and execute exactly once. The click's
        `origin` is checked by the core, as for `review`."""
        request = await self.approvals.store.get(request_id)
        if request is not None and request.status is RequestStatus.PENDING and not self.dry_run:
            action = self._actions.get(request.action)
            needed = requirement(self._config, action) if action is not None else None
            if needed is not None and refusal(self._config, needed, approver, request.requester) is None:
                await self._take_baseline(request)
        return await self.approvals.approve(request_id, approver, origin=origin)

    async def deny(
        self,
        request_id: str,
        approver: Approver,
        *,
        origin: Origin | None = None,
    ) -> Decision:
        return await self.approvals.deny(request_id, approver, origin=origin)

    # -- verification -------------------------------------------------------------------------------
    def verify_symptom(self, request: ApprovalRequest) -> Symptom | None:
        """The symptom the proposing diagnosis was about (what the people asked to fix), else the action's own
        (a proposal made elsewhere: another replica, the CLI, `/diagnose act`); None without a runbook."""
        origin = self._proposed_on.get(request.id)
        if origin is not None and origin.symptom in self._runbooks:
            return origin.symptom
        action = self._actions.get(request.action)
        own = action.verify_symptom if action is not None else None
        return own if own is not None and own in self._runbooks else None

    async def _take_baseline(self, request: ApprovalRequest) -> None:
        action = self._actions.get(request.action)
        if isinstance(action, ChecksItself):
            try:
                params = action.parse(request.params, self._config)
            except ActionError:
                return  # the core refuses these params too; nothing will run to verify
            finding = await measure_itself(action, request.action, self._env, self._config.target(request.service),
                                           params)
            self._remember(self._before, request.id, _Baseline(None, finding))
            return
        if isinstance(action, VerifiedByCheck):
            finding = await self._measure_check(action.verify_check, request)
            self._remember(self._before, request.id, _Baseline(None, finding))
            return
        symptom = self.verify_symptom(request)
        if symptom is None:
            return
        origin = self._proposed_on.get(request.id)
        if origin is not None and origin.symptom is symptom and origin.finding is not None:
            self._remember(self._before, request.id, origin)
            return
        self._remember(self._before, request.id, _Baseline(symptom, await self._measure_symptom(symptom, request)))

    async def _measure_symptom(self, symptom: Symptom, request: ApprovalRequest) -> Finding | None:
        """Only the symptom check: the baseline is taken while an approver waits."""
        name = self._runbooks[symptom].symptom_check
        return await self._measure_check(name, request) if name is not None else None

    async def _measure_check(self, name: str, request: ApprovalRequest) -> Finding | None:
        if name not in CHECKS:
            return None
        ctx = context_for(self._config, self._config.target(request.service))
        return await run_check(CHECKS[name], self._sources, ctx, self._config.diagnosis.check_timeout_s)

    async def settled_now(self, request: ApprovalRequest) -> bool:
        """Whether the executed change has already taken effect, so verifying waits for no rollout: at once for
        the database, cache and maintenance actions, for a deployment once its rollout is done. The demo words
        its "verifying…" line by it. A read that fails, or params that no longer parse, say not yet."""
        action = self._actions.get(request.action)
        if action is None:
            return True
        try:
            params = action.parse(request.params, self._config)
            return await action.settled(self._env, self._config.target(request.service), params)
        except (ActionError, SourceError):
            return False

    async def verify(self, request: ApprovalRequest, outcome: Outcome) -> Verification:
        """After a successful execution: settle, wait the configured delay, re-run, compare."""
        action = self._actions.get(request.action)
        revert = outcome.revert if outcome.reverts_at is None else None
        symptom = self.verify_symptom(request)
        base = Verification(request.id, request.service, symptom, Trend.UNKNOWN, "", revert=revert)
        if action is None:
            return _with(base, note="the action is not available in this version of the bot")
        target = self._config.target(request.service)
        try:
            params = action.parse(request.params, self._config)
        except ActionError as exc:
            return _with(base, note=str(exc))
        settled = await wait_settled(
            lambda: action.settled(self._env, target, params),
            timeout_s=self._settle_timeout_s,
            poll_s=self._settle_poll_s,
        )
        await asyncio.sleep(self._config.action_limits.verify_delay_s)
        if isinstance(action, ChecksItself):
            own = await measure_itself(action, request.action, self._env, target, params)
            return self._judged(request, own, settled, revert, compare_reached)
        if isinstance(action, VerifiedByCheck):
            direct = await self._measure_check(action.verify_check, request)
            return self._judged(request, direct, settled, revert, compare)
        if symptom is None:
            return _with(base, settled=settled, note="there is no runbook to re-run for this action")
        runbook = self._runbooks[symptom]
        diag = await diagnose(runbook, self._sources, self._config, target)
        before = self._before.pop(request.id, None)
        after = _symptom_finding(diag, self._runbooks)
        trend, why = compare(before.finding if before is not None else None, after)
        if not settled:
            why = f"the rollout had not settled after {self._settle_timeout_s:g} s; {why}"
        return Verification(request.id, request.service, symptom, trend, why,
                            before=before.finding if before else None, after=after, settled=settled, revert=revert)

    def _judged(self, request: ApprovalRequest, after: Finding | None, settled: bool, revert: Proposal | None,
                judge: Callable[[Finding | None, Finding | None], tuple[Trend, str]]) -> Verification:
        """One check's finding before and after, without a symptom: the action's own or its direct check."""
        before = self._before.pop(request.id, None)
        trend, why = judge(before.finding if before is not None else None, after)
        if not settled:
            why = f"the rollout had not settled after {self._settle_timeout_s:g} s; {why}"
        return Verification(request.id, request.service, None, trend, why, before=before.finding if before else None,
                            after=after, settled=settled, revert=revert)

    # -- timed reverts ------------------------------------------------------------------------------
    def schedule_revert(
        self, request: ApprovalRequest, outcome: Outcome, on_done: Callable[[Decision], Awaitable[None]]
    ) -> bool:
        """For a timed change, run its revert when due (in this process); False when there is none."""
        if outcome.reverts_at is None or outcome.revert is None or outcome.dry_run:
            return False
        if not self._timed_reverts_in_process:
            return True  # the leader's scheduler reverts it on time and reports in the request's thread
        self.spawn(self._revert_when_due(request, outcome.revert, outcome.reverts_at, on_done))
        return True

    async def _revert_when_due(
        self,
        request: ApprovalRequest,
        revert: Proposal,
        due: datetime,
        on_done: Callable[[Decision], Awaitable[None]],
    ) -> None:
        await asyncio.sleep(max(0.0, (due - self._clock()).total_seconds()))
        try:
            proposed = await self.approvals.propose(
                revert.action, request.service, revert.params, BOT_ACTOR, channel=request.channel, system=True
            )
            # The bot acts on what a person already approved: audited, not gated, not stopped by read-only.
            decision = await self.approvals.approve(proposed.request.id, Approver.bot_system(BOT_ACTOR))
        except (ProposalError, SourceError) as exc:
            log.warning("timed revert of %s on %s could not run: %s", request.action, request.service, exc)
            return
        await on_done(decision)

    def spawn(self, work: Awaitable[None]) -> None:
        """Run follow-up work (verification, timed reverts) after the click's handler has returned."""

        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("follow-up work failed")

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for follow-up work started so far (the demo and tests wait for the verdict)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def cancel_pending(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _remember(self, table: dict[str, _Baseline], request_id: str, baseline: _Baseline) -> None:
        table[request_id] = baseline
        while len(table) > MAX_BASELINES:
            del table[next(iter(table))]


def _symptom_finding(diag: Diagnosis, runbooks: Mapping[Symptom, Runbook]) -> Finding | None:
    """The finding of the check that measures the symptom itself (the runbook's first check)."""
    runbook = runbooks.get(diag.symptom)
    name = runbook.symptom_check if runbook is not None else None
    return next((f for f in diag.findings if f.check == name), None) if name else None


def _with(base: Verification, *, note: str, settled: bool = True) -> Verification:
    return Verification(base.request_id, base.service, base.symptom, base.trend, note,
                        settled=settled, revert=base.revert)


def build_remediation(deps: Deps, *, timed_reverts_in_process: bool = True) -> Remediation:
    """One per process: it keeps the baselines of this process' proposals and its follow-up tasks."""
    return Remediation(
        deps.approvals,
        actions=ACTIONS,
        config=deps.config,
        env=deps.action_env,
        sources=deps.sources,
        runbooks=deps.runbooks,
        dry_run=deps.settings.opsbot_dry_run,
        timed_reverts_in_process=timed_reverts_in_process,
    )
