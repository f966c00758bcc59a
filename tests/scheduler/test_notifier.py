"""The Slack side of scheduled work against the fake Slack Web API: posts, settled buttons, thread reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.approvals import Decision, DecisionKind
from bot.store.approvals import ApprovalRequest, RequestStatus
from handlers.scheduled import SlackNotifier
from tests.fakes.slack_api import FakeSlack

CHANNEL = "C0OPS"


def _client(fake_slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)


def _request(request_id: str, message_ts: str | None, status: RequestStatus) -> ApprovalRequest:
    now = datetime.now(UTC)
    return ApprovalRequest(request_id, "restart", "auth-service", {}, {}, "U0EDITOR", status, now,
                           now + timedelta(minutes=15), now, CHANNEL, message_ts)


def _with_button(fake_slack: FakeSlack, request_id: str, thread: str) -> str:
    button = {"type": "button", "action_id": "review-0", "text": {"type": "plain_text", "text": "Restart"},
              "value": request_id}
    return fake_slack.add_message(CHANNEL, "restart?", thread_ts=thread,
                                  blocks=[{"type": "actions", "block_id": "p", "elements": [button]}])


async def test_posts_go_to_the_ops_channel_and_a_missing_channel_is_reported(fake_slack: FakeSlack) -> None:
    assert await SlackNotifier(_client(fake_slack), CHANNEL).post("P95 <170 ms>") is True
    [call] = fake_slack.calls("chat.postMessage")
    assert call.params["channel"] == CHANNEL and "&lt;170 ms&gt;" in str(call.params["text"])  # escaped
    assert await SlackNotifier(_client(fake_slack), None).post("anything") is False
    fake_slack.fail("chat.postMessage", "channel_not_found")
    assert await SlackNotifier(_client(fake_slack), CHANNEL).post("again") is False  # retried next run


async def test_an_interrupted_request_loses_its_buttons(fake_slack: FakeSlack) -> None:
    thread = fake_slack.add_message(CHANNEL, "diagnosis")
    ts = _with_button(fake_slack, "req_stuck", thread)
    await SlackNotifier(_client(fake_slack), CHANNEL).interrupted(_request("req_stuck", ts, RequestStatus.FAILED))
    [update] = fake_slack.calls("chat.update")
    assert update.params["ts"] == ts and "Interrupted at" in str(update.params["blocks"])
    assert "review-0" not in str(update.params["blocks"])


async def test_a_timed_revert_is_reported_in_the_thread_of_the_change(fake_slack: FakeSlack) -> None:
    thread = fake_slack.add_message(CHANNEL, "diagnosis")
    origin_ts = fake_slack.add_message(CHANNEL, "debug logging?", thread_ts=thread)
    origin = _request("req_origin", origin_ts, RequestStatus.SUCCEEDED)
    revert = _request("req_revert", None, RequestStatus.SUCCEEDED)
    decision = Decision(DecisionKind.SUCCEEDED, "Done: Debug logging reverted", request=revert)
    await SlackNotifier(_client(fake_slack), CHANNEL).timed_revert(origin, decision)
    [call] = fake_slack.calls("chat.postMessage")
    assert call.params["thread_ts"] == thread and "Timed revert" in str(call.params["text"])

    # Without an origin (changed by an operator outside Slack) the report goes to the ops channel.
    await SlackNotifier(_client(fake_slack), CHANNEL).timed_revert(None, decision)
    last = fake_slack.calls("chat.postMessage")[-1]
    assert last.params["channel"] == CHANNEL and "thread_ts" not in last.params
