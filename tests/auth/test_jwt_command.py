"""`/diagnose jwt <token>` over signed HTTP: an ephemeral ack only, nothing in the channel, the token in no
log record and not in the reply."""

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from aiohttp.test_utils import TestServer

from bot.app import build_app, build_web_app
from bot.demo import run_demo
from tests.auth.platform import platform
from tests.fakes.signing import CHANNEL_ID, FORM, SIGNING_SECRET, sign, slash_command_body
from tests.fakes.slack_api import FakeSlack


def expired_token() -> str:
    now = datetime.now(UTC)
    claims = {"sub": "user-42", "iat": int((now - timedelta(hours=3)).timestamp()),
              "exp": int((now - timedelta(hours=2)).timestamp())}
    return jwt.encode(claims, "a-signing-key-long-enough-for-hs256-0123456789", algorithm="HS256",
                      headers={"kid": "k-2026-11"})


def leaks(token: str, text: str) -> bool:
    return token in text or token.split(".")[2] in text or token.split(".")[1] in text


async def test_jwt_inspection_is_ephemeral_and_never_logged(
    tmp_path: Path, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # everything, including slack_bolt's and slack_sdk's debug output
    token = expired_token()
    async with platform("healthy", tmp_path, slack_bot_token="xoxb-auth-test", slack_signing_secret=SIGNING_SECRET,
                        slack_api_url=fake_slack.api_url) as deps:
        server = TestServer(build_web_app(build_app(deps.settings, deps), deps))
        await server.start_server()
        try:
            body = slash_command_body(f"jwt {token}", response_url=fake_slack.response_url(channel=CHANNEL_ID))
            async with httpx.AsyncClient() as http:
                response = await http.post(str(server.make_url("/slack/events")), content=body,
                                           headers={**sign(SIGNING_SECRET, body), "Content-Type": FORM})
            # Anything the handler might do after the ack (a post, a response_url call) would land by now.
            await asyncio.sleep(0.5)
        finally:
            await server.close()
    assert response.status_code == 200
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    assert "JWT inspection" in reply["text"] and "Expired 2 h" in reply["text"] and "k-2026-11" in reply["text"]
    assert not leaks(token, json.dumps(reply))
    posted = [c for c in fake_slack.calls() if c.method != "auth.test"]
    assert posted == [], "nothing posted in the channel or through the response_url"
    assert caplog.records, "debug logging was captured"
    for record in caplog.records:
        assert not leaks(token, record.getMessage()), f"token in a log record of {record.name}"


def test_demo_console_inspects_without_echoing_the_token() -> None:
    import io

    token = expired_token()
    out = io.StringIO()
    assert run_demo(io.StringIO(f"/diagnose jwt {token}\n"), out) == 0
    transcript = out.getvalue()
    assert "/diagnose jwt <token hidden>" in transcript
    assert "JWT inspection" in transcript and "Expired 2 h" in transcript
    assert not leaks(token, transcript)
