"""The fake Slack Web API behaves like Slack for the real slack_sdk / slack_bolt clients."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.signing import SIGNING_SECRET, sign, slash_command_body
from tests.fakes.slack_api import FakeSlack, validate_blocks

CHANNEL = "C0ALERTS1"


def client_for(fake: FakeSlack, token: str = "xoxb-test", **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=fake.api_url, **kwargs)


def section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block


def button(text: str = "Approve", value: str = "req_1", action_id: str = "approve") -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "value": value,
        "action_id": action_id,
    }


# -- auth and recording ----------------------------------------------------------------------------
async def test_auth_test_identity_and_call_recorded(fake_slack: FakeSlack) -> None:
    resp = await client_for(fake_slack).auth_test()
    assert resp["user_id"] == "U0CHATBOT"
    assert resp["bot_id"] == "B0CHATBOT"
    assert resp["team_id"] == "T0001ABCD"
    [call] = fake_slack.calls("auth.test")
    assert call.path == "/api/auth.test"
    assert call.headers["authorization"] == "Bearer xoxb-test"
    assert call.token == "xoxb-test"
    assert call.ok and call.received_at <= time.time()


@pytest.mark.parametrize("token", ["xoxa-wrong-kind", "not-a-token"])
async def test_invalid_token_is_invalid_auth(fake_slack: FakeSlack, token: str) -> None:
    with pytest.raises(SlackApiError) as err:
        await client_for(fake_slack, token=token).chat_postMessage(channel=CHANNEL, text="hi")
    assert err.value.response["error"] == "invalid_auth"
    assert fake_slack.messages(CHANNEL) == []


async def test_missing_token_is_not_authed(fake_slack: FakeSlack) -> None:
    resp = httpx.post(f"{fake_slack.api_url}auth.test")
    assert resp.json() == {"ok": False, "error": "not_authed"}


async def test_pinned_tokens() -> None:
    with FakeSlack(tokens={"xoxb-the-one"}) as fake:
        assert (await client_for(fake, token="xoxb-the-one").auth_test())["ok"]
        with pytest.raises(SlackApiError):
            await client_for(fake, token="xoxb-other").auth_test()


async def test_unknown_method(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        await client_for(fake_slack).api_call("chat.fly")
    assert err.value.response["error"] == "unknown_method"


async def test_form_encoded_params_are_parsed_including_json_fields(fake_slack: FakeSlack) -> None:
    blocks = [section("*hello*")]
    await client_for(fake_slack).api_call(
        "chat.postMessage", data={"channel": CHANNEL, "text": "fallback", "blocks": json.dumps(blocks)}
    )
    [call] = fake_slack.calls("chat.postMessage")
    assert call.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert call.params["blocks"] == blocks
    assert fake_slack.messages(CHANNEL)[0]["blocks"] == blocks


async def test_get_params_are_parsed(fake_slack: FakeSlack) -> None:
    await client_for(fake_slack).users_info(user="U0ALICE01")
    [call] = fake_slack.calls("users.info")
    assert call.http_method == "GET"
    assert call.params["user"] == "U0ALICE01"


# -- messages and threads --------------------------------------------------------------------------
async def test_post_message_ts_unique_increasing_and_echoed(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    blocks = [section("finding", "finding-1")]
    first = await client.chat_postMessage(channel=CHANNEL, text="one", blocks=blocks)
    second = await client.chat_postMessage(channel=CHANNEL, text="two")
    assert first["channel"] == CHANNEL
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["blocks"] == blocks
    assert first["message"]["bot_id"] == "B0CHATBOT"
    assert [m["text"] for m in fake_slack.messages(CHANNEL)] == ["one", "two"]


async def test_thread_replies_are_stored_and_readable(fake_slack: FakeSlack) -> None:
    parent = fake_slack.add_message(CHANNEL, "", user=None, bot_id="B0ALRTMGR", subtype="bot_message")
    client = client_for(fake_slack)
    reply = await client.chat_postMessage(channel=CHANNEL, thread_ts=parent, text="Diagnosis: 1 finding")
    assert reply["message"]["thread_ts"] == parent
    replies = await client.conversations_replies(channel=CHANNEL, ts=parent)
    assert [m["ts"] for m in replies["messages"]] == [parent, reply["ts"]]
    assert replies["messages"][0]["reply_count"] == 1
    assert [m["text"] for m in fake_slack.thread(CHANNEL, parent)][1:] == ["Diagnosis: 1 finding"]


async def test_conversations_replies_paginates(fake_slack: FakeSlack) -> None:
    parent = fake_slack.add_message(CHANNEL, "alert")
    for i in range(3):
        fake_slack.add_message(CHANNEL, f"r{i}", thread_ts=parent)
    client = client_for(fake_slack)
    page1 = await client.conversations_replies(channel=CHANNEL, ts=parent, limit=2)
    assert page1["has_more"] is True
    cursor = page1["response_metadata"]["next_cursor"]
    page2 = await client.conversations_replies(channel=CHANNEL, ts=parent, limit=2, cursor=cursor)
    assert [m["text"] for m in page1["messages"] + page2["messages"]] == ["alert", "r0", "r1", "r2"]
    assert page2["has_more"] is False


async def test_conversations_replies_unknown_thread(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        await client_for(fake_slack).conversations_replies(channel=CHANNEL, ts="1.000000")
    assert err.value.response["error"] == "thread_not_found"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "no channel"}, "channel_not_found"),
        ({"channel": CHANNEL}, "no_text"),
        ({"channel": CHANNEL, "text": "x" * 40_001}, "msg_too_long"),
    ],
)
async def test_post_message_argument_errors(
    fake_slack: FakeSlack, kwargs: dict[str, Any], error: str
) -> None:
    with pytest.raises(SlackApiError) as err:
        await client_for(fake_slack).api_call("chat.postMessage", json=kwargs)
    assert err.value.response["error"] == error


async def test_chat_update_follows_slack_block_semantics(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    posted = await client.chat_postMessage(
        channel=CHANNEL,
        text="proposal",
        blocks=[section("f", "f1"), {"type": "actions", "elements": [button()]}],
    )
    ts = posted["ts"]
    new_blocks = [
        section("f", "f1-v2"),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Approved"}]},
    ]
    updated = await client.chat_update(
        channel=CHANNEL, ts=ts, text="Approved by <@U0ALICE01>", blocks=new_blocks
    )
    assert updated["ts"] == ts
    stored = fake_slack.message(CHANNEL, ts)
    assert stored is not None
    assert stored["blocks"] == new_blocks and stored["text"] == "Approved by <@U0ALICE01>"
    assert "edited" in stored
    # text without blocks removes the blocks (what real Slack does; a classic renderer bug)
    await client.chat_update(channel=CHANNEL, ts=ts, text="only text")
    stored = fake_slack.message(CHANNEL, ts)
    assert stored is not None and stored["blocks"] == []


async def test_chat_update_errors(fake_slack: FakeSlack) -> None:
    human = fake_slack.add_message(CHANNEL, "human message", user="U0ALICE01")
    client = client_for(fake_slack)
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel=CHANNEL, ts=human, text="edit")
    assert err.value.response["error"] == "cant_update_message"
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel=CHANNEL, ts="9.9", text="edit")
    assert err.value.response["error"] == "message_not_found"


async def test_post_ephemeral(fake_slack: FakeSlack) -> None:
    resp = await client_for(fake_slack).chat_postEphemeral(channel=CHANNEL, user="U0ALICE01", text="only you")
    assert resp["message_ts"]
    [eph] = fake_slack.ephemeral_messages()
    assert eph["user"] == "U0ALICE01" and eph["text"] == "only you"
    assert fake_slack.messages(CHANNEL) == []  # ephemeral messages are not in the channel history


# -- Block Kit validation ------------------------------------------------------------------------------
LONG = "x" * 3001


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        ([section("x")] * 51, "/blocks"),
        ([section(LONG)], "/blocks/0/text/text"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "/blocks/0/text/text"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "/blocks/0/text/type"),
        ([{"type": "actions", "elements": [button(text="b" * 76)]}], "/blocks/0/elements/0/text/text"),
        ([{"type": "actions", "elements": [button(value="v" * 2001)]}], "/blocks/0/elements/0/value"),
        (
            [{"type": "actions", "elements": [button(action_id=f"a{i}") for i in range(26)]}],
            "/blocks/0/elements",
        ),
        ([{"type": "actions", "elements": [button(), button()]}], "/blocks/0/elements/1/action_id"),
        ([section("a", "dup"), section("b", "dup")], "/blocks/1/block_id"),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
            "/blocks/0/fields",
        ),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
            "/blocks/0/fields/0/text",
        ),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}], "/blocks/0/text/text"),
        ([{"type": "section"}], "/blocks/0"),
        ([{"type": "actions", "elements": [{**button(), "style": "warning"}]}], "/blocks/0/elements/0/style"),
        ([{"type": "fancy"}], "/blocks/0/type"),
    ],
)
async def test_invalid_blocks_rejected_with_pointer(
    fake_slack: FakeSlack, blocks: list[dict[str, Any]], pointer: str
) -> None:
    with pytest.raises(SlackApiError) as err:
        await client_for(fake_slack).chat_postMessage(channel=CHANNEL, text="t", blocks=blocks)
    response = err.value.response
    assert response["error"] == "invalid_blocks"
    assert any(e.endswith(f"[json-pointer:{pointer}]") for e in response["errors"]), response["errors"]
    [call] = fake_slack.calls("chat.postMessage")
    assert call.response["errors"] == response["errors"]  # the offending path is recorded
    assert fake_slack.messages(CHANNEL) == []


def test_valid_realistic_blocks_pass() -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "auth-service: high error rate"}},
        section("*5xx rate* 12% (threshold 5%)", "finding-1"),
        {"type": "section", "block_id": "facts", "fields": [{"type": "mrkdwn", "text": "*p95*\n2.1s"}] * 10},
        {"type": "divider"},
        {
            "type": "actions",
            "block_id": "approve-7f3c",
            "elements": [
                {
                    **button("Approve: rollout undo auth-service", "req_7f3c9a", "approve_remediation"),
                    "style": "danger",
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Roll back auth-service?"},
                        "text": {"type": "mrkdwn", "text": "Runs `kubectl rollout undo`."},
                        "confirm": {"type": "plain_text", "text": "Roll back"},
                        "deny": {"type": "plain_text", "text": "Cancel"},
                        "style": "danger",
                    },
                },
                button("Reject", "req_7f3c9a", "reject_remediation"),
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Guide §3.2"}]},
    ]
    assert validate_blocks(blocks) == []
    assert validate_blocks([section("x")] * 50) == []
    assert validate_blocks([section("x" * 3000)]) == []


async def test_chat_update_validates_blocks_and_keeps_old_message(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    posted = await client.chat_postMessage(channel=CHANNEL, text="t", blocks=[section("ok")])
    with pytest.raises(SlackApiError):
        await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="t", blocks=[section(LONG)])
    stored = fake_slack.message(CHANNEL, posted["ts"])
    assert stored is not None and stored["blocks"] == [section("ok")]


# -- views ----------------------------------------------------------------------------------------------
def modal(title: str = "Confirm rollback") -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "confirm_remediation",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Run"},
        "private_metadata": "req_7f3c9a",
        "blocks": [section("Roll back auth-service to revision 41?")],
    }


async def test_views_open_update_and_single_use_trigger(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    opened = await client.views_open(trigger_id="1.2.abc", view=modal())
    view_id = opened["view"]["id"]
    assert opened["view"]["callback_id"] == "confirm_remediation"
    with pytest.raises(SlackApiError) as err:
        await client.views_open(trigger_id="1.2.abc", view=modal())
    assert err.value.response["error"] == "exchanged_trigger_id"
    updated = await client.views_update(view_id=view_id, view=modal("Done"))
    assert updated["view"]["id"] == view_id
    assert fake_slack.views()[view_id]["title"]["text"] == "Done"


async def test_views_open_rejects_long_title(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        await client_for(fake_slack).views_open(trigger_id="t", view=modal("x" * 25))
    assert any("/view/title/text" in e for e in err.value.response["errors"])


# -- files ----------------------------------------------------------------------------------------------
async def test_files_upload_v2_flow(fake_slack: FakeSlack) -> None:
    parent = fake_slack.add_message(CHANNEL, "alert")
    data = b"\x1f\x8b bundle bytes" * 100
    resp = await client_for(fake_slack).files_upload_v2(
        channel=CHANNEL,
        thread_ts=parent,
        content=data,
        filename="support-bundle-auth-service.tar.gz",
        title="Support bundle",
        initial_comment="Support bundle for auth-service",
    )
    [file_id] = [f["id"] for f in resp["files"]]
    stored = fake_slack.files()[file_id]
    assert stored.data == data and stored.length == len(data)
    assert stored.channel_id == CHANNEL and stored.thread_ts == parent
    [upload] = fake_slack.calls("upload")
    assert "authorization" not in upload.headers  # the raw upload carries no token, as on Slack
    reply = fake_slack.thread(CHANNEL, parent)[-1]
    assert reply["files"][0]["id"] == file_id
    assert reply["text"] == "Support bundle for auth-service"


async def test_complete_upload_without_bytes_fails(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    url = await client.files_getUploadURLExternal(filename="b.tgz", length=3)
    assert url["upload_url"].startswith(fake_slack.url)
    with pytest.raises(SlackApiError) as err:
        await client.files_completeUploadExternal(files=[{"id": url["file_id"], "title": "b"}])
    assert err.value.response["error"] == "file_not_found"


# -- users and groups -----------------------------------------------------------------------------------
async def test_users_info_configurable(fake_slack: FakeSlack) -> None:
    fake_slack.set_user("U0GUEST01", is_restricted=True)
    fake_slack.set_user("U0ALICE01", is_admin=True)
    client = client_for(fake_slack)
    assert (await client.users_info(user="U0GUEST01"))["user"]["is_restricted"] is True
    assert (await client.users_info(user="U0ALICE01"))["user"]["is_admin"] is True
    assert (await client.users_info(user="U0BOB0002"))["user"]["is_admin"] is False
    fake_slack.remove_user("U0BOB0002")
    with pytest.raises(SlackApiError) as err:
        await client.users_info(user="U0BOB0002")
    assert err.value.response["error"] == "user_not_found"


async def test_usergroups_users_list(fake_slack: FakeSlack) -> None:
    fake_slack.set_usergroup("S0ONCALL1", ["U0ALICE01", "U0BOB0002"])
    client = client_for(fake_slack)
    assert (await client.usergroups_users_list(usergroup="S0ONCALL1"))["users"] == ["U0ALICE01", "U0BOB0002"]
    with pytest.raises(SlackApiError) as err:
        await client.usergroups_users_list(usergroup="S0NOPE")
    assert err.value.response["error"] == "no_such_subteam"


# -- response_url ---------------------------------------------------------------------------------------
async def test_response_url_records_and_replaces_bound_message(fake_slack: FakeSlack) -> None:
    posted = await client_for(fake_slack).chat_postMessage(
        channel=CHANNEL, text="Approve?", blocks=[section("a")]
    )
    url = fake_slack.response_url(channel=CHANNEL, message_ts=posted["ts"])
    assert url.startswith(f"{fake_slack.url}/response/")
    webhook = AsyncWebhookClient(url)
    resp = await webhook.send(text="Approved", replace_original=True, blocks=[section("Approved by alice")])
    assert resp.status_code == 200
    assert fake_slack.response_posts(url)[0]["text"] == "Approved"
    stored = fake_slack.message(CHANNEL, posted["ts"])
    assert stored is not None and stored["blocks"] == [section("Approved by alice")]


async def test_response_url_limits_and_block_validation(fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url()
    webhook = AsyncWebhookClient(url)
    assert (await webhook.send(blocks=[section(LONG)])).status_code == 400
    statuses = [(await webhook.send(text=f"n{i}")).status_code for i in range(6)]
    assert statuses == [200] * 5 + [404]  # at most 5 uses
    assert len(fake_slack.response_posts(url)) == 5
    assert (await AsyncWebhookClient(f"{fake_slack.url}/response/Rnope").send(text="x")).status_code == 404


# -- fault injection ------------------------------------------------------------------------------------
async def test_rate_limit_answers_429_with_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit("chat.postMessage", times=1, retry_after=7)
    client = client_for(fake_slack)
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel=CHANNEL, text="hi")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] in ("7", ["7"])
    assert err.value.response["error"] == "ratelimited"
    assert (await client.chat_postMessage(channel=CHANNEL, text="hi"))["ok"]  # only `times` calls


async def test_rate_limit_then_retry_handler_succeeds(fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit("chat.postMessage", times=1, retry_after=0)
    client = client_for(fake_slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    resp = await client.chat_postMessage(channel=CHANNEL, text="eventually")
    assert resp["ok"]
    assert [c.status for c in fake_slack.calls("chat.postMessage")] == [429, 200]
    assert len(fake_slack.messages(CHANNEL)) == 1


async def test_fail_injects_errors_n_times(fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.postMessage", error="not_in_channel", times=2)
    client = client_for(fake_slack)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel=CHANNEL, text="hi")
        assert err.value.response["error"] == "not_in_channel"
    assert (await client.chat_postMessage(channel=CHANNEL, text="hi"))["ok"]


async def test_delay(fake_slack: FakeSlack) -> None:
    fake_slack.delay("users.info", 0.3)
    client = client_for(fake_slack)
    t0 = time.monotonic()
    await client.users_info(user="U0ALICE01")
    assert time.monotonic() - t0 >= 0.3
    fake_slack.delay("users.info", 0)
    t0 = time.monotonic()
    await client.users_info(user="U0ALICE01")
    assert time.monotonic() - t0 < 0.3


# -- helpers --------------------------------------------------------------------------------------------
async def test_wait_for_async_and_timeout_message(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)

    async def later() -> None:
        await asyncio.sleep(0.1)
        await client.chat_postMessage(channel=CHANNEL, text="late")

    task = asyncio.create_task(later())
    [call] = await fake_slack.wait_for_async("chat.postMessage", lambda c: c.params.get("text") == "late")
    await task
    assert call.params["channel"] == CHANNEL
    with pytest.raises(
        AssertionError, match=r"1 x chat\.update, got 0; calls seen: chat\.postMessage\(200\)"
    ):
        await fake_slack.wait_for_async("chat.update", timeout=0.1)


def test_wait_for_sync_from_another_thread(fake_slack: FakeSlack) -> None:
    def poster() -> None:
        time.sleep(0.1)
        asyncio.run(client_for(fake_slack).chat_postMessage(channel=CHANNEL, text="from thread"))

    thread = threading.Thread(target=poster)
    thread.start()
    calls = fake_slack.wait_for("chat.postMessage", timeout=5)
    thread.join()
    assert calls[0].params["text"] == "from thread"


async def test_reset_clears_everything(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    await client.chat_postMessage(channel=CHANNEL, text="x")
    fake_slack.fail("auth.test")
    fake_slack.set_usergroup("S1", ["U1"])
    fake_slack.reset()
    assert fake_slack.calls() == [] and fake_slack.messages(CHANNEL) == []
    assert (await client.auth_test())["ok"]
    with pytest.raises(SlackApiError):
        await client.usergroups_users_list(usergroup="S1")


# -- with Bolt ------------------------------------------------------------------------------------------
async def test_bolt_async_app_round_trip(fake_slack: FakeSlack) -> None:
    """A signed slash command dispatched through AsyncApp reaches the listener, which posts to the
    fake and answers through the fake's response_url; auth.test is called once."""
    app = AsyncApp(client=client_for(fake_slack), signing_secret=SIGNING_SECRET)

    @app.command("/diagnose")
    async def diagnose(ack: Any, command: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        await ack()
        await client.chat_postMessage(channel=command["channel_id"], text=f"diagnosing {command['text']}")
        await respond(text="started")

    body = slash_command_body("auth-service errors", response_url=fake_slack.response_url())
    headers: dict[str, str | Sequence[str]] = {k.lower(): [v] for k, v in sign(SIGNING_SECRET, body).items()}
    headers["content-type"] = ["application/x-www-form-urlencoded"]
    response = await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
    assert response.status == 200
    await fake_slack.wait_for_async("response_url")
    assert fake_slack.messages(CHANNEL)[0]["text"] == "diagnosing auth-service errors"
    assert fake_slack.response_posts()[0]["text"] == "started"
    assert len(fake_slack.calls("auth.test")) == 1

    bad = {**headers, "x-slack-signature": ["v0=" + "0" * 64]}
    rejected = await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=bad))
    assert rejected.status == 401
