"""`opsbot run` in HTTP mode, signed requests, the fake Slack Web API and the sandbox platform.

Covers: the slash command acked within 3 s with an ephemeral reply, a root message plus threaded findings
carrying the measured error rate and the suspect revision, the root updated with the verdict, signature and
timestamp checks, Events API retries handled once, 429s retried per Retry-After, and a dead source
turning into an error finding while the ack stays fast.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.sandbox.runner import Sandbox
from tests.e2e.botproc import BotProcess
from tests.e2e.conftest import bot_env
from tests.fakes.signing import CHANNEL_ID, SIGNING_SECRET, event_body, post_signed, slash_command_body
from tests.fakes.slack_api import FakeSlack

ACK_BUDGET_S = 3.0


def _thread_text(fake_slack: FakeSlack, root_ts: str) -> str:
    messages = fake_slack.thread(CHANNEL_ID, root_ts)
    return "\n".join(json.dumps(m.get("blocks", [])) + m.get("text", "") for m in messages)


def _command(bot: BotProcess, text: str) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = post_signed(bot.events_url, SIGNING_SECRET, slash_command_body(text))
    return response, time.perf_counter() - started


def test_diagnose_posts_root_and_threaded_findings(bot: BotProcess, fake_slack: FakeSlack) -> None:
    response, elapsed = _command(bot, "auth-service errors")
    assert response.status_code == 200 and elapsed < ACK_BUDGET_S
    assert "Diagnosing" in response.text and "auth-service" in response.text

    root = fake_slack.wait_for("chat.postMessage", lambda c: "thread_ts" not in c.params)[0]
    root_ts = root.response["ts"]
    fake_slack.wait_for("chat.update", lambda c: c.params.get("ts") == root_ts, timeout=30)
    thread = _thread_text(fake_slack, root_ts)
    assert "revision 7" in thread.lower()
    assert "12." in thread  # the measured error rate (~12 %) from the sandbox metrics API
    assert "auth-service:2.5.0" in thread
    assert all(call.ok for call in fake_slack.calls("chat.postMessage")), "every post passed Block Kit checks"
    updated = fake_slack.message(CHANNEL_ID, root_ts)
    assert updated is not None and "revision 7" in json.dumps(updated).lower()


def test_bad_input_gets_an_ephemeral_answer_and_posts_nothing(bot: BotProcess, fake_slack: FakeSlack) -> None:
    response, elapsed = _command(bot, "auth-servce errors")
    assert response.status_code == 200 and elapsed < ACK_BUDGET_S
    assert "Did you mean `auth-service`" in response.text
    help_response, _ = _command(bot, "help")
    assert "high_error_rate" in help_response.text
    time.sleep(0.5)
    assert fake_slack.calls("chat.postMessage") == []


def test_bad_signature_and_stale_timestamp_are_refused(bot: BotProcess, fake_slack: FakeSlack) -> None:
    body = slash_command_body("auth-service errors")
    assert post_signed(bot.events_url, "wrong-secret", body).status_code == 401
    stale = int(time.time()) - 301
    assert post_signed(bot.events_url, SIGNING_SECRET, body, timestamp=stale).status_code == 401
    unsigned = httpx.post(bot.events_url, content=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status_code == 401
    time.sleep(0.3)
    assert fake_slack.calls("chat.postMessage") == []


def _duplicate_counter(bot: BotProcess) -> float:
    for line in httpx.get(f"{bot.url}/metrics").text.splitlines():
        if line.startswith("opsbot_events_duplicate_total "):
            return float(line.split()[1])
    raise AssertionError("opsbot_events_duplicate_total not exposed")


def test_events_api_retries_are_handled_once(bot: BotProcess) -> None:
    event = {"type": "message", "user": "U0ALICE01", "text": "hello", "channel": CHANNEL_ID,
             "ts": "1718000000.000100", "event_ts": "1718000000.000100", "channel_type": "channel"}
    body = event_body(event, event_id="Ev0RETRY01")
    before = _duplicate_counter(bot)
    assert post_signed(bot.events_url, SIGNING_SECRET, body).status_code == 200
    assert post_signed(bot.events_url, SIGNING_SECRET, body, retry_num=1).status_code == 200
    assert post_signed(bot.events_url, SIGNING_SECRET, body, retry_num=2).status_code == 200
    assert _duplicate_counter(bot) == before + 2
    other = event_body(event, event_id="Ev0OTHER01")
    assert post_signed(bot.events_url, SIGNING_SECRET, other).status_code == 200
    assert _duplicate_counter(bot) == before + 2


def test_rate_limited_posts_are_retried_after_retry_after(bot: BotProcess, fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    response, elapsed = _command(bot, "auth-service errors")
    assert response.status_code == 200 and elapsed < ACK_BUDGET_S
    calls = fake_slack.wait_for("chat.postMessage", lambda c: c.ok, count=2, timeout=30)
    limited = [c for c in fake_slack.calls("chat.postMessage") if c.status == 429]
    assert len(limited) == 1
    assert calls[0].received_at - limited[0].received_at >= 1.0


def test_health_ready_and_metrics_endpoints(bot: BotProcess) -> None:
    assert httpx.get(f"{bot.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{bot.url}/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {
        "kubernetes": True, "metrics_api": True, "coordination": True}
    assert "opsbot_commands_total" in httpx.get(f"{bot.url}/metrics").text


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A TCP server that accepts connections and never answers: the slowest possible metrics API."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def test_a_hanging_source_becomes_an_error_finding_and_the_ack_stays_fast(
    fake_slack: FakeSlack, sandbox: Sandbox, tmp_path: Path, black_hole: str
) -> None:
    config = tmp_path / "ops.yaml"
    config.write_text("diagnosis: {check_timeout_s: 1.5}\n")
    env = bot_env(fake_slack, sandbox, tmp_path / "kubeconfig", METRICS_API_URL=black_hole,
                  OPSBOT_CONFIG=str(config))
    with BotProcess(env) as bot:
        response, elapsed = _command(bot, "auth-service errors")
        assert response.status_code == 200 and elapsed < ACK_BUDGET_S
        root = fake_slack.wait_for("chat.postMessage", lambda c: "thread_ts" not in c.params)[0]
        fake_slack.wait_for("chat.update", timeout=30)
        thread = _thread_text(fake_slack, root.response["ts"])
        assert "No answer within 1.5 s" in thread
        assert "revision 7" in thread.lower(), "the Kubernetes checks still arrived"


def test_a_mention_gets_the_help_in_its_thread_and_own_messages_are_ignored(
    bot: BotProcess, fake_slack: FakeSlack
) -> None:
    mention = {"type": "app_mention", "user": "U0ALICE01", "text": "<@U0CHATBOT> what can you do?",
               "channel": CHANNEL_ID, "ts": "1718000000.000300", "event_ts": "1718000000.000300"}
    assert post_signed(bot.events_url, SIGNING_SECRET, event_body(mention, event_id="Ev0MENTION1")).status_code == 200
    reply = fake_slack.wait_for("chat.postMessage")[0]
    assert reply.params["thread_ts"] == "1718000000.000300" and "/diagnose" in reply.params["text"]
    own = {"type": "app_mention", "user": "U0CHATBOT", "bot_id": "B0CHATBOT", "text": "<@U0CHATBOT> loop?",
           "channel": CHANNEL_ID, "ts": "1718000000.000400", "event_ts": "1718000000.000400"}
    assert post_signed(bot.events_url, SIGNING_SECRET, event_body(own, event_id="Ev0OWNMSG01")).status_code == 200
    time.sleep(0.5)
    assert len(fake_slack.calls("chat.postMessage")) == 1


def test_a_refused_thread_post_is_reported_privately(bot: BotProcess, fake_slack: FakeSlack) -> None:
    response_url = fake_slack.response_url(channel=CHANNEL_ID)
    fake_slack.fail("chat.update", error="message_not_found", times=1)
    body = slash_command_body("auth-service errors", response_url=response_url)
    assert post_signed(bot.events_url, SIGNING_SECRET, body).status_code == 200
    posted = fake_slack.wait_for("response_url", timeout=30)
    assert "could not post it" in posted[0].body.decode()
