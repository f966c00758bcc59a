"""The support bundle from Slack: `/diagnose bundle SERVICE` and the "Compile support bundle" button.

Ack first; then compile (the core redacts before anything leaves), upload the archive into the thread with
the files v2 flow (files.getUploadURLExternal, POST to the upload URL, files.completeUploadExternal with
thread_ts — what `files_upload_v2` does), the comment carrying a short summary. A click's thread is read for
the message that started it, so request IDs an alert quoted are looked up in the logs too.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.bundle import BundleRequest, bundle_window, compile_bundle
from bot.diagnose_request import BundleCommand
from bot.model import Symptom
from bot.render.bundle_blocks import (
    BUNDLE_ACTION,
    bundle_comment,
    bundle_failed_text,
    bundle_root_message,
    button_target,
)
from bot.wiring import Deps
from handlers.slack_posting import post, slack_error_reason

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_click(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        target = button_target(str(action.get("value") or ""), deps.config)
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or container.get("message_ts") or message.get("ts")
        if target is None or not channel or not thread_ts:
            return
        service, symptom = target
        alert = await _thread_start(client, str(channel), str(thread_ts))
        await deliver(deps, client, channel=str(channel), thread_ts=str(thread_ts), user=str(body["user"]["id"]),
                      service=service, symptom=symptom, alert_text=alert)

    app.action(BUNDLE_ACTION)(on_click)


async def answer_command(
    deps: Deps, ack: AsyncAck, respond: AsyncRespond, client: AsyncWebClient, command: BundleCommand,
    *, channel: str, user: str,
) -> None:
    """`/diagnose bundle SERVICE`: a root message in the channel, the archive in its thread."""
    await ack(text=f"Compiling the support bundle for *{command.service}* — it will be uploaded in a thread.")
    try:
        root_ts = await post(client, channel, bundle_root_message(command.service, user))
    except SlackApiError as exc:
        await respond(text=slack_error_reason(exc), response_type="ephemeral")
        return
    await deliver(deps, client, channel=channel, thread_ts=root_ts, user=user, service=command.service)


async def deliver(
    deps: Deps, client: AsyncWebClient, *, channel: str, thread_ts: str, user: str, service: str,
    symptom: Symptom = Symptom.UNKNOWN, alert_text: str | None = None,
) -> None:
    request = BundleRequest(service=service, requester=user, window=bundle_window(deps.config), symptom=symptom,
                            alert_text=alert_text, origin=f"slack:{channel}/{thread_ts}")
    try:
        bundle = await compile_bundle(deps, request)
    except Exception:
        # compile_bundle turns source failures into "unavailable" parts; reaching here is a bug, said in the thread.
        log.exception("support bundle of %s failed", service)
        await _say(client, channel, thread_ts, bundle_failed_text(service))
        return
    try:
        await client.files_upload_v2(
            channel=channel, thread_ts=thread_ts, content=bundle.archive, filename=bundle.filename,
            title=f"Support bundle: {service}", initial_comment=bundle_comment(bundle.summary_line),
        )
    except SlackApiError as exc:
        log.warning("uploading the support bundle of %s failed: %s", service, exc.response.get("error"))
        await _say(client, channel, thread_ts, f":warning: I could not upload the bundle: {slack_error_reason(exc)}")


async def _thread_start(client: AsyncWebClient, channel: str, thread_ts: str) -> str | None:
    """The text of the thread's first message (an alert, say), or None when it cannot be read."""
    try:
        page = await client.conversations_replies(channel=channel, ts=thread_ts, limit=1)
    except SlackApiError as exc:
        log.info("could not read thread %s in %s: %s", thread_ts, channel, exc.response.get("error"))
        return None
    messages = page.get("messages") or []
    if not messages:
        return None
    first = messages[0]
    texts = [str(first.get("text") or "")]
    texts += [str(a.get(k) or "") for a in first.get("attachments") or [] for k in ("title", "text", "fallback")]
    return "\n".join(t for t in texts if t)


async def _say(client: AsyncWebClient, channel: str, thread_ts: str, text: str) -> None:
    try:
        await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
    except SlackApiError as exc:
        log.warning("could not post in thread %s: %s", thread_ts, exc.response.get("error"))
