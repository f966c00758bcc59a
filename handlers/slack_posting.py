"""Posting rendered messages with the Web API, turning Slack errors into a short reason for the user."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

FRIENDLY = {
    "not_in_channel": "I'm not a member of this channel — invite me with `/invite @opsbot` and try again.",
    "channel_not_found": "I can't post in this conversation (private channel or DM I'm not in).",
    "is_archived": "This channel is archived.",
    "ratelimited": "Slack is rate-limiting me; try again in a minute.",
}


def slack_error_reason(exc: SlackApiError) -> str:
    code = str(exc.response.get("error", "unknown_error")) if exc.response is not None else "unknown_error"
    return FRIENDLY.get(code, f"Slack refused the message ({code}).")


async def post(client: AsyncWebClient, channel: str, message: dict[str, Any], thread_ts: str | None = None) -> str:
    """Post one rendered message; returns its ts."""
    kwargs: dict[str, Any] = {"channel": channel, "text": message["text"], "blocks": message.get("blocks")}
    if thread_ts:
        kwargs["thread_ts"] = thread_ts
    response = await client.chat_postMessage(**kwargs)
    return str(response["ts"])


async def update(client: AsyncWebClient, channel: str, ts: str, message: dict[str, Any]) -> None:
    # Always resend the full blocks: omitting them while passing text would strip the message.
    await client.chat_update(channel=channel, ts=ts, text=message["text"], blocks=message.get("blocks", []))
