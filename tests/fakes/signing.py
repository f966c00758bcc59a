"""Build and sign HTTP requests exactly as Slack sends them to ``POST /slack/events``.

Bodies are returned as the raw bytes Slack would send, because the signature covers the raw body:
tests must post these bytes unchanged (``post_signed`` does).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import httpx

SIGNING_SECRET = "test-signing-secret"
TEAM_ID = "T0001ABCD"
TEAM_DOMAIN = "acme-ops"
APP_ID = "A0CHATOPS"
BOT_USER_ID = "U0CHATBOT"
ALICE = "U0ALICE01"
CHANNEL_ID = "C0ALERTS1"
CHANNEL_NAME = "ops-alerts"
DEFAULT_RESPONSE_URL = "https://hooks.slack.com/commands/T0001ABCD/1111111111111/AbCdEfGhIjKlMnOp"
DEFAULT_TRIGGER_ID = "1111111111111.1111111111.0123456789abcdef0123456789abcdef"

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def signature(secret: str, body: bytes, timestamp: str) -> str:
    """``v0=`` + hex HMAC-SHA256 over ``v0:{timestamp}:{raw body}`` (Slack's request signing)."""
    basestring = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes | str, timestamp: int | str | None = None) -> dict[str, str]:
    """The two signing headers for ``body``; ``timestamp`` defaults to now (Slack rejects > 300 s skew)."""
    raw = body.encode() if isinstance(body, str) else body
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(secret, raw, ts)}


def slash_command_body(
    text: str,
    *,
    user_id: str = ALICE,
    user_name: str = "alice",
    channel_id: str = CHANNEL_ID,
    channel_name: str = CHANNEL_NAME,
    response_url: str = DEFAULT_RESPONSE_URL,
    command: str = "/diagnose",
    trigger_id: str = DEFAULT_TRIGGER_ID,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
) -> bytes:
    """Form body of a slash command with every field Slack sends, in Slack's order."""
    fields = [
        ("token", "DEPRECATEDverificationTOKEN"),
        ("team_id", team_id),
        ("team_domain", team_domain),
        ("channel_id", channel_id),
        ("channel_name", channel_name),
        ("user_id", user_id),
        ("user_name", user_name),
        ("command", command),
        ("text", text),
        ("api_app_id", api_app_id),
        ("is_enterprise_install", "false"),
        ("response_url", response_url),
        ("trigger_id", trigger_id),
    ]
    return urlencode(fields).encode()


def interactive_body(payload: Mapping[str, Any]) -> bytes:
    """Interactivity requests (block_actions, view_submission...) are ``payload=<urlencoded JSON>``."""
    return b"payload=" + quote(json.dumps(payload, separators=(",", ":"))).encode()


def block_actions_body(payload: Mapping[str, Any]) -> bytes:
    return interactive_body(payload)


def block_actions_payload(
    action_id: str,
    value: str,
    *,
    user_id: str = ALICE,
    user_name: str = "alice",
    channel_id: str = CHANNEL_ID,
    message_ts: str = "1718000042.000200",
    thread_ts: str | None = "1718000000.000100",
    block_id: str = "actions",
    response_url: str = "https://hooks.slack.com/actions/T0001ABCD/2222222222222/QrStUvWxYz012345",
    message: Mapping[str, Any] | None = None,
    trigger_id: str = "2222222222222.1111111111.fedcba9876543210fedcba9876543210",
    button_text: str = "Approve",
) -> dict[str, Any]:
    """A block_actions payload for one button click, shaped like ``block_actions.json``.

    Pass ``message`` (e.g. the stored message from the fake Slack) so handlers that read
    ``body["message"]["blocks"]`` see what the bot really posted.
    """
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": False,
    }
    if thread_ts is not None:
        container["thread_ts"] = thread_ts
    msg = (
        dict(message)
        if message is not None
        else {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": "B0CHATBOT",
            "app_id": APP_ID,
            "ts": message_ts,
            "text": "",
            "team": TEAM_ID,
            "blocks": [],
        }
    )
    if thread_ts is not None and message is None:
        msg["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "DEPRECATEDverificationTOKEN",
        "container": container,
        "trigger_id": trigger_id,
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": CHANNEL_NAME},
        "message": msg,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": button_text, "emoji": True},
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def event_body(
    event: Mapping[str, Any],
    *,
    event_id: str = "Ev0MSG0001",
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    event_time: int | None = None,
) -> bytes:
    """An Events API ``event_callback`` envelope around ``event`` (JSON bytes)."""
    envelope = {
        "token": "DEPRECATEDverificationTOKEN",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUMDAwMUFCQ0QifQ",
    }
    return json.dumps(envelope).encode()


def _headers(
    secret: str,
    body: bytes,
    content_type: str | None,
    retry_num: int | None,
    retry_reason: str,
    timestamp: int | str | None,
) -> dict[str, str]:
    if content_type is None:
        # Events (and url_verification) are JSON; commands and interactivity are form-encoded.
        content_type = JSON if body.lstrip()[:1] == b"{" else FORM
    headers = {"Content-Type": content_type, **sign(secret, body, timestamp)}
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    return headers


def post_signed(
    url: str,
    secret: str,
    body: bytes,
    content_type: str | None = None,
    retry_num: int | None = None,
    *,
    retry_reason: str = "http_timeout",
    timestamp: int | str | None = None,
    timeout: float = 10.0,
) -> httpx.Response:
    """POST ``body`` unchanged with Slack's signing (and, for retries, retry) headers."""
    headers = _headers(secret, body, content_type, retry_num, retry_reason, timestamp)
    return httpx.post(url, content=body, headers=headers, timeout=timeout)


async def apost_signed(
    url: str,
    secret: str,
    body: bytes,
    content_type: str | None = None,
    retry_num: int | None = None,
    *,
    retry_reason: str = "http_timeout",
    timestamp: int | str | None = None,
    timeout: float = 10.0,
) -> httpx.Response:
    """Async ``post_signed`` for tests whose app runs on the same event loop."""
    headers = _headers(secret, body, content_type, retry_num, retry_reason, timestamp)
    async with httpx.AsyncClient(timeout=timeout) as client:
        return await client.post(url, content=body, headers=headers)


def view_submission_payload(
    view: Mapping[str, Any],
    *,
    user_id: str = ALICE,
    user_name: str = "alice",
    trigger_id: str = "3333333333333.1111111111.00112233445566778899aabbccddeeff",
) -> dict[str, Any]:
    """A view_submission payload for submitting ``view`` (e.g. the modal stored by the fake Slack), shaped
    like ``view_submission.json``: the view comes back with its ``private_metadata`` and ``state``."""
    submitted = {"state": {"values": {}}, "hash": f"{time.time():.6f}", "app_id": APP_ID, **dict(view)}
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "DEPRECATEDverificationTOKEN",
        "trigger_id": trigger_id,
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
