"""Alert triage through the real Slack path: signed Events API deliveries into `opsbot run` (HTTP mode, real
Redis for the thread map, the sandbox platform), replies read back from the fake Slack Web API.

Covers: the firing message of every corpus source answered in its own thread with the right service and
symptom followed by the diagnosis; a repeat becoming a counter line (edited, not re-posted) instead of a
second diagnosis; a resolved message and an edit to resolved closing the thread; noise and unplaceable
messages getting nothing, a mention getting the help; Events API retries and the mention's double
delivery answered once; malformed deliveries not hurting the bot; and a 1,000-alert storm staying within
~1 Slack call per second per channel with every alert accounted for.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from bot.sandbox.runner import Sandbox
from tests.e2e.botproc import BotProcess
from tests.e2e.conftest import bot_env
from tests.fakes.signing import (
    SIGNING_SECRET,
    block_actions_body,
    block_actions_payload,
    event_body,
    post_signed,
    sign,
)
from tests.fakes.slack_api import Call, FakeSlack

CORPUS: dict[str, list[dict[str, Any]]] = yaml.safe_load(
    (Path(__file__).parents[1] / "triage" / "corpus.yaml").read_text(encoding="utf-8"))
SOURCES = ["alertmanager", "grafana", "datadog", "pagerduty", "opsgenie", "sentry", "newrelic", "cloudwatch",
           "kubernetes", "humans"]
UNDERSTOOD = "I read this as"
_ts = itertools.count(1)
_ids = itertools.count(1)


def _next_ts() -> str:
    return f"{1719000000 + next(_ts)}.{next(_ts):06d}"


def _firing_case(source: str) -> dict[str, Any]:
    """The source's first single-service firing message that is not an edit."""
    for case in CORPUS[source]:
        expect = case["expect"]
        if (expect.get("triage") and expect.get("service") and expect.get("status", "firing") == "firing"
                and case["event"].get("subtype") != "message_changed"):
            return case
    raise AssertionError(f"no firing case for {source}")


def _deliver(bot: BotProcess, event: dict[str, Any], *, event_id: str | None = None,
             retry_num: int | None = None) -> httpx.Response:
    body = event_body(event, event_id=event_id or f"Ev{next(_ids):09d}")
    response = post_signed(bot.events_url, SIGNING_SECRET, body, retry_num=retry_num)
    assert response.status_code == 200, response.text
    return response


def _alert(case_event: dict[str, Any], channel: str, ts: str | None = None) -> dict[str, Any]:
    event = copy.deepcopy(case_event)
    event["channel"] = channel
    event["ts"] = event["event_ts"] = ts or _next_ts()
    event.pop("thread_ts", None)
    return event


def _in_thread(channel: str, thread_ts: str) -> Any:
    return lambda c: c.params.get("channel") == channel and c.params.get("thread_ts") == thread_ts


def _text(call: Call) -> str:
    return str(call.params.get("text", "")) + json.dumps(call.params.get("blocks") or [])


def _flush(url: str) -> None:
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Path]]:
    tmp = tmp_path_factory.mktemp("triage")
    with Sandbox("bad-deploy") as running:
        running.write_kubeconfig(tmp / "kubeconfig")
        yield running, tmp


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _bot(slack: FakeSlack, platform: tuple[Sandbox, Path], redis_url: str, triage: dict[str, Any]) -> BotProcess:
    sandbox, tmp = platform
    config = tmp / f"ops-{next(_ids)}.yaml"
    config.write_text(yaml.safe_dump({"triage": triage}))
    _flush(redis_url)
    env = bot_env(slack, sandbox, tmp / "kubeconfig", REDIS_URL=redis_url, OPSBOT_CONFIG=str(config))
    return BotProcess(env)


@pytest.fixture(scope="module")
def bot(slack: FakeSlack, platform: tuple[Sandbox, Path], redis_url: str) -> Iterator[BotProcess]:
    # No storm mode here: these tests post one alert per source within the same minute.
    with _bot(slack, platform, redis_url, {"storm_alerts_per_min": 10_000}) as running:
        yield running


@pytest.mark.parametrize("source", SOURCES)
def test_each_source_is_answered_in_its_thread(bot: BotProcess, slack: FakeSlack, source: str) -> None:
    case = _firing_case(source)
    channel = f"C0SRC{SOURCES.index(source):04d}"  # a channel each: pacing is per channel
    event = _alert(case["event"], channel)
    _deliver(bot, event)
    service, symptom = case["expect"]["service"], case["expect"].get("symptom")
    replies = slack.wait_for("chat.postMessage", _in_thread(channel, event["ts"]), count=2, timeout=60)
    understood = _text(replies[0])
    assert UNDERSTOOD in understood and service in understood, understood
    if symptom:
        assert symptom in understood
    assert "triage_snooze:" in understood, "the reply offers snooze buttons"
    findings = _text(replies[1])
    assert f"{service} \u2014" in findings or service in findings, findings  # the diagnosis of that service


def test_grouped_alert_one_thread_one_diagnosis_per_service(bot: BotProcess, slack: FakeSlack) -> None:
    grouped = next(c for c in CORPUS["alertmanager"] if len(c["expect"].get("services", [])) == 3)
    event = _alert(grouped["event"], "C0GROUPED")
    _deliver(bot, event)
    replies = slack.wait_for("chat.postMessage", _in_thread("C0GROUPED", event["ts"]), count=4, timeout=90)
    understood = [r for r in replies if UNDERSTOOD in _text(r)]
    assert len(understood) == 1
    diagnosed = {s for s in grouped["expect"]["services"]
                 for r in replies if UNDERSTOOD not in _text(r) and str(r.params.get("text", "")).startswith(s)}
    assert diagnosed == set(grouped["expect"]["services"])


def test_repeat_is_a_counter_line_and_resolve_closes_the_thread(bot: BotProcess, slack: FakeSlack) -> None:
    channel = "C0REPEAT1"
    firing = CORPUS["alertmanager"][0]["event"]
    first = _alert(firing, channel)
    _deliver(bot, first)
    slack.wait_for("chat.postMessage", _in_thread(channel, first["ts"]), count=2, timeout=60)
    repeat = _alert(firing, channel)
    _deliver(bot, repeat)
    counter = slack.wait_for("chat.postMessage", lambda c: _in_thread(channel, first["ts"])(c)
                             and "Fired 2 times" in _text(c), timeout=30)[0]
    _deliver(bot, _alert(firing, channel))
    slack.wait_for("chat.update", lambda c: c.params.get("ts") == counter.response["ts"]
                   and "Fired 3 times" in _text(c), timeout=30)
    in_thread = slack.calls("chat.postMessage")
    assert sum(UNDERSTOOD in _text(c) for c in in_thread if c.params.get("channel") == channel) == 1
    assert not [c for c in in_thread if c.params.get("thread_ts") == repeat["ts"]], "no reply to the repeat"

    _deliver(bot, _alert(CORPUS["alertmanager"][1]["event"], channel))  # [RESOLVED] HighErrorRate auth-service
    note = slack.wait_for("chat.postMessage", lambda c: _in_thread(channel, first["ts"])(c)
                          and "Resolved" in _text(c), timeout=30)[0]
    assert "after firing for" in _text(note) and "3 notifications" in _text(note)
    again = _alert(firing, channel)  # firing after the resolve: a new thread and a new diagnosis
    _deliver(bot, again)
    slack.wait_for("chat.postMessage", lambda c: _in_thread(channel, again["ts"])(c) and UNDERSTOOD in _text(c),
                   timeout=30)


def test_an_edit_to_resolved_closes_the_original_thread(bot: BotProcess, slack: FakeSlack) -> None:
    channel = "C0EDITED1"
    edit = next(c for c in CORPUS["alertmanager"] if c["event"].get("subtype") == "message_changed")["event"]
    original = _alert({**edit["previous_message"], "text": ""}, channel)
    original["attachments"] = [{"color": "danger", "title": "[FIRING:1] PostgresTooManyConnections orders-db "
                                "(critical)", "text": "FATAL: sorry, too many clients already — business-logic"}]
    _deliver(bot, original)
    reply = slack.wait_for("chat.postMessage", _in_thread(channel, original["ts"]), timeout=60)[0]
    assert "business-logic" in _text(reply) and "db_connection_exhaustion" in _text(reply)
    changed = copy.deepcopy(edit)
    changed.update(channel=channel, ts=_next_ts())
    changed["event_ts"] = changed["ts"]
    changed["message"]["ts"] = changed["previous_message"]["ts"] = original["ts"]
    _deliver(bot, changed)
    note = slack.wait_for("chat.postMessage", lambda c: _in_thread(channel, original["ts"])(c)
                          and "Resolved" in _text(c), timeout=30)[0]
    assert "after firing for" in _text(note)


def test_noise_and_unplaceable_get_nothing_but_a_mention_gets_the_help(bot: BotProcess, slack: FakeSlack) -> None:
    channel = "C0NOISE01"
    for case in CORPUS["noise"]:
        _deliver(bot, _alert(case["event"], channel))
    no_service = next(c for c in CORPUS["humans"] if c["expect"].get("service", "") is None)["event"]
    _deliver(bot, _alert(no_service, channel))  # "FATAL: sorry, too many clients": a symptom, no service
    mention = {"type": "message", "user": "U0ALICE01", "text": "<@U0CHATBOT> something feels off today"}
    asked = _alert(mention, channel)
    _deliver(bot, asked)
    help_reply = slack.wait_for("chat.postMessage", _in_thread(channel, asked["ts"]), timeout=30)[0]
    assert "could not tell which service" in _text(help_reply) and "/diagnose" in _text(help_reply)
    # The same mention also arrives as app_mention (another event_id): answered once.
    _deliver(bot, {**asked, "type": "app_mention"})
    time.sleep(1.5)
    posts = [c for c in slack.calls("chat.postMessage") if c.params.get("channel") == channel]
    assert posts == [help_reply], [_text(c)[:80] for c in posts]


def test_retries_of_an_alert_are_answered_once(bot: BotProcess, slack: FakeSlack) -> None:
    channel = "C0RETRIES"
    event = _alert(_firing_case("datadog")["event"], channel)
    _deliver(bot, event, event_id="Ev0TRIAGERETRY")
    _deliver(bot, event, event_id="Ev0TRIAGERETRY", retry_num=1)
    _deliver(bot, event, event_id="Ev0TRIAGERETRY", retry_num=2)
    slack.wait_for("chat.postMessage", _in_thread(channel, event["ts"]), count=2, timeout=60)
    time.sleep(1.5)
    understood = [c for c in slack.calls("chat.postMessage")
                  if c.params.get("channel") == channel and UNDERSTOOD in _text(c)]
    assert len(understood) == 1


def test_the_snooze_button_silences_the_alert(bot: BotProcess, slack: FakeSlack) -> None:
    channel = "C0SNOOZE1"
    firing = _firing_case("grafana")["event"]
    first = _alert(firing, channel)
    _deliver(bot, first)
    reply = slack.wait_for("chat.postMessage", lambda c: _in_thread(channel, first["ts"])(c)
                           and UNDERSTOOD in _text(c), timeout=60)[0]
    button = next(e for b in reply.params["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["action_id"] == "triage_snooze:60")
    click = block_actions_payload(button["action_id"], button["value"], channel_id=channel,
                                  message_ts=reply.response["ts"], thread_ts=first["ts"],
                                  message=slack.message(channel, reply.response["ts"]), button_text="Snooze 1 h")
    response = post_signed(bot.events_url, SIGNING_SECRET, block_actions_body(click))
    assert response.status_code == 200
    note = slack.wait_for("chat.postMessage", lambda c: _in_thread(channel, first["ts"])(c)
                          and "snoozed this alert" in _text(c), timeout=30)[0]
    assert "<@U0ALICE01>" in _text(note) and "1 h" in _text(note)
    # Resolved, then firing again while snoozed: no new thread, no diagnosis.
    resolved = copy.deepcopy(firing)
    resolved["attachments"][0]["title"] = resolved["attachments"][0]["title"].replace("[FIRING:1]", "[RESOLVED]")
    resolved["attachments"][0]["text"] = resolved["attachments"][0]["text"].replace("**Firing**", "**Resolved**")
    _deliver(bot, _alert(resolved, channel))
    slack.wait_for("chat.postMessage", lambda c: _in_thread(channel, first["ts"])(c) and "Resolved" in _text(c),
                   timeout=30)
    again = _alert(firing, channel)
    _deliver(bot, again)
    time.sleep(1.5)
    assert not [c for c in slack.calls("chat.postMessage") if c.params.get("thread_ts") == again["ts"]]


MALFORMED: list[dict[str, Any]] = [
    {"type": "message", "subtype": "bot_message", "bot_id": "B0X", "attachments": "not a list"},
    {"type": "message", "subtype": "bot_message", "bot_id": "B0X", "attachments": [None, 3, {"title": 7}]},
    {"type": "message", "user": "U1", "text": "auth-service 503 " + "x" * 40_000},
    {"type": "message", "user": "U1", "blocks": [{"type": "rich_text", "elements": "oops"}], "text": None},
    {"type": "message", "subtype": "message_changed", "message": "gone"},
    {"type": "message", "subtype": "message_changed", "message": {"bot_id": "B0X", "attachments": [{}]}},
    {"type": "message", "user": "U1", "text": "\u202e\U0001f525 api-gateway p95 \x00 800ms", "thread_ts": 5},
]


def test_malformed_events_do_not_hurt_the_bot(bot: BotProcess, slack: FakeSlack) -> None:
    channel = "C0MALFORM"
    for event in MALFORMED:
        _deliver(bot, {**event, "channel": channel, "ts": _next_ts()})
    # Wrong field types where our code reads them (Bolt itself refuses a non-string channel before us).
    _deliver(bot, {"type": "message", "channel": channel, "ts": None, "text": {"a": 1}, "user": "U1"})
    _deliver(bot, {"type": "message", "channel": channel, "ts": 1.5, "bot_id": "B0X", "attachments": {"x": 1}})
    alert = _alert(CORPUS["alertmanager"][0]["event"], channel)
    _deliver(bot, alert)
    slack.wait_for("chat.postMessage", _in_thread(channel, alert["ts"]), timeout=60)
    assert httpx.get(f"{bot.url}/healthz").status_code == 200
    assert "Traceback" not in bot.log()


# -- storm ------------------------------------------------------------------------------------------------

STORM_ALERTS = 1000
STORM_CHANNEL = "C0STORM01"
_COUNT = re.compile(r"Fired (\d+) times")
_SUMMARY_TOTAL = re.compile(r"\*(\d+) alerts\*")


def _storm_events() -> list[dict[str, Any]]:
    """1,000 alert messages: 24 distinct fingerprints (4 services x 6 sources/symptoms), repeated."""
    services = ["auth-service", "api-gateway", "data-processor", "business-logic"]
    kinds = [("HighErrorRate", "danger"), ("HighLatency", "danger"), ("PodCrashLooping", "danger"),
             ("HighCPU", "danger"), ("ReplicationLag", "danger"), ("HighMemory", "danger")]
    events = []
    for n in range(STORM_ALERTS):
        service = services[n % 4]
        name, color = kinds[(n // 4) % 6]
        events.append({"type": "message", "subtype": "bot_message", "bot_id": "B0ALRTMGR", "username": "AlertManager",
                       "text": "", "channel": STORM_CHANNEL, "ts": _next_ts(),
                       "attachments": [{"color": color, "title": f"[FIRING:1] {name} {service} (production critical)",
                                        "text": ""}]})
    return events


def _counted(slack: FakeSlack) -> tuple[int, int]:
    """(sum over threads, summary total) from the channel's messages as they stand now."""
    messages = slack.messages(STORM_CHANNEL)
    threads = {m["thread_ts"] for m in messages if UNDERSTOOD in m.get("text", "")}
    in_threads = 0
    for thread in threads:
        counts = [int(x) for m in messages if m.get("thread_ts") == thread for x in _COUNT.findall(m.get("text", ""))]
        in_threads += max(counts, default=1)
    summary = [int(x) for m in messages if "thread_ts" not in m for x in _SUMMARY_TOTAL.findall(m.get("text", ""))]
    return in_threads, max(summary, default=0)


def test_a_storm_of_1000_alerts_is_paced_coalesced_and_fully_counted(
    slack: FakeSlack, platform: tuple[Sandbox, Path], redis_url: str
) -> None:
    events = _storm_events()
    with _bot(slack, platform, redis_url, {"storm_alerts_per_min": 5}) as storm_bot:
        started = time.time()
        with httpx.Client(timeout=10) as client:
            for n, event in enumerate(events):
                body = event_body(event, event_id=f"Ev0STORM{n:05d}")
                headers = {"Content-Type": "application/json", **sign(SIGNING_SECRET, body)}
                assert client.post(storm_bot.events_url, content=body, headers=headers).status_code == 200
        sent_in = time.time() - started
        assert sent_in < 60
        deadline = time.monotonic() + 120
        while sum(_counted(slack)) < STORM_ALERTS and time.monotonic() < deadline:
            time.sleep(1)
        in_threads, in_summary = _counted(slack)
        assert in_threads + in_summary == STORM_ALERTS, (in_threads, in_summary)
        assert in_summary > 0, "the storm summary holds the alerts that arrived past the storm limit"
    calls = [c for c in slack.calls() if c.method in {"chat.postMessage", "chat.update"}
             and c.params.get("channel") == STORM_CHANNEL]
    assert len(calls) < 100, f"{len(calls)} Slack calls for {STORM_ALERTS} alerts"
    summaries = [c for c in calls if c.method == "chat.postMessage" and "thread_ts" not in c.params]
    assert len(summaries) == 1, "one storm summary, updated in place"
    times = sorted(c.received_at for c in calls)
    # Sustained: never more than ~1 per second over any 10-second stretch (HTTP jitter allowed for).
    for i, start in enumerate(times):
        assert sum(1 for t in times[i:] if t < start + 10) <= 11
    assert not [c for c in calls if c.status == 429]
