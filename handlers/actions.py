"""Approval clicks: a proposal button opens the preview modal, submitting it approves, Deny declines.

Thin: ack first, then the core (`bot.remediation`). The clicker is only ever `body["user"]["id"]` from the
signed payload (plus the configured user groups Slack says they are in); the button value and the modal's
private_metadata are lookup keys for the stored request, nothing more. Every click must come from the
message the request was posted in: a button's signed container names it, and the modal carries that
container's channel and ts in its private_metadata, so a submission (or Deny) naming another message, or
none, is refused like a click from elsewhere. Refusals go to the clicker alone
(`chat.postEphemeral`); settled requests replace their buttons in the message with who did what, when, and
the result; a verified success is followed by the verdict in the thread, with the revert where one exists.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.actions.base import Outcome
from bot.approvals import Approver, Decision, DecisionKind, Origin, Proposed, RefusalReason
from bot.remediation import OUTSIDER, Offer, Remediation, Review
from bot.render.approval_blocks import (
    DENY_ACTION,
    MODAL_CALLBACK,
    REVIEW_ACTION,
    channel_of,
    loading_view,
    mention,
    message_ts_of,
    notice_message,
    notice_view,
    preview_view,
    proposal_message,
    request_id_of,
    settle_buttons,
    verification_message,
)
from bot.render.approval_text import decision_line, first_approval_line, hhmm, preview_lines, refusal_line
from bot.render.limits import escape_mrkdwn
from bot.store.approvals import ApprovalRequest, ApprovalStoreError
from bot.wiring import Deps
from handlers.people import People
from handlers.slack_posting import post

log = logging.getLogger(__name__)
# conversations.replies pages to read looking for the message to update (200 messages each).
MAX_REPLY_PAGES = 10
# Refusals that finish the request for good: its buttons are replaced, not just answered privately.
_SETTLING_REFUSALS = frozenset({RefusalReason.EXPIRED, RefusalReason.TARGET_CHANGED})
STORE_DOWN = ("The approvals database is unavailable right now, so nothing was checked or changed. "
              "Try again in a minute.")


def register(app: AsyncApp, deps: Deps, flow: Remediation, people: People) -> None:
    async def approver(client: AsyncWebClient, user: str, request_id: str) -> Approver | None:
        """The clicker as the core judges them; None (refused, audited) for a guest or deactivated account."""
        if not await people.full_member(client, user):
            await flow.refuse(request_id, user, OUTSIDER)
            return None
        return Approver.slack_user(user, await people.groups_of(client, deps.config, user))

    async def on_review(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user = str(body["user"]["id"])
        request_id = str(action.get("value") or "")
        channel, message_ts = _container_of(body)
        view_id = await _open_loading(client, str(body.get("trigger_id") or ""), request_id)
        try:
            clicker = await approver(client, user, request_id)
            review = (await flow.review(request_id, clicker, origin=Origin(channel, message_ts))
                      if clicker is not None else Review(None, refused=OUTSIDER))
        except ApprovalStoreError as exc:
            await _store_down(client, exc, request_id, user=user, channel=channel, view_id=view_id)
            return
        if review.refused is not None:
            text = refusal_line(review.refused, review.required_role, escape_mrkdwn)
            await _update_view(client, view_id, notice_view(request_id, text))
            await _ephemeral(client, channel, user, text)
            return
        if not await _update_view(client, view_id, preview_view(review, channel, message_ts)):
            # No modal (the 3-second trigger expired): the preview goes privately instead; click again to approve.
            lines = "\n".join(preview_lines(review, mention, escape_mrkdwn))
            await _ephemeral(client, channel, user, f"{lines}\nClick the button again to approve or deny.")

    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()  # closes the modal; the result arrives in the channel, the refusal privately
        user = str(body["user"]["id"])
        request_id = request_id_of(view)
        if request_id is None:
            return
        try:
            clicker = await approver(client, user, request_id)
            decision = (await flow.approve(request_id, clicker, origin=Origin(channel_of(view), message_ts_of(view)))
                        if clicker is not None else await flow.outsider_decision(request_id))
        except ApprovalStoreError as exc:
            await _store_down(client, exc, request_id, user=user, channel=channel_of(view),
                              trigger_id=str(body.get("trigger_id") or ""))
            return
        await _after_decision(client, flow, decision, user)

    async def on_deny(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user = str(body["user"]["id"])
        request_id = str(action.get("value") or "")
        modal = body.get("view") or {}  # Deny is pressed inside the preview modal: its origin is the modal's
        view_id = modal.get("id")
        try:
            clicker = await approver(client, user, request_id)
            decision = (await flow.deny(request_id, clicker, origin=Origin(channel_of(modal), message_ts_of(modal)))
                        if clicker is not None else await flow.outsider_decision(request_id))
        except ApprovalStoreError as exc:
            await _store_down(client, exc, request_id, user=user, channel=channel_of(modal), view_id=view_id)
            return
        text = ("Declined: nothing was changed." if decision.kind is DecisionKind.DENIED
                else refusal_line(decision.message, decision.required_role, escape_mrkdwn))
        await _update_view(client, view_id, notice_view(request_id, text))
        await _after_decision(client, flow, decision, user)

    app.action(re.compile(f"^{REVIEW_ACTION}-\\d+$"))(on_review)
    app.action(DENY_ACTION)(on_deny)
    app.view(MODAL_CALLBACK)(on_submit)


# -- posting a diagnosis' proposals -------------------------------------------------------------------------


async def settle_superseded(client: AsyncWebClient, offers: list[Offer]) -> None:
    """Older proposals of the same action on the same service lose their buttons."""
    line = f"Superseded at {hhmm(datetime.now(UTC))} by a newer proposal — nothing was changed."
    for offer in offers:
        for old in offer.proposed.superseded if offer.proposed is not None else ():
            await settle_message(client, old, line)


# -- after a decision -------------------------------------------------------------------------------------------


async def _after_decision(client: AsyncWebClient, flow: Remediation, decision: Decision, clicker: str) -> None:
    request = decision.request
    channel = request.channel if request is not None else None
    if decision.kind is DecisionKind.FIRST_APPROVAL and request is not None:
        await _ephemeral(client, channel, clicker, escape_mrkdwn(decision.message))
        await _announce_first_approval(client, request, decision.required_role or "approver")
        return
    if decision.kind in (DecisionKind.REFUSED, DecisionKind.PREVIEWED):
        text = (escape_mrkdwn(decision.message) if decision.kind is DecisionKind.PREVIEWED
                else refusal_line(decision.message, decision.required_role, escape_mrkdwn))
        await _ephemeral(client, channel, clicker, text)
        if decision.reason not in _SETTLING_REFUSALS:
            return
    line = decision_line(decision, clicker, datetime.now(UTC), mention, escape_mrkdwn)
    if request is None or line is None:
        return
    thread_ts = await settle_message(client, request, line)
    if channel is None or thread_ts is None:
        return
    thread = _Thread(client, channel, thread_ts)
    if decision.reproposal is not None:
        heading = ":arrows_counterclockwise: The target changed since the proposal; here is a fresh one:"
        await _post_proposal(flow, thread, decision.reproposal, heading)
    if decision.kind is DecisionKind.SUCCEEDED and decision.outcome is not None and not decision.outcome.dry_run:
        outcome = decision.outcome
        flow.spawn(_verify_and_post(flow, thread, request, outcome))
        flow.schedule_revert(request, outcome, _revert_poster(thread, clicker))


async def _announce_first_approval(client: AsyncWebClient, request: ApprovalRequest, role: str) -> None:
    """Four eyes: the channel sees the first approval in the request's thread; its buttons stay for the second."""
    if request.channel is None or request.message_ts is None:
        return
    message = await _find_message(client, request.channel, request.message_ts)
    thread_ts = str(message.get("thread_ts") or message["ts"]) if message is not None else request.message_ts
    text = f":ballot_box_with_check: {first_approval_line(request, role, mention, escape_mrkdwn)}"
    try:
        await post(client, request.channel, notice_message(text), thread_ts)
    except SlackApiError as exc:
        log.warning("could not announce the first approval of %s: %s", request.id, exc.response.get("error"))


@dataclass(frozen=True)
class _Thread:
    """Where a request's follow-ups go: the thread of the message that carried its buttons."""

    client: AsyncWebClient
    channel: str
    ts: str

    async def post(self, message: dict[str, Any]) -> str:
        return await post(self.client, self.channel, message, self.ts)


async def _verify_and_post(flow: Remediation, thread: _Thread, request: ApprovalRequest, outcome: Outcome) -> None:
    verification = await flow.verify(request, outcome)
    revert = (await flow.propose(verification.revert, request.service, request.requester, thread.channel)
              if verification.revert is not None else None)
    ts = await thread.post(verification_message(verification, revert))
    if revert is not None:
        await flow.attach([revert], thread.channel, ts)


def _revert_poster(thread: _Thread, clicker: str) -> Callable[[Decision], Awaitable[None]]:
    async def posted(decision: Decision) -> None:
        line = decision_line(decision, clicker, datetime.now(UTC), mention, escape_mrkdwn)
        await thread.post(notice_message(f":alarm_clock: Timed revert — {line or escape_mrkdwn(decision.message)}"))

    return posted


async def _post_proposal(flow: Remediation, thread: _Thread, proposed: Proposed, heading: str) -> None:
    ts = await thread.post(proposal_message(proposed, heading))
    await flow.attach([proposed], thread.channel, ts)


async def settle_message(client: AsyncWebClient, request: ApprovalRequest, line: str) -> str | None:
    """Replace the request's buttons in its message by `line`; returns the message's thread (for follow-ups)."""
    if request.channel is None or request.message_ts is None:
        return None
    message = await _find_message(client, request.channel, request.message_ts)
    if message is None:
        return request.message_ts
    blocks = settle_buttons(message.get("blocks") or [], request.id, line, stamp=f"{time.time_ns() % 10**9:09d}")
    if blocks is not None:
        try:
            await client.chat_update(channel=request.channel, ts=request.message_ts,
                                     text=str(message.get("text") or line), blocks=blocks)
        except SlackApiError as exc:
            log.warning("could not update the message of %s: %s", request.id, exc.response.get("error"))
    return str(message.get("thread_ts") or message["ts"])


async def _find_message(client: AsyncWebClient, channel: str, ts: str) -> dict[str, Any] | None:
    """The message as Slack has it now: its blocks are what the update must resend, minus the buttons."""
    cursor: str | None = None
    try:
        for _ in range(MAX_REPLY_PAGES):
            page = await client.conversations_replies(channel=channel, ts=ts, limit=200, cursor=cursor)
            for message in page.get("messages") or []:
                if message.get("ts") == ts:
                    return dict(message)
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except SlackApiError as exc:
        log.warning("could not read message %s in %s: %s", ts, channel, exc.response.get("error"))
    return None


# -- small Slack helpers ------------------------------------------------------------------------------------


def _container_of(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The channel and ts of the message whose button was clicked, from the signed payload's container."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return (str(channel) if channel else None), (str(message_ts) if message_ts else None)


async def _open_loading(client: AsyncWebClient, trigger_id: str, request_id: str) -> str | None:
    """Open the modal at once: the trigger_id is only good for 3 s and the dry run may take longer."""
    if not trigger_id:
        return None
    try:
        response = await client.views_open(trigger_id=trigger_id, view=loading_view(request_id))
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))
        return None
    return str((response.get("view") or {}).get("id") or "") or None


async def _store_down(client: AsyncWebClient, exc: ApprovalStoreError, request_id: str, *, user: str,
                      channel: str | None, view_id: str | None = None, trigger_id: str = "") -> None:
    """The approvals database failed mid-click: the modal (or, once a submission closed it, a fresh one
    opened with the submission's trigger_id) and a private message say so; nothing ran."""
    log.warning("click on %s: %s", request_id, exc)
    if view_id:
        await _update_view(client, view_id, notice_view(request_id, STORE_DOWN))
    else:
        await _open_notice(client, trigger_id, request_id, STORE_DOWN)
    await _ephemeral(client, channel, user, STORE_DOWN)


async def _open_notice(client: AsyncWebClient, trigger_id: str, request_id: str, text: str) -> None:
    if not trigger_id:
        return
    try:
        await client.views_open(trigger_id=trigger_id, view=notice_view(request_id, text))
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))


async def _update_view(client: AsyncWebClient, view_id: str | None, view: dict[str, Any]) -> bool:
    if not view_id:
        return False
    try:
        await client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        log.warning("views.update failed: %s", exc.response.get("error"))
        return False
    return True


async def _ephemeral(client: AsyncWebClient, channel: str | None, user: str, text: str) -> None:
    if not channel:
        return
    try:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as exc:
        log.warning("could not answer %s privately: %s", user, exc.response.get("error"))
