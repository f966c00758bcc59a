"""Steps of the approval flow as Slack performs them against `opsbot run`: run a diagnosis, click a proposal
button (signed block_actions), submit the preview modal (signed view_submission), press Deny.

Every request is signed with the test secret and carries the clicker only in `user.id`, as Slack does.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tests.e2e.botproc import BotProcess
from tests.fakes.signing import (
    ALICE,
    CHANNEL_ID,
    SIGNING_SECRET,
    block_actions_payload,
    interactive_body,
    post_signed,
    slash_command_body,
    view_submission_payload,
)
from tests.fakes.slack_api import BOT_USER_ID, Call, FakeSlack

BOB = "U0BOB0002"
ADMIN = "U0ADMIN01"
ADMIN_2 = "U0ADMIN02"
VIEWER = "U0VIEW001"
CAROL = "U0CAROL01"  # an editor only through the on-call user group
GUEST = "U0GUEST01"  # listed as an editor, but a guest account in Slack: never approves
ONCALL = "S0ONCALL1"

OPS_CONFIG = f"""
roles:
  viewer: {{users: [{VIEWER}]}}
  editor: {{users: [{ALICE}, {BOB}, {GUEST}], usergroups: [{ONCALL}]}}
  admin: {{users: [{ADMIN}, {ADMIN_2}]}}
action_limits: {{verify_delay_s: 0}}
"""

_triggers = itertools.count(1)


def add_people(fake_slack: FakeSlack) -> None:
    """Everyone the tests click as must exist for chat.postEphemeral; CAROL is in the on-call group."""
    for user in (BOB, ADMIN, ADMIN_2, VIEWER, CAROL):
        fake_slack.set_user(user)
    fake_slack.set_user(GUEST, is_restricted=True)
    fake_slack.set_usergroup(ONCALL, [CAROL])


@dataclass(frozen=True)
class Button:
    """A proposal button as posted: the message carrying it and the element itself."""

    message: dict[str, Any]
    element: dict[str, Any]

    @property
    def request_id(self) -> str:
        return str(self.element["value"])


def review_buttons(message: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for block in message.get("blocks") or []:
        if block.get("type") == "actions":
            for element in block.get("elements") or []:
                if str(element.get("action_id", "")).startswith("review_request"):
                    yield element


def find_button(fake_slack: FakeSlack, request_id: str | None = None, action_word: str = "") -> Button:
    for message in fake_slack.messages(CHANNEL_ID):
        for element in review_buttons(message):
            if (request_id is None or element["value"] == request_id) and action_word in element["text"]["text"]:
                return Button(message, element)
    raise AssertionError(f"no button {request_id or action_word!r} in {json.dumps(fake_slack.messages(CHANNEL_ID))}")


def diagnose(bot: BotProcess, fake_slack: FakeSlack, text: str = "auth-service errors", user: str = ALICE) -> str:
    """Run `/diagnose` and wait until the thread is posted; returns the root message's ts."""
    response = post_signed(bot.events_url, SIGNING_SECRET, slash_command_body(text, user_id=user))
    assert response.status_code == 200, response.text
    root = fake_slack.wait_for("chat.postMessage", lambda c: "thread_ts" not in c.params, timeout=30)[-1]
    root_ts = str(root.response["ts"])
    fake_slack.wait_for("chat.update", lambda c: c.params.get("ts") == root_ts, timeout=30)
    return root_ts


def click(bot: BotProcess, button: Button, user: str) -> str:
    """Press the button as `user`; returns the trigger_id Slack would have sent."""
    trigger = f"{next(_triggers)}.1111111111.{user.lower()}"
    message = button.message
    payload = block_actions_payload(
        str(button.element["action_id"]),
        button.request_id,
        user_id=user,
        user_name=user.lower(),
        message_ts=str(message["ts"]),
        thread_ts=message.get("thread_ts"),
        message=message,
        trigger_id=trigger,
        button_text=str(button.element["text"]["text"]),
    )
    response = post_signed(bot.events_url, SIGNING_SECRET, interactive_body(payload))
    assert response.status_code == 200, response.text
    return trigger


def opened_view(fake_slack: FakeSlack, trigger: str, *, want: Callable[[dict[str, Any]], bool],
                timeout: float = 20) -> dict[str, Any]:
    """The modal opened with `trigger` once an update satisfying `want` arrived (the preview or a notice)."""
    opened = fake_slack.wait_for("views.open", lambda c: c.params.get("trigger_id") == trigger, timeout=timeout)[0]
    view_id = str(opened.response["view"]["id"])
    fake_slack.wait_for("views.update", lambda c: c.params.get("view_id") == view_id and want(c.params["view"]),
                        timeout=timeout)
    return fake_slack.views()[view_id]


def has_submit(view: dict[str, Any]) -> bool:
    return "submit" in view


def is_notice(view: dict[str, Any]) -> bool:
    return "submit" not in view and any(b.get("block_id") == "notice" for b in view.get("blocks", []))


def view_text(view: dict[str, Any]) -> str:
    return "\n".join(str((b.get("text") or {}).get("text", "")) for b in view.get("blocks", []))


def submit(bot: BotProcess, view: dict[str, Any], user: str) -> None:
    payload = view_submission_payload(view, user_id=user, user_name=user.lower())
    response = post_signed(bot.events_url, SIGNING_SECRET, interactive_body(payload))
    assert response.status_code == 200, response.text


def deny(bot: BotProcess, view: dict[str, Any], user: str) -> None:
    """Press Deny inside the preview modal (a block_actions from a view container)."""
    element = next(e for b in view["blocks"] if b.get("type") == "actions" for e in b["elements"])
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0001ABCD"},
        "api_app_id": "A0CHATOPS",
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": f"{next(_triggers)}.1111111111.deny",
        "team": {"id": "T0001ABCD", "domain": "acme-ops"},
        "view": view,
        "actions": [{"type": "button", "action_id": element["action_id"], "block_id": "preview-deny",
                     "value": element["value"], "action_ts": "1718000200.000001",
                     "text": {"type": "plain_text", "text": "Deny"}}],
    }
    response = post_signed(bot.events_url, SIGNING_SECRET, interactive_body(payload))
    assert response.status_code == 200, response.text


def approve(bot: BotProcess, fake_slack: FakeSlack, button: Button, user: str) -> dict[str, Any]:
    """Click, wait for the preview, submit it. Returns the preview modal as shown."""
    view = opened_view(fake_slack, click(bot, button, user), want=has_submit)
    submit(bot, view, user)
    return view


def ephemeral_to(fake_slack: FakeSlack, user: str, timeout: float = 20) -> Call:
    return fake_slack.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == user, timeout=timeout)[-1]


def settled_text(fake_slack: FakeSlack, message_ts: str, timeout: float = 30) -> str:
    """The line that replaced a request's buttons, once the message was updated."""
    fake_slack.wait_for("chat.update", lambda c: c.params.get("ts") == message_ts, timeout=timeout)
    message = fake_slack.message(CHANNEL_ID, message_ts)
    assert message is not None
    return json.dumps(message["blocks"])


def post_button_message(fake_slack: FakeSlack, blocks: list[dict[str, Any]], thread_ts: str | None = None) -> str:
    """Seed a message the bot posted (as chat.postMessage would store it), e.g. a proposal made by the CLI."""
    return fake_slack.add_message(CHANNEL_ID, "Proposed action", user=BOT_USER_ID, blocks=blocks,
                                  bot_id="B0CHATBOT", thread_ts=thread_ts)



def act(bot: BotProcess, fake_slack: FakeSlack, text: str, user: str) -> Button:
    """`/diagnose act ...` as `user`; returns the approval button the bot posted in the channel for it."""

    def asks(call: Call) -> bool:
        return "asks for approval" in json.dumps(call.params)

    seen = sum(1 for call in fake_slack.calls("chat.postMessage") if asks(call))
    response = post_signed(bot.events_url, SIGNING_SECRET, slash_command_body(f"act {text}", user_id=user))
    assert response.status_code == 200, response.text
    posted = fake_slack.wait_for("chat.postMessage", asks, count=seen + 1, timeout=30)
    message = fake_slack.message(CHANNEL_ID, str(posted[-1].response["ts"]))
    assert message is not None and "thread_ts" not in message  # in the channel, not in someone's thread
    return Button(message, next(review_buttons(message)))
