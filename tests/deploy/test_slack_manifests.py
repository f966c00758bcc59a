"""The Slack app manifests ask for exactly the bot scopes the code needs.

What the code needs is read from the code here: every Web API method called through a Slack client in
`handlers/` and `bot/` (`client.chat_postMessage(`, `api_call("...")`), every event listener
(`app.event("message")`), every slash command. `METHOD_SCOPES` below is the one hand-kept table: the bot
scope each Web API method needs (Slack's method pages, reference/slack.md §4).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTTP = ROOT / "manifests" / "slack-app.yaml"
SOCKET = ROOT / "manifests" / "slack-app-socket-mode.yaml"
CODE = [*sorted((ROOT / "handlers").rglob("*.py")), *sorted((ROOT / "bot").rglob("*.py"))]

# Web API method -> bot scopes it needs (empty: none). conversations.replies needs the history scope of the
# channel's type; the bot serves one channel that may be public or private, so both.
METHOD_SCOPES: dict[str, set[str]] = {
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "conversations.replies": {"channels:history", "groups:history"},
    "views.open": set(),
    "views.update": set(),
    "users.info": {"users:read"},
    "usergroups.users.list": {"usergroups:read"},
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
    "auth.test": set(),  # Bolt, at start
}
# slack_sdk helpers that are several Web API calls.
COMPOSITE = {"files.upload.v2": ["files.getUploadURLExternal", "files.completeUploadExternal"]}
# Events API subscriptions -> scopes; a `message` listener is served in public and private channels.
EVENT_SUBSCRIPTIONS = {"app_mention": ["app_mention"], "message": ["message.channels", "message.groups"]}
SUBSCRIPTION_SCOPES = {"app_mention": "app_mentions:read", "message.channels": "channels:history",
                       "message.groups": "groups:history"}

_CLIENT_CALL = re.compile(r"\bclient\.([a-z]+_[A-Za-z0-9_]+)\(")
_API_CALL = re.compile(r"\bapi_call\(\s*[\"']([a-z]+\.[A-Za-z.]+)[\"']")
_EVENT = re.compile(r"\bapp\.event\(\s*[\"']([a-z_.]+)[\"']")
_COMMAND = re.compile(r"\bapp\.command\(\s*[\"'](/[a-z0-9_-]+)[\"']")
_INTERACTIVE = re.compile(r"\bapp\.(action|view|shortcut|options)\(")


def _code() -> str:
    return "\n".join(path.read_text() for path in CODE)


def methods_called() -> set[str]:
    code = _code()
    found = {name.replace("_", ".") for name in _CLIENT_CALL.findall(code)}
    found |= set(_API_CALL.findall(code))
    for helper, parts in COMPOSITE.items():
        if helper in found:
            found.discard(helper)
            found.update(parts)
    return found | {"auth.test"}


def subscriptions_needed() -> set[str]:
    return {sub for event in _EVENT.findall(_code()) for sub in EVENT_SUBSCRIPTIONS[event]}


def _load(path: Path) -> dict[str, Any]:
    manifest = yaml.safe_load(path.read_text())
    assert isinstance(manifest, dict)
    return manifest


def test_every_called_method_has_a_known_scope() -> None:
    called = methods_called()
    assert {"chat.postMessage", "chat.update", "views.open", "users.info"} <= called  # the grep finds calls
    unknown = called - set(METHOD_SCOPES)
    assert not unknown, f"add the scopes of {sorted(unknown)} to METHOD_SCOPES (and to the manifests)"


@pytest.mark.parametrize("path", [HTTP, SOCKET], ids=["http", "socket-mode"])
def test_bot_scopes_are_exactly_what_the_code_uses(path: Path) -> None:
    needed = set().union(*(METHOD_SCOPES[m] for m in methods_called()))
    needed |= {SUBSCRIPTION_SCOPES[s] for s in subscriptions_needed()}
    if _COMMAND.search(_code()):
        needed.add("commands")
    scopes = _load(path)["oauth_config"]["scopes"]["bot"]
    assert len(scopes) == len(set(scopes))
    assert set(scopes) == needed, f"extra: {sorted(set(scopes) - needed)}, missing: {sorted(needed - set(scopes))}"


@pytest.mark.parametrize("path", [HTTP, SOCKET], ids=["http", "socket-mode"])
def test_commands_events_and_interactivity_match_the_listeners(path: Path) -> None:
    manifest = _load(path)
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == set(_COMMAND.findall(_code()))
    for command in commands.values():
        assert 0 < len(command["usage_hint"]) <= 1000 and 0 < len(command["description"]) <= 2000
        assert len(command["command"]) <= 32
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == subscriptions_needed()
    assert manifest["settings"]["interactivity"]["is_enabled"] is bool(_INTERACTIVE.search(_code()))
    assert len(manifest["display_information"]["name"]) <= 35
    assert len(manifest["display_information"]["description"]) <= 140
    assert re.fullmatch(r"[a-z0-9._-]{1,80}", manifest["features"]["bot_user"]["display_name"])


def _urls(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [u for k, v in node.items() for u in ([v] if k in ("url", "request_url") else _urls(v))]
    if isinstance(node, list):
        return [u for item in node for u in _urls(item)]
    return []


def test_http_variant_points_every_url_at_the_events_endpoint() -> None:
    manifest = _load(HTTP)
    assert manifest["settings"]["socket_mode_enabled"] is False
    urls = _urls(manifest)
    assert len(urls) == 3 and all(u.startswith("https://") and u.endswith("/slack/events") for u in urls)


def test_socket_mode_variant_has_no_urls_and_otherwise_matches_http() -> None:
    http, socket = _load(HTTP), _load(SOCKET)
    assert socket["settings"]["socket_mode_enabled"] is True
    assert _urls(socket) == []

    def without_urls(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: without_urls(v) for k, v in node.items() if k not in ("url", "request_url")}
        if isinstance(node, list):
            return [without_urls(item) for item in node]
        return node

    http["settings"]["socket_mode_enabled"] = True
    assert without_urls(http) == socket
