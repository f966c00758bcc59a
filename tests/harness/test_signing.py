"""Requests built by tests.fakes.signing are what Slack sends, and their signatures verify."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk.signature import SignatureVerifier

from tests.fakes.signing import (
    SIGNING_SECRET,
    apost_signed,
    block_actions_body,
    block_actions_payload,
    event_body,
    post_signed,
    sign,
    signature,
    slash_command_body,
)

# Verbatim copy of reference/slack-payloads/slash_command.txt (the project must not read ../shared).
SLASH_COMMAND_FIXTURE = (
    "token=DEPRECATEDverificationTOKEN&team_id=T0001ABCD&team_domain=acme-ops&channel_id=C0ALERTS1"
    "&channel_name=ops-alerts&user_id=U0ALICE01&user_name=alice&command=%2Fdiagnose&text=auth-service+errors"
    "&api_app_id=A0CHATOPS&is_enterprise_install=false"
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0001ABCD%2F1111111111111%2FAbCdEfGhIjKlMnOp"
    "&trigger_id=1111111111111.1111111111.0123456789abcdef0123456789abcdef"
)


def test_signature_matches_known_vector() -> None:
    # Computed independently: printf 'v0:1531420618:body' | openssl dgst -sha256 -hmac secret
    expected = "v0=78e394d129df51c593e1d449277f576c39c361411fecc54edd326794263d3f84"
    assert signature("secret", b"body", "1531420618") == expected
    assert sign("secret", "body", timestamp=1531420618) == {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": expected,
    }


@pytest.mark.parametrize(
    "body",
    [
        slash_command_body("auth-service errors"),
        block_actions_body(block_actions_payload("approve_remediation", "req_7f3c9a")),
        event_body({"type": "message", "text": "héllo ✓", "channel": "C0ALERTS1", "ts": "1.2"}),
    ],
)
def test_sign_agrees_with_slack_sdk_verifier(body: bytes) -> None:
    headers = sign(SIGNING_SECRET, body)
    verifier = SignatureVerifier(SIGNING_SECRET)
    ts = headers["X-Slack-Request-Timestamp"]
    assert headers["X-Slack-Signature"] == verifier.generate_signature(timestamp=ts, body=body.decode())
    assert verifier.is_valid(body=body, timestamp=ts, signature=headers["X-Slack-Signature"])
    assert not SignatureVerifier("other-secret").is_valid(
        body=body, timestamp=ts, signature=headers["X-Slack-Signature"]
    )
    assert not verifier.is_valid(body=body + b"x", timestamp=ts, signature=headers["X-Slack-Signature"])


def test_old_timestamp_is_rejected_by_verifier() -> None:
    body = slash_command_body("x")
    old = int(time.time()) - 301
    headers = sign(SIGNING_SECRET, body, timestamp=old)
    assert not SignatureVerifier(SIGNING_SECRET).is_valid(
        body=body, timestamp=str(old), signature=headers["X-Slack-Signature"]
    )


def test_slash_command_body_reproduces_fixture() -> None:
    assert slash_command_body("auth-service errors").decode() == SLASH_COMMAND_FIXTURE


def test_block_actions_body_is_payload_form_field() -> None:
    payload = block_actions_payload("approve_remediation", "req_7f3c9a", user_id="U0BOB0002")
    body = block_actions_body(payload)
    fields = parse_qs(body.decode())
    assert list(fields) == ["payload"]
    decoded = json.loads(fields["payload"][0])
    assert decoded == payload
    assert decoded["user"]["id"] == "U0BOB0002"
    assert decoded["actions"][0]["value"] == "req_7f3c9a"
    assert decoded["container"]["message_ts"] == decoded["message"]["ts"]


def test_event_body_envelope() -> None:
    envelope = json.loads(event_body({"type": "app_mention", "text": "hi"}, event_id="Ev9"))
    assert envelope["type"] == "event_callback"
    assert envelope["event_id"] == "Ev9"
    assert envelope["event"] == {"type": "app_mention", "text": "hi"}
    assert envelope["authorizations"][0]["user_id"] == "U0CHATBOT"


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slack/events", seen
    server.shutdown()
    server.server_close()


def _assert_verifiable(request: dict[str, Any]) -> None:
    headers = request["headers"]
    assert SignatureVerifier(SIGNING_SECRET).is_valid(
        body=request["body"],
        timestamp=headers["x-slack-request-timestamp"],
        signature=headers["x-slack-signature"],
    )


def test_post_signed_sends_raw_body_and_headers(recorder: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = recorder
    body = slash_command_body("auth-service errors")
    assert post_signed(url, SIGNING_SECRET, body).status_code == 200
    event = event_body({"type": "message"})
    assert post_signed(url, SIGNING_SECRET, event, retry_num=1).status_code == 200
    assert seen[0]["body"] == body
    assert seen[0]["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert "x-slack-retry-num" not in seen[0]["headers"]
    assert seen[1]["headers"]["content-type"] == "application/json"
    assert seen[1]["headers"]["x-slack-retry-num"] == "1"
    assert seen[1]["headers"]["x-slack-retry-reason"] == "http_timeout"
    for request in seen:
        _assert_verifiable(request)


async def test_apost_signed(recorder: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = recorder
    body = block_actions_body(block_actions_payload("reject_remediation", "req_1"))
    response = await apost_signed(url, SIGNING_SECRET, body)
    assert response.status_code == 200
    assert seen[0]["body"] == body
    _assert_verifiable(seen[0])
