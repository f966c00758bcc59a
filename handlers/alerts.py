"""Alert triage in the channel: the `message` (and `app_mention`) listener and the snooze buttons. Thin: the
triage desk (bot/triage/desk.py) decides; this module hands it events and gives it a paced Slack client.

Events are acked by Bolt before the listener runs; the desk only counts and queues, and the diagnoses and
posts run in the background, so a storm of deliveries is answered at once.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.diagnose_request import help_text
from bot.model import Diagnosis
from bot.remediation import Remediation
from bot.render.triage_blocks import SNOOZE_ACTION_PREFIX
from bot.triage.desk import SlackMessage, TriageDesk, Who
from bot.triage.pacing import Pacer
from bot.wiring import Deps
from handlers.proposals import post_findings
from handlers.slack_posting import post, update

log = logging.getLogger(__name__)
SNOOZE_ACTION = re.compile("^" + re.escape(SNOOZE_ACTION_PREFIX) + r"\d+$")


class PacedClient(AsyncWebClient):
    """The app's client, but every call naming a channel first waits for that channel's next slot."""

    def __init__(self, base: AsyncWebClient, pacer: Pacer) -> None:
        super().__init__(token=base.token, base_url=base.base_url, timeout=base.timeout,
                         retry_handlers=base.retry_handlers, logger=base.logger)
        self._pacer = pacer

    async def api_call(
        self, api_method: str, *, http_verb: str = "POST", files: dict[str, Any] | None = None,
        data: Any = None, params: dict[str, Any] | None = None, json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None, auth: dict[str, Any] | None = None,
    ) -> AsyncSlackResponse:
        channel = next((str(c["channel"]) for c in (json, data, params) if isinstance(c, dict) and c.get("channel")),
                       None)
        if channel:
            await self._pacer.wait(channel)
        return await super().api_call(api_method, http_verb=http_verb, files=files, data=data, params=params,
                                      json=json, headers=headers, auth=auth)


class SlackSink:
    """How the desk reaches Slack: through the paced client, findings with their approval buttons."""

    def __init__(self, client: AsyncWebClient, deps: Deps, flow: Remediation | None) -> None:
        self._client = client
        self._deps = deps
        self._flow = flow

    async def post(self, channel: str, message: SlackMessage, thread_ts: str | None) -> str:
        return await post(self._client, channel, message, thread_ts)

    async def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        await update(self._client, channel, ts, message)

    async def post_findings(self, channel: str, thread_ts: str, diag: Diagnosis, requester: str) -> None:
        await post_findings(self._client, diag, channel=channel, thread_ts=thread_ts, requester=requester,
                            guide_link=self._deps.config.guide_link, flow=self._flow)


def build_desk(client: AsyncWebClient, deps: Deps, flow: Remediation | None) -> TriageDesk:
    paced = PacedClient(client, Pacer(deps.config.triage.channel_posts_per_s))
    return TriageDesk(
        config=deps.config, coordination=deps.coordination, sink=SlackSink(paced, deps, flow),
        diagnose=deps.diagnose, runnable=deps.runnable, help_text=help_text(deps.config, deps.runnable),
        audit=deps.approvals.store,
    )


def _who(context: AsyncBoltContext, body: dict[str, Any]) -> Who:
    # Bolt's own filter drops events from this bot user / bot id (from auth.test); triage also drops our
    # app id, so a message the app posts through another token is not answered either.
    ids = {context.bot_id, body.get("api_app_id")}
    return Who(bot_ids=frozenset(i for i in ids if isinstance(i, str) and i), bot_user=context.bot_user_id)


def register(app: AsyncApp, deps: Deps, flow: Remediation | None = None) -> TriageDesk:
    desk = build_desk(app.client, deps, flow)

    async def on_message(event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        try:
            outcome = await desk.handle(event, _who(context, body))
        except Exception:
            # Coordination down or a bug: logged with the event's kind only (alert text may hold secrets).
            log.exception("triage of a %s event failed", event.get("subtype") or event.get("type"))
            return
        log.debug("triage %s: %s", body.get("event_id"), outcome)

    async def on_snooze(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        fp_key, _, minutes = str(action.get("value") or "").partition("|")
        channel = str((body.get("channel") or {}).get("id") or "")
        container = body.get("container") or {}
        thread_ts = container.get("thread_ts") or container.get("message_ts")
        user = str((body.get("user") or {}).get("id") or "")
        if not (channel and user and minutes.isdigit()):
            return
        if not await desk.snooze(channel, thread_ts, fp_key, int(minutes), user):
            log.warning("refused a snooze click with a value this bot did not offer")

    app.event("app_mention")(on_message)
    app.event("message")(on_message)
    app.action(SNOOZE_ACTION)(on_snooze)
    return desk
