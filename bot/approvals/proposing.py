"""Proposing: preview an action on a service (a server-side dry run, changing nothing), store it as a
pending request for the buttons, and record the message the buttons went out in.

`Approvals` (bot.approvals.service) builds on this with the deciding half: approve, deny, expire.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bot.actions.base import Action, ActionEnv, ActionError, Preview
from bot.approvals.decision import BadProposal, NothingToChange, ProposalRefused, Proposed
from bot.approvals.trail import BOT_ACTOR, Trail, message_link
from bot.config import OpsConfig
from bot.model import Target
from bot.sources.errors import SourceError
from bot.store.approvals import ApprovalRequest, ApprovalStore, AuditEntry, AuditEvent, NewRequest


class Proposals:
    def __init__(
        self, store: ApprovalStore, config: OpsConfig, actions: Mapping[str, Action[Any]], env: ActionEnv
    ) -> None:
        self.store = store
        self._config = config
        self._actions = actions
        self._env = env
        self._trail = Trail(store)

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
        or ProposalRefused (read-only mode, blocked preview, source down; NothingToChange when the
        preview finds nothing to change). `system` is the bot's own
        timed revert, which read-only mode lets through (audited as such). With `awaiting_message` (its
        buttons are about to be posted) people's clicks are refused until `attach_message`."""
        if self._config.read_only and not system:
            raise ProposalRefused("The bot is in read-only mode (ops config read_only): no actions are offered.")
        _, preview = await self.preview(action_name, service, raw)
        if preview.blocked:
            raise ProposalRefused(f"{action_name} on {service} cannot run now: {preview.blocked}")
        if preview.unchanged:  # a button (for four eyes, two admins) to change nothing helps nobody
            raise NothingToChange(f"nothing to change — {preview.unchanged}")
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
