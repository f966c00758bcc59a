"""A fake Slack Web API over real HTTP, for tests that run the bot's real ``AsyncWebClient``.

Point the client at it with ``AsyncWebClient(token="xoxb-...", base_url=f"{fake.url}/api/")`` (or
``SLACK_API_URL=f"{fake.url}/api/"`` for a subprocess). It records every call, keeps the channels'
messages so tests can read threads, hands out ``response_url``s and file ``upload_url``s that point
back at itself, can inject 429s / errors / delays, and rejects Block Kit that real Slack would reject
(``invalid_blocks`` with JSON pointers), so renderer bugs fail end-to-end tests as they would in prod.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

TEAM_ID = "T0001ABCD"
BOT_USER_ID = "U0CHATBOT"
BOT_ID = "B0CHATBOT"
APP_ID = "A0CHATOPS"

# Form/query arguments carry structured values as JSON strings (slack_sdk serialises them so).
_JSON_FIELDS = frozenset({"blocks", "attachments", "files", "view", "metadata"})

MESSAGE_TEXT_LIMIT = 40_000
RESPONSE_URL_MAX_USES = 5


@dataclass(frozen=True)
class Call:
    """One request the fake received, with what it answered."""

    method: str  # Web API method ("chat.postMessage"), or "upload" / "response_url"
    path: str
    http_method: str
    headers: Mapping[str, str]  # lower-cased names
    params: Mapping[str, Any]
    body: bytes
    received_at: float  # time.time() when the request arrived
    status: int
    response: Any

    @property
    def token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        tok = self.params.get("token")
        return tok if isinstance(tok, str) else None

    @property
    def ok(self) -> bool:
        return self.status == 200 and isinstance(self.response, dict) and bool(self.response.get("ok"))


@dataclass
class UploadedFile:
    file_id: str
    filename: str
    length: int
    data: bytes | None = None
    title: str | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None


@dataclass
class _ResponseUrl:
    channel: str | None
    message_ts: str | None
    uses: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Fault:
    kind: str  # "ratelimit" | "fail"
    error: str
    status: int
    retry_after: int = 0


class SlackApiError(Exception):
    """Raised inside a method handler to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra


# ---------------------------------------------------------------------------------------------
# Block Kit validation (limits from Slack's docs and slack_sdk's validators; see slack.md §5)
# ---------------------------------------------------------------------------------------------
# fmt: off
_BLOCK_TYPES = frozenset({
    "section", "header", "actions", "context", "divider", "image", "rich_text", "input", "file", "video",
    "markdown",
})
_ELEMENT_TYPES = frozenset({
    "button", "static_select", "external_select", "users_select", "conversations_select",
    "channels_select", "multi_static_select", "multi_users_select", "multi_conversations_select",
    "multi_channels_select", "multi_external_select", "overflow", "datepicker", "timepicker",
    "datetimepicker", "checkboxes", "radio_buttons", "plain_text_input", "image", "email_text_input",
    "url_text_input", "number_input", "rich_text_input", "workflow_button",
})
# fmt: on


def _err(errors: list[str], message: str, pointer: str) -> None:
    errors.append(f"{message} [json-pointer:{pointer}]")


def _check_text(errors: list[str], obj: Any, pointer: str, *, max_len: int, plain_only: bool = False) -> None:
    if not isinstance(obj, dict):
        _err(errors, "must be a text object", pointer)
        return
    kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if obj.get("type") not in kinds:
        _err(errors, f"must be one of {', '.join(kinds)}", f"{pointer}/type")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        _err(errors, "must be a non-empty string", f"{pointer}/text")
    elif len(text) > max_len:
        _err(errors, f"must be less than {max_len + 1} characters", f"{pointer}/text")


def _check_confirm(errors: list[str], confirm: Any, pointer: str) -> None:
    if not isinstance(confirm, dict):
        _err(errors, "must be a confirmation object", pointer)
        return
    _check_text(errors, confirm.get("title"), f"{pointer}/title", max_len=100, plain_only=True)
    _check_text(errors, confirm.get("text"), f"{pointer}/text", max_len=300)
    _check_text(errors, confirm.get("confirm"), f"{pointer}/confirm", max_len=30, plain_only=True)
    _check_text(errors, confirm.get("deny"), f"{pointer}/deny", max_len=30, plain_only=True)
    if "style" in confirm and confirm["style"] not in ("primary", "danger"):
        _err(errors, "must be primary or danger", f"{pointer}/style")


def _check_unique_id(errors: list[str], obj: dict[str, Any], key: str, pointer: str, seen: set[str],
                     bad_shape: str) -> None:
    """block_id / action_id: a 1-255 character string, unique where Slack requires it."""
    value = obj.get(key)
    if value is None:
        return
    if not isinstance(value, str) or not value or len(value) > 255:
        _err(errors, bad_shape, f"{pointer}/{key}")
    elif value in seen:
        _err(errors, f"duplicate {key} {value!r}", f"{pointer}/{key}")
    else:
        seen.add(value)


def _check_element(errors: list[str], el: Any, pointer: str, action_ids: set[str]) -> None:
    if not isinstance(el, dict):
        _err(errors, "must be an object", pointer)
        return
    etype = el.get("type")
    if etype not in _ELEMENT_TYPES:
        _err(errors, f"unsupported element type {etype!r}", f"{pointer}/type")
        return
    _check_unique_id(errors, el, "action_id", pointer, action_ids, "must be a string of at most 255 characters")
    if etype == "button":
        _check_text(errors, el.get("text"), f"{pointer}/text", max_len=75, plain_only=True)
        value = el.get("value")
        if value is not None and (not isinstance(value, str) or len(value) > 2000):
            _err(errors, "must be less than 2001 characters", f"{pointer}/value")
        url = el.get("url")
        if url is not None and (not isinstance(url, str) or len(url) > 3000):
            _err(errors, "must be less than 3001 characters", f"{pointer}/url")
        if "style" in el and el["style"] not in ("primary", "danger"):
            _err(errors, "must be primary or danger", f"{pointer}/style")
    if "confirm" in el:
        _check_confirm(errors, el["confirm"], f"{pointer}/confirm")


def _check_block(errors: list[str], block: Any, pointer: str, block_ids: set[str]) -> None:
    if not isinstance(block, dict):
        _err(errors, "must be an object", pointer)
        return
    btype = block.get("type")
    if btype not in _BLOCK_TYPES:
        _err(errors, f"unsupported block type {btype!r}", f"{pointer}/type")
        return
    _check_unique_id(errors, block, "block_id", pointer, block_ids, "must be a string of 1 to 255 characters")
    action_ids: set[str] = set()  # Slack requires action_id uniqueness within a block
    if btype == "section":
        if "text" not in block and "fields" not in block:
            _err(errors, "must provide text or fields", pointer)
        if "text" in block:
            _check_text(errors, block["text"], f"{pointer}/text", max_len=3000)
        if "fields" in block:
            fields = block["fields"]
            if not isinstance(fields, list) or not fields or len(fields) > 10:
                _err(errors, "must provide 1 to 10 items", f"{pointer}/fields")
            else:
                for i, f in enumerate(fields):
                    _check_text(errors, f, f"{pointer}/fields/{i}", max_len=2000)
        if "accessory" in block:
            _check_element(errors, block["accessory"], f"{pointer}/accessory", action_ids)
    elif btype == "header":
        _check_text(errors, block.get("text"), f"{pointer}/text", max_len=150, plain_only=True)
    elif btype in ("actions", "context"):
        limit = 25 if btype == "actions" else 10
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements or len(elements) > limit:
            _err(errors, f"must provide 1 to {limit} items", f"{pointer}/elements")
            return
        for i, el in enumerate(elements):
            el_ptr = f"{pointer}/elements/{i}"
            if btype == "context":
                if isinstance(el, dict) and el.get("type") in ("plain_text", "mrkdwn"):
                    _check_text(errors, el, el_ptr, max_len=3000)
                elif not (isinstance(el, dict) and el.get("type") == "image"):
                    _err(errors, "must be a text or image element", el_ptr)
            else:
                _check_element(errors, el, el_ptr, action_ids)
    elif btype == "divider":
        extra = set(block) - {"type", "block_id"}
        if extra:
            _err(errors, f"unexpected fields {sorted(extra)}", pointer)
    elif btype == "input":
        _check_text(errors, block.get("label"), f"{pointer}/label", max_len=2000, plain_only=True)
        _check_element(errors, block.get("element"), f"{pointer}/element", action_ids)


def validate_blocks(blocks: Any, *, max_blocks: int = 50, pointer: str = "/blocks") -> list[str]:
    """Slack-style error strings (``"... [json-pointer:/blocks/3/text/text]"``); empty when valid."""
    errors: list[str] = []
    if not isinstance(blocks, list):
        _err(errors, "must be an array", pointer)
        return errors
    if len(blocks) > max_blocks:
        _err(errors, f"must be at most {max_blocks} items", pointer)
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        _check_block(errors, block, f"{pointer}/{i}", block_ids)
    return errors


def validate_view(view: Any) -> list[str]:
    errors: list[str] = []
    if not isinstance(view, dict):
        return ["must be a view object [json-pointer:/view]"]
    if view.get("type") not in ("modal", "home"):
        _err(errors, "must be modal or home", "/view/type")
    if view.get("type") == "modal":
        _check_text(errors, view.get("title"), "/view/title", max_len=24, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                _check_text(errors, view[key], f"/view/{key}", max_len=24, plain_only=True)
    if len(str(view.get("private_metadata", ""))) > 3000:
        _err(errors, "must be less than 3001 characters", "/view/private_metadata")
    errors += validate_blocks(view.get("blocks", []), max_blocks=100, pointer="/view/blocks")
    return errors


def _invalid_blocks(errors: list[str]) -> SlackApiError:
    return SlackApiError(
        "invalid_blocks", errors=errors, response_metadata={"messages": [f"[ERROR] {e}" for e in errors]}
    )


# ---------------------------------------------------------------------------------------------
# The fake
# ---------------------------------------------------------------------------------------------
def _default_users() -> dict[str, dict[str, Any]]:
    def human(uid: str, name: str, real: str) -> dict[str, Any]:
        return {
            "id": uid, "team_id": TEAM_ID, "name": name, "deleted": False, "is_admin": False,
            "is_owner": False, "is_primary_owner": False, "is_restricted": False,
            "is_ultra_restricted": False, "is_bot": False, "is_app_user": False, "tz": "Europe/Berlin",
            "profile": {"real_name": real, "display_name": name},
        }  # fmt: skip

    users = {
        "U0ALICE01": human("U0ALICE01", "alice", "Alice Ops"),
        "U0BOB0002": human("U0BOB0002", "bob", "Bob Ops"),
    }
    users[BOT_USER_ID] = {**human(BOT_USER_ID, "chatops", "ChatOps Bot"), "is_bot": True}
    return users


class FakeSlack:
    """The fake Web API. Thread-safe: the HTTP server runs in its own daemon thread."""

    def __init__(self, *, tokens: Iterable[str] | None = None, host: str = "127.0.0.1") -> None:
        # None accepts any bot/user token shape, like bolt's mock; a set pins the exact tokens.
        self._tokens = set(tokens) if tokens is not None else None
        self._host = host
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ts_counter = itertools.count()
        self._id_counter = itertools.count(1)
        self.reset()

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> Self:
        self._server = _Server((self._host, 0), _Handler)
        self._server.fake = self
        self._server.daemon_threads = True
        # A short poll interval keeps stop() (shutdown waits for the next poll) fast per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """Value for ``base_url=`` / ``SLACK_API_URL``."""
        return f"{self.url}/api/"

    def reset(self) -> None:
        """Forget calls, messages, faults and configured users/groups (back to the defaults)."""
        with self._lock:
            self._calls: list[Call] = []
            self._messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
            self._ephemeral: list[dict[str, Any]] = []
            self._faults: dict[str, list[_Fault]] = defaultdict(list)
            self._delays: dict[str, float] = {}
            self._users = _default_users()
            self._usergroups: dict[str, list[str]] = {}
            self._views: dict[str, dict[str, Any]] = {}
            self._used_triggers: set[str] = set()
            self._files: dict[str, UploadedFile] = {}
            self._response_urls: dict[str, _ResponseUrl] = {}

    # -- configuration -----------------------------------------------------------------------
    def set_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """Create or update a user for ``users.info`` (``is_admin=True``, ``deleted=True``, ...)."""
        with self._lock:
            base = self._users.get(user_id) or {
                **_default_users()["U0ALICE01"],
                "id": user_id,
                "name": user_id.lower(),
                "profile": {"real_name": user_id, "display_name": user_id.lower()},
            }
            base.update(fields)
            self._users[user_id] = base
            return copy.deepcopy(base)

    def remove_user(self, user_id: str) -> None:
        with self._lock:
            self._users.pop(user_id, None)

    def set_usergroup(self, group_id: str, user_ids: Iterable[str]) -> None:
        with self._lock:
            self._usergroups[group_id] = list(user_ids)

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer HTTP 429 with ``Retry-After``."""
        with self._lock:
            self._faults[method] += [_Fault("ratelimit", "ratelimited", 429, retry_after)] * times

    def fail(self, method: str, error: str = "channel_not_found", times: int = 1, status: int = 200) -> None:
        """The next ``times`` calls of ``method`` answer ``{"ok": false, "error": error}``."""
        with self._lock:
            self._faults[method] += [_Fault("fail", error, status)] * times

    def delay(self, method: str, seconds: float) -> None:
        """Every call of ``method`` waits ``seconds`` before answering (0 removes the delay)."""
        with self._lock:
            if seconds > 0:
                self._delays[method] = seconds
            else:
                self._delays.pop(method, None)

    def response_url(self, *, channel: str | None = None, message_ts: str | None = None) -> str:
        """A response_url for a signed payload. Bind it to a stored message so that
        ``replace_original`` / ``delete_original`` posts act on that message, as on Slack."""
        with self._lock:
            rid = f"R{next(self._id_counter):08d}"
            self._response_urls[rid] = _ResponseUrl(channel, message_ts)
        return f"{self.url}/response/{rid}"

    def add_message(
        self,
        channel: str,
        text: str = "",
        *,
        user: str | None = "U0ALICE01",
        ts: str | None = None,
        thread_ts: str | None = None,
        **fields: Any,
    ) -> str:
        """Seed a message (e.g. an alert posted by someone else) and return its ts."""
        with self._lock:
            msg: dict[str, Any] = {"type": "message", "text": text, "ts": ts or self._next_ts(), **fields}
            if user is not None:
                msg["user"] = user
            self._store(channel, msg, thread_ts)
            return str(msg["ts"])

    # -- inspection --------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def _matching(self, method: str, predicate: Callable[[Call], bool] | None) -> list[Call]:
        return [c for c in self.calls(method) if predicate is None or predicate(c)]

    def _timeout_message(self, method: str, count: int, got: int, timeout: float) -> str:
        seen = ", ".join(f"{c.method}({c.status})" for c in self.calls()) or "none"
        return f"waited {timeout}s for {count} x {method}, got {got}; calls seen: {seen}"

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        count: int = 1,
        timeout: float = 10,
    ) -> list[Call]:
        """Block until ``count`` matching calls arrived (sync tests / other threads).

        Don't use it from a coroutine whose event loop also runs the bot: it would block that loop;
        use ``await wait_for_async(...)`` there.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = self._matching(method, predicate)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(method, count, len(found), timeout))
            time.sleep(0.01)

    async def wait_for_async(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        count: int = 1,
        timeout: float = 10,
    ) -> list[Call]:
        deadline = time.monotonic() + timeout
        while True:
            found = self._matching(method, predicate)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(method, count, len(found), timeout))
            await asyncio.sleep(0.01)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages and thread replies of a channel, in posting order (copies)."""
        with self._lock:
            return copy.deepcopy(self._messages.get(channel, []))

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._find(channel, ts)
            return copy.deepcopy(found) if found is not None else None

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Parent (if stored) followed by its replies."""
        with self._lock:
            return copy.deepcopy(self._thread_messages(channel, thread_ts))

    def ephemeral_messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._ephemeral)

    def views(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._views)

    def files(self) -> dict[str, UploadedFile]:
        with self._lock:
            return copy.deepcopy(self._files)

    def response_posts(self, url: str | None = None) -> list[dict[str, Any]]:
        """JSON bodies posted to response URLs (all, or the one ``url``)."""
        with self._lock:
            if url is not None:
                rid = url.rstrip("/").rsplit("/", 1)[-1]
                entry = self._response_urls.get(rid)
                return copy.deepcopy(entry.posts) if entry else []
            return [copy.deepcopy(p) for e in self._response_urls.values() for p in e.posts]

    # -- internals: storage ------------------------------------------------------------------
    def _next_ts(self) -> str:
        # Unique and increasing, in Slack's "seconds.micro" string format.
        n = next(self._ts_counter)
        return f"{1718000100 + n}.{200 + n:06d}"

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        for msg in self._messages.get(channel, []):
            if msg["ts"] == ts:
                return msg
        return None

    def _thread_messages(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        return [
            m
            for m in self._messages.get(channel, [])
            if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts
        ]

    def _store(self, channel: str, msg: dict[str, Any], thread_ts: str | None) -> None:
        if thread_ts:
            msg["thread_ts"] = thread_ts
            parent = self._find(channel, thread_ts)
            if parent is not None:
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = int(parent.get("reply_count", 0)) + 1
                parent["latest_reply"] = msg["ts"]
        self._messages[channel].append(msg)

    # -- internals: HTTP -----------------------------------------------------------------------
    def _handle(self, req: _Handler) -> None:
        received = time.time()
        split = urlsplit(req.path)
        path = split.path
        body = req.read_body()
        headers = {k.lower(): v for k, v in req.headers.items()}
        params: dict[str, Any] = dict(parse_qsl(split.query, keep_blank_values=True))

        if path.startswith("/upload/"):
            method = "upload"
        elif path.startswith("/response/"):
            method = "response_url"
        else:
            method = path.removeprefix("/api/").strip("/")
            # slack_sdk sends some POST arguments in the query string, others as a form or JSON body.
            params.update(_parse_body(body, headers.get("content-type", "")))
            _decode_json_fields(params)

        with self._lock:
            delay = self._delays.get(method, 0.0)
        if delay:
            time.sleep(delay)

        extra_headers: dict[str, str] = {}
        status: int = 200
        response: Any = None
        try:
            if method == "upload":
                status, response = self._upload(path.rsplit("/", 1)[-1], body)
            elif method == "response_url":
                status, response = self._response_post(path.rsplit("/", 1)[-1], body)
            else:
                response = self._api(method, params, headers)
        except SlackApiError as exc:
            extra = dict(exc.extra)
            if exc.status == 429:
                extra_headers["Retry-After"] = str(extra.pop("retry_after", 1))
            status, response = exc.status, {"ok": False, "error": exc.error, **extra}

        call = Call(method, path, req.command, headers, params, body, received, status, response)
        with self._lock:
            self._calls.append(call)
        if isinstance(response, str):
            req.reply(status, response.encode(), "text/plain; charset=utf-8", extra_headers)
        else:
            req.reply(status, json.dumps(response).encode(), "application/json; charset=utf-8", extra_headers)

    def _api(self, method: str, params: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else params.get("token")
        if not self._token_ok(token):
            raise SlackApiError("not_authed" if not token else "invalid_auth")
        with self._lock:
            queue = self._faults.get(method)
            fault = queue.pop(0) if queue else None
        if fault is not None:
            if fault.kind == "ratelimit":
                raise SlackApiError(fault.error, status=429, retry_after=fault.retry_after)
            raise SlackApiError(fault.error, status=fault.status)
        handler = _METHODS.get(method)
        if handler is None:
            raise SlackApiError("unknown_method")
        with self._lock:
            return {"ok": True, **handler(self, params)}

    def _token_ok(self, token: Any) -> bool:
        if not isinstance(token, str) or not token:
            return False
        if self._tokens is not None:
            return token in self._tokens
        return token.startswith(("xoxb-", "xoxp-"))

    def _upload(self, file_id: str, body: bytes) -> tuple[int, str]:
        with self._lock:
            entry = self._files.get(file_id)
            if entry is None:
                return 404, "not found"
            entry.data = body
        return 200, f"OK - {len(body)}"

    def _response_post(self, rid: str, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            entry = self._response_urls.get(rid)
            if entry is None:
                return 404, {"ok": False, "error": "expired_url"}
            if entry.uses >= RESPONSE_URL_MAX_USES:
                return 404, {"ok": False, "error": "used_url"}
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                return 400, {"ok": False, "error": "invalid_payload"}
            if not isinstance(payload, dict):
                return 400, {"ok": False, "error": "invalid_payload"}
            errors = validate_blocks(payload["blocks"]) if "blocks" in payload else []
            if errors:
                return 400, {"ok": False, "error": "invalid_blocks", "errors": errors}
            entry.uses += 1
            entry.posts.append(payload)
            self._apply_response(entry, payload)
        return 200, {"ok": True}

    def _apply_response(self, entry: _ResponseUrl, payload: dict[str, Any]) -> None:
        if entry.channel is None:
            return
        target = self._find(entry.channel, entry.message_ts) if entry.message_ts else None
        if payload.get("delete_original") and target is not None:
            self._messages[entry.channel].remove(target)
        elif payload.get("replace_original") and target is not None:
            target["text"] = payload.get("text", "")
            target["blocks"] = payload.get("blocks", [])
        elif payload.get("response_type") == "in_channel":
            msg = {
                "type": "message", "ts": self._next_ts(), "text": payload.get("text", ""),
                "blocks": payload.get("blocks", []), "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID,
            }  # fmt: skip
            self._store(entry.channel, msg, payload.get("thread_ts"))

    # -- Web API methods (called with self._lock held) -------------------------------------------
    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://acme-ops.slack.com/", "team": "Acme Ops", "user": "chatops",
            "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID,
            "is_enterprise_install": False,
        }  # fmt: skip

    def _message_content(self, params: dict[str, Any], *, require: bool = True) -> dict[str, Any]:
        content: dict[str, Any] = {}
        text = params.get("text")
        if text is not None:
            if len(str(text)) > MESSAGE_TEXT_LIMIT:
                raise SlackApiError("msg_too_long")
            content["text"] = str(text)
        if "blocks" in params and params["blocks"] is not None:
            errors = validate_blocks(params["blocks"])
            if errors:
                raise _invalid_blocks(errors)
            content["blocks"] = params["blocks"]
        if params.get("attachments") is not None:
            content["attachments"] = params["attachments"]
        if require and not (content.get("text") or content.get("blocks") or content.get("attachments")):
            raise SlackApiError("no_text")
        return content

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            raise SlackApiError("channel_not_found")
        content = self._message_content(params)
        msg: dict[str, Any] = {
            "type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID,
            "ts": self._next_ts(), "team": TEAM_ID, "text": content.get("text", ""),
            "blocks": content.get("blocks", []),
        }  # fmt: skip
        if "attachments" in content:
            msg["attachments"] = content["attachments"]
        if params.get("metadata"):
            msg["metadata"] = params["metadata"]
        thread_ts = params.get("thread_ts") or None
        if thread_ts and str(params.get("reply_broadcast")).lower() == "true":
            msg["subtype"] = "thread_broadcast"
        self._store(str(channel), msg, thread_ts)
        return {"channel": channel, "ts": msg["ts"], "message": copy.deepcopy(msg)}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel"), params.get("ts")
        if not channel:
            raise SlackApiError("channel_not_found")
        msg = self._find(str(channel), str(ts)) if ts else None
        if msg is None:
            raise SlackApiError("message_not_found")
        if msg.get("user") != BOT_USER_ID:
            raise SlackApiError("cant_update_message")
        content = self._message_content(params, require=False)
        # Slack's rule (slack.md §5): blocks replace blocks; text without blocks drops the blocks;
        # neither keeps them.
        if "blocks" in content:
            msg["blocks"] = content["blocks"]
        elif "text" in content:
            msg["blocks"] = []
        if "text" in content:
            msg["text"] = content["text"]
        if "attachments" in content:
            msg["attachments"] = content["attachments"]
        msg["edited"] = {"user": BOT_ID, "ts": self._next_ts()}
        return {"channel": channel, "ts": ts, "text": msg["text"], "message": copy.deepcopy(msg)}

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, user = params.get("channel"), params.get("user")
        if not channel:
            raise SlackApiError("channel_not_found")
        if not user or user not in self._users:
            raise SlackApiError("user_not_found")
        content = self._message_content(params)
        ts = self._next_ts()
        self._ephemeral.append(
            {"channel": channel, "user": user, "ts": ts, "thread_ts": params.get("thread_ts"), **content}
        )
        return {"message_ts": ts}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        trigger = params.get("trigger_id")
        if not trigger:
            raise SlackApiError("invalid_arguments")
        if trigger in self._used_triggers:  # trigger ids are single-use on Slack
            raise SlackApiError("exchanged_trigger_id")
        view = params.get("view")
        errors = validate_view(view)
        if errors or not isinstance(view, dict):
            raise _invalid_blocks(errors)
        self._used_triggers.add(str(trigger))
        stored = {**view, "id": f"V{next(self._id_counter):08d}", "team_id": TEAM_ID, "hash": self._next_ts()}
        self._views[stored["id"]] = stored
        return {"view": copy.deepcopy(stored)}

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id = params.get("view_id")
        if not view_id:
            external = params.get("external_id")
            view_id = next(
                (k for k, v in self._views.items() if external and v.get("external_id") == external), None
            )
        if not view_id or view_id not in self._views:
            raise SlackApiError("not_found")
        view = params.get("view")
        errors = validate_view(view)
        if errors or not isinstance(view, dict):
            raise _invalid_blocks(errors)
        stored = {**view, "id": view_id, "team_id": TEAM_ID, "hash": self._next_ts()}
        self._views[view_id] = stored
        return {"view": copy.deepcopy(stored)}

    def _files_get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename, length = params.get("filename"), params.get("length")
        if not filename or length is None or not str(length).isdigit():
            raise SlackApiError("invalid_arguments")
        file_id = f"F{next(self._id_counter):08d}"
        self._files[file_id] = UploadedFile(file_id, str(filename), int(length))
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            raise SlackApiError("invalid_arguments")
        out = []
        for item in files:
            entry = self._files.get(str(item.get("id"))) if isinstance(item, dict) else None
            if entry is None or entry.data is None:
                raise SlackApiError("file_not_found")
            entry.title = item.get("title") or entry.filename
            entry.channel_id = params.get("channel_id")
            entry.thread_ts = params.get("thread_ts")
            entry.initial_comment = params.get("initial_comment")
            out.append(
                {"id": entry.file_id, "name": entry.filename, "title": entry.title, "size": len(entry.data)}
            )
        channel = params.get("channel_id")
        if channel:
            msg = {
                "type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": self._next_ts(),
                "text": params.get("initial_comment") or "", "files": copy.deepcopy(out), "upload": True,
            }  # fmt: skip
            self._store(str(channel), msg, params.get("thread_ts") or None)
        return {"files": out}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._users.get(str(params.get("user")))
        if user is None:
            raise SlackApiError("user_not_found")
        return {"user": copy.deepcopy(user)}

    def _usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self._usergroups.get(str(params.get("usergroup")))
        if group is None:
            raise SlackApiError("no_such_subteam")
        return {"users": list(group)}

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel"), params.get("ts")
        if not channel:
            raise SlackApiError("channel_not_found")
        messages = self._thread_messages(str(channel), str(ts)) if ts else []
        if not messages:
            raise SlackApiError("thread_not_found")
        limit = int(params.get("limit") or 1000)
        start = int(params.get("cursor") or 0)
        page = messages[start : start + limit]
        more = start + limit < len(messages)
        return {
            "messages": copy.deepcopy(page),
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }


_METHODS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": FakeSlack._auth_test,
    "chat.postMessage": FakeSlack._chat_post_message,
    "chat.update": FakeSlack._chat_update,
    "chat.postEphemeral": FakeSlack._chat_post_ephemeral,
    "views.open": FakeSlack._views_open,
    "views.update": FakeSlack._views_update,
    "files.getUploadURLExternal": FakeSlack._files_get_upload_url,
    "files.completeUploadExternal": FakeSlack._files_complete_upload,
    "users.info": FakeSlack._users_info,
    "usergroups.users.list": FakeSlack._usergroups_users_list,
    "conversations.replies": FakeSlack._conversations_replies,
}


def _parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    if not body:
        return {}
    if "json" in content_type:
        try:
            data = json.loads(body)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _decode_json_fields(params: dict[str, Any]) -> None:
    for key in _JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            # A value that is not JSON is left as sent; the method handler reports the bad argument.
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])


class _Server(ThreadingHTTPServer):
    fake: FakeSlack


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean; every request is in FakeSlack.calls()

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status: int, payload: bytes, content_type: str, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:
        self.server.fake._handle(self)

    def do_GET(self) -> None:
        self.server.fake._handle(self)
