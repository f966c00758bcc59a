"""Events API listeners. Every subscribed event must match a listener, or Bolt answers 404 and Slack
retries it (and eventually disables the subscription). Alert triage hangs off the message listener."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.diagnose_request import help_text
from bot.wiring import Deps

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_mention(event: dict[str, Any], client: AsyncWebClient) -> None:
        thread = str(event.get("thread_ts") or event["ts"])
        await client.chat_postMessage(
            channel=str(event["channel"]),
            thread_ts=thread,
            text="Ask me with `/diagnose SERVICE [SYMPTOM]`.\n" + help_text(deps.config, deps.runnable),
        )

    async def on_message(event: dict[str, Any]) -> None:
        # Messages are acknowledged and, until alert triage exists, not acted on.
        log.debug("message event %s in %s ignored", event.get("subtype") or "plain", event.get("channel"))

    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
