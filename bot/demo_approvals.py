"""Approvals in the demo console: numbered proposals, `click N` (preview), `approve N`, `deny N`, and
`propose ACTION SERVICE [key=value ...]` for any action a diagnosis did not propose (as `opsbot act` does).

The console is one person, `U0DEMOYOU`, an admin in the demo's in-memory config; `as U0DEMOBUD approve N`
acts as a second admin, which high-risk actions need (four eyes: two different admins approve; the first
approval is recorded, the second runs it).
Everything runs through the same core as Slack (`bot.remediation`), against the sandbox platform.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from bot.approvals import Approver, Decision, DecisionKind, ProposalError, Proposed
from bot.config import OpsConfig, RoleMembers
from bot.diagnose_request import ACT_WORD, ActCommand, BadRequest, parse_act
from bot.model import Diagnosis
from bot.remediation import Remediation
from bot.render import proposal_phrase
from bot.render.approval_text import (
    decision_line,
    first_approval_line,
    preview_lines,
    refusal_line,
    request_phrase,
    verification_lines,
)
from bot.store.approvals import RequestStatus

DEMO_USER = "U0DEMOYOU"
BUDDY = "U0DEMOBUD"
HELP = (
    "Approvals: `click N` shows what proposal N would change (a server-side dry run), `approve N` runs it, "
    "`deny N` declines it; `propose ACTION SERVICE [key=value ...]` (or `/diagnose act ...`) offers any action "
    "(e.g. `propose scale api-gateway replicas=8`). Numbers stay valid for the whole session, as Slack's "
    f"buttons stay until they expire. You are {DEMO_USER} (admin); `as {BUDDY} approve N` is a second admin: "
    "high-risk actions need two approvals from different people (the first is recorded, the second runs it)."
)
PROPOSE_USAGE = "`propose ACTION SERVICE [key=value ...]`, e.g. `propose scale api-gateway replicas=8`"
_COMMAND = re.compile(r"^(?:as\s+(?P<user>[UW][A-Z0-9]{2,})\s+)?(?P<verb>click|approve|deny)\s+(?P<n>\S+)$")
_DIAGNOSE_ACT = re.compile(rf"^/diagnose\s+{ACT_WORD}(\s|$)", re.IGNORECASE)


def demo_config(config: OpsConfig) -> OpsConfig:
    """Both demo people are admins; the sandbox settles at once, so verification needs no extra delay.

    The seeded platform database (bot.sandbox.platform_data) is seconds old, not hours: a query counts as
    long after 1 s instead of 5 s, and terminate-idle ends sessions idle for 1 s instead of the guide's
    hour, so `/diagnose api-gateway slow queries` proposes cancelling the report job and `propose
    terminate-idle` lists the services' idle connections within a demo's first seconds.
    """
    admins = RoleMembers(users=(DEMO_USER, BUDDY))
    limits = config.action_limits.model_copy(
        update={"verify_delay_s": 0, "idle_older_than": "1s", "min_idle_older_than": "1s"})
    thresholds = config.thresholds.model_copy(update={"query_long_s": 1.0})
    return config.model_copy(update={"roles": {**config.roles, "admin": admins}, "action_limits": limits,
                                     "thresholds": thresholds})


class DemoApprovals:
    def __init__(self, flow: Remediation, say: Callable[[str], None], config: OpsConfig) -> None:
        self.flow = flow
        self.say = say
        self.config = config
        # One numbering for the whole session: Slack's buttons stay clickable until they expire, so an
        # earlier proposal (a revert offer, say) must stay reachable after the next diagnosis.
        self.offered: list[Proposed] = []

    def handles(self, line: str) -> bool:
        text = line.strip()
        return (_COMMAND.match(text) is not None or text.split(None, 1)[:1] == ["propose"]
                or (_DIAGNOSE_ACT.match(text) is not None and ACT_WORD not in self.config.services))

    async def offer(self, diag: Diagnosis) -> None:
        """Number the diagnosis' proposals as the buttons Slack would show, after the earlier ones."""
        offers = await self.flow.offer(diag, DEMO_USER)
        for offer in offers:
            if offer.proposed is None:
                self.say(f"     [-] {proposal_phrase(offer.proposal)} — not offered: {offer.unavailable}")
                continue
            self._add(offer.proposed, offer.proposal.reason)
        if any(offer.proposed is not None for offer in offers):
            self.say("     (`click N` to preview, `approve N` to run, `deny N` to decline)")

    def _add(self, proposed: Proposed, reason: str = "") -> None:
        self.offered.append(proposed)
        why = f" — {reason}" if reason else ""
        self.say(f"     [{len(self.offered)}] {request_phrase(proposed.request)}{why}")

    async def handle(self, line: str) -> None:
        text = line.strip()
        if text.split(None, 1)[:1] == ["propose"] or _DIAGNOSE_ACT.match(text):
            # What follows `propose` or `/diagnose act`
            await self._propose(text.split(None, 2)[-1] if text.startswith("/") else text.removeprefix("propose"))
            return
        match = _COMMAND.match(text)
        if match is None:
            return
        number = match.group("n")
        if not number.isdigit() or not 1 <= int(number) <= len(self.offered):
            self.say(await self._no_such(number))
            return
        request_id = self.offered[int(number) - 1].request.id
        user = match.group("user") or DEMO_USER
        approver = Approver.slack_user(user)
        verb = match.group("verb")
        if verb == "click":
            review = await self.flow.review(request_id, approver)
            if review.refused is not None:
                self.say(f"[only {user} can see this] {refusal_line(review.refused, review.required_role)}")
                return
            self.say("[preview]\n" + "\n".join(f"  {line}" for line in preview_lines(review)))
            return
        decision = await (self.flow.approve(request_id, approver) if verb == "approve"
                          else self.flow.deny(request_id, approver))
        await self._report(decision, user)

    async def _no_such(self, number: str) -> str:
        """Name the numbers still on offer (pending: Slack still shows their buttons)."""
        pending = [str(n) for n, proposed in enumerate(self.offered, 1)
                   if (stored := await self.flow.approvals.store.get(proposed.request.id)) is not None
                   and stored.status is RequestStatus.PENDING]
        if not pending:
            return (f"There is no proposal {number!r}, and none is on offer now: a diagnosis or "
                    f"{PROPOSE_USAGE} offers one.")
        which = f"proposal {pending[0]} is" if len(pending) == 1 else f"proposals {', '.join(pending)} are"
        return f"There is no proposal {number!r}; {which} on offer."

    async def _propose(self, words: str) -> None:
        """`ACTION SERVICE [k=v ...]` after `propose` or `/diagnose act`, read as Slack reads `/diagnose act`:
        names in any case, parameters as key=value, each key once."""
        act = _parse_propose(words, self.config, self.flow.action_names)
        if isinstance(act, BadRequest):
            self.say(f"[only you can see this] Not proposed: {act.message}")
            return
        try:
            proposed = await self.flow.approvals.propose(act.action, act.service, dict(act.params), DEMO_USER)
        except ProposalError as exc:
            self.say(f"[only you can see this] Not proposed: {exc}")
            return
        self.say(f"[#ops-support] Proposed by {DEMO_USER}: {proposed.preview.summary}")
        self._add(proposed)

    async def _report(self, decision: Decision, user: str) -> None:
        line = decision_line(decision, user, datetime.now(UTC))
        if decision.kind is DecisionKind.FIRST_APPROVAL and decision.request is not None:
            self.say(f"[#ops-support thread] {first_approval_line(decision.request, decision.required_role or '')}")
            self.say(f"  (`as {BUDDY} approve N` gives the second approval)" if user != BUDDY
                     else f"  (`approve N` as {DEMO_USER} gives the second approval)")
            return
        if decision.kind in (DecisionKind.REFUSED, DecisionKind.PREVIEWED):
            self.say(f"[only {user} can see this] {refusal_line(decision.message, decision.required_role)}"
                     if decision.kind is DecisionKind.REFUSED else f"[only {user} can see this] {decision.message}")
        if line is not None:
            self.say(f"[message updated] {line}")
        if decision.reproposal is not None:
            self.say("  └─ thread: the target changed; a fresh proposal:")
            self._add(decision.reproposal)
        outcome, request = decision.outcome, decision.request
        if decision.kind is not DecisionKind.SUCCEEDED or outcome is None or request is None or outcome.dry_run:
            return
        if self.flow.schedule_revert(request, outcome, self._timed_revert_done):
            self.say("  └─ thread: the revert is scheduled (in this process; the demo ends before it is due).")
        # Only a change that rolls pods has a rollout to wait for (not cancel-query, flush-cache, terminate-idle).
        waits = "" if await self.flow.settled_now(request) else "waiting for the rollout, then "
        self.say(f"  └─ thread: verifying ({waits}re-running the checks)…")
        verification = await self.flow.verify(request, outcome)
        self.say("\n".join(f"     {line}" for line in verification_lines(verification)))
        if verification.revert is not None:
            revert = await self.flow.propose(verification.revert, request.service, request.requester)
            if revert is not None:
                self._add(revert, "revert")

    async def _timed_revert_done(self, decision: Decision) -> None:
        self.say(f"[timed revert] {decision_line(decision, 'opsbot', datetime.now(UTC)) or decision.message}")


def _parse_propose(words: str, config: OpsConfig, actions: frozenset[str]) -> ActCommand | BadRequest:
    tokens = words.split()
    if len(tokens) < 2:
        return BadRequest(f"Usage: {PROPOSE_USAGE}.")
    bare = [token for token in tokens[2:] if "=" not in token]
    if bare:
        hint = f" (say mode={bare[0].lower()})" if bare[0].lower() in ("on", "off") else ""
        return BadRequest(f"`{bare[0][:40]}` is not a key=value parameter{hint}. Usage: {PROPOSE_USAGE}.")
    act = parse_act(f"{ACT_WORD} {words}", config, actions)
    if act is None:  # a service named like the act word: not reachable through `/diagnose act`
        return BadRequest(f"Usage: {PROPOSE_USAGE}.")
    return act
