"""The Slack side of scheduled work (`bot.scheduled_jobs.Notifier`): prevention posts to the ops channel,
expired or interrupted requests lose their buttons, timed reverts are reported in the change's thread.

Only the leader replica calls these. A failing Slack call is logged and never stops the job: the request's
state is already settled in the database, and the message is cosmetic next to it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.approvals import Decision, DecisionKind, RefusalReason
from bot.approvals.trail import EXPIRED_MESSAGE
from bot.render.approval_blocks import mention, notice_message
from bot.render.approval_text import decision_line, hhmm, request_phrase
from bot.render.limits import escape_mrkdwn
from bot.store.approvals import ApprovalRequest
from handlers.actions import settle_message
from handlers.slack_posting import post

log = logging.getLogger(__name__)


class SlackNotifier:
    def __init__(self, client: AsyncWebClient, ops_channel: str | None) -> None:
        self._client = client
        self._channel = ops_channel

    async def post(self, text: str) -> bool:
        if not self._channel:
            log.warning("OPS_CHANNEL is not set: prevention warnings are not posted")
            return False
        try:
            await post(self._client, self._channel, notice_message(escape_mrkdwn(text)))
        except SlackApiError as exc:
            log.warning("could not post to the ops channel: %s", exc.response.get("error"))
            return False
        return True

    async def expired(self, request: ApprovalRequest) -> None:
        decision = Decision(DecisionKind.REFUSED, EXPIRED_MESSAGE, request=request, reason=RefusalReason.EXPIRED)
        line = decision_line(decision, request.requester, datetime.now(UTC), mention, escape_mrkdwn)
        await self._settle(request, line or EXPIRED_MESSAGE)

    async def interrupted(self, request: ApprovalRequest) -> None:
        line = (f"Interrupted at {hhmm(datetime.now(UTC))}: {escape_mrkdwn(request_phrase(request))} — the bot "
                "stopped while executing it; check the target's state before retrying.")
        await self._settle(request, line)

    async def timed_revert(self, origin: ApprovalRequest | None, decision: Decision) -> None:
        line = decision_line(decision, "opsbot", datetime.now(UTC), mention, escape_mrkdwn)
        text = f":alarm_clock: Timed revert — {line or escape_mrkdwn(decision.message)}"
        thread = await self._thread_of(origin) if origin is not None else None
        channel = origin.channel if origin is not None and origin.channel else self._channel
        if channel is None:
            return
        try:
            await post(self._client, channel, notice_message(text), thread)
        except SlackApiError as exc:
            log.warning("could not report the timed revert: %s", exc.response.get("error"))

    async def _settle(self, request: ApprovalRequest, line: str) -> None:
        try:
            await settle_message(self._client, request, line)
        except SlackApiError as exc:
            log.warning("could not update the message of %s: %s", request.id, exc.response.get("error"))

    async def _thread_of(self, origin: ApprovalRequest) -> str | None:
        """The thread the request's message is in: replies to any message of a thread start with its parent."""
        if origin.channel is None or origin.message_ts is None:
            return None
        try:
            page = await self._client.conversations_replies(channel=origin.channel, ts=origin.message_ts, limit=1)
        except SlackApiError as exc:
            log.warning("could not read the thread of %s: %s", origin.id, exc.response.get("error"))
            return origin.message_ts
        first = (page.get("messages") or [{}])[0]
        return str(first.get("thread_ts") or first.get("ts") or origin.message_ts)
