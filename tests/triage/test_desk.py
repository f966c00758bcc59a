"""The triage desk's dedup, resolve, snooze and storm logic with a recording Slack sink and a fake clock;
the state on MemoryCoordination and on real Redis. Pacing and the post queue on their own."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import OpsConfig, load_ops_config
from bot.model import Diagnosis, Symptom
from bot.store.approvals import AuditEvent
from bot.store.approvals_memory import MemoryApprovalStore
from bot.store.coordination import Coordination, MemoryCoordination, RedisCoordination
from bot.triage.desk import TriageDesk, Who
from bot.triage.outbox import ChannelQueue
from bot.triage.pacing import Pacer

CHANNEL = "C0ALERTS1"
ME = Who(bot_ids=frozenset({"B0CHATBOT"}), bot_user="U0CHATBOT")


@dataclass
class Clock:
    now: float = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Sink:
    """Records what the desk sends; ts values increase like Slack's."""

    posts: list[tuple[str, str | None, str]] = field(default_factory=list)
    updates: list[tuple[str, str]] = field(default_factory=list)
    findings: list[tuple[str, str, str]] = field(default_factory=list)
    gate: asyncio.Event | None = None  # while unset, Slack "is slow": every call waits for it

    async def post(self, channel: str, message: dict[str, Any], thread_ts: str | None) -> str:
        if self.gate is not None:
            await self.gate.wait()
        ts = f"2000000000.{len(self.posts):06d}"
        self.posts.append((ts, thread_ts, message["text"]))
        return ts

    async def update(self, channel: str, ts: str, message: dict[str, Any]) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.updates.append((ts, message["text"]))

    async def post_findings(self, channel: str, thread_ts: str, diag: Diagnosis, requester: str) -> None:
        self.findings.append((thread_ts, diag.target.service, requester))

    def text_of(self, ts: str) -> str:
        latest = [t for u, t in self.updates if u == ts]
        return latest[-1] if latest else next(t for p, _, t in self.posts if p == ts)


def _diagnosis(service: str, symptom: Symptom) -> Diagnosis:
    config = load_ops_config(None)
    return Diagnosis(target=config.target(service), symptom=symptom, findings=(), causes=(), guide_section=None,
                     duration_ms=1.0)


async def _diagnose(service: str, symptom: Symptom) -> Diagnosis:
    return _diagnosis(service, symptom)


def _config(**triage: Any) -> OpsConfig:
    base = load_ops_config(None)
    return base.model_copy(update={"triage": base.triage.model_copy(update=triage)})


@pytest.fixture(params=["memory", "redis"])
async def coord(request: pytest.FixtureRequest) -> AsyncIterator[Coordination]:
    impl: Coordination = (RedisCoordination(request.getfixturevalue("redis_client_url"))
                          if request.param == "redis" else MemoryCoordination())
    yield impl
    await impl.aclose()


def _desk(coord: Coordination, sink: Sink, clock: Clock, **triage: Any) -> TriageDesk:
    config = _config(**triage)
    return TriageDesk(config=config, coordination=coord, sink=sink, diagnose=_diagnose,
                      runnable=frozenset(Symptom), help_text="HELP", clock=clock)


_seq = iter(range(1, 10**9))


def _alert(title: str, *, color: str = "danger", channel: str = CHANNEL, **extra: Any) -> dict[str, Any]:
    ts = f"1800000000.{next(_seq):06d}"
    return {"type": "message", "subtype": "bot_message", "bot_id": "B0ALRTMGR", "username": "AlertManager",
            "channel": channel, "ts": ts, "event_ts": ts, "text": "",
            "attachments": [{"color": color, "title": title, "text": ""}], **extra}


FIRING = "[FIRING:1] HighErrorRate auth-service (production critical)"
RESOLVED = "[RESOLVED] HighErrorRate auth-service (production critical)"


async def test_first_alert_opens_its_thread_and_repeats_become_one_counter_line(coord: Coordination) -> None:
    sink, clock = Sink(), Clock()
    desk = _desk(coord, sink, clock)
    first = _alert(FIRING)
    assert await desk.handle(first, ME) == "opened"
    await desk.settle()
    assert [(t, "I read this as" in x) for _, t, x in sink.posts] == [(first["ts"], True)]
    assert sink.findings == [(first["ts"], "auth-service", "opsbot")]
    for _ in range(4):
        clock.now += 30
        assert await desk.handle(_alert(FIRING), ME) == "repeat"
    await desk.settle()
    counter_ts = next(ts for ts, thread, text in sink.posts if "Fired" in text)
    assert re.search(r"Fired 5 times", sink.text_of(counter_ts))
    assert len(sink.findings) == 1, "a repeat is not diagnosed again"
    assert all(thread == first["ts"] for _, thread, _ in sink.posts)


async def test_resolve_closes_with_duration_and_the_next_firing_opens_a_new_thread(coord: Coordination) -> None:
    sink, clock = Sink(), Clock()
    desk = _desk(coord, sink, clock)
    first = _alert(FIRING)
    await desk.handle(first, ME)
    clock.now += 60
    await desk.handle(_alert(FIRING), ME)
    clock.now += 12 * 60
    assert await desk.handle(_alert(RESOLVED, color="good"), ME) == "resolved"
    await desk.settle()
    note = [text for _, thread, text in sink.posts if thread == first["ts"] and "Resolved" in text]
    assert note == [":white_check_mark: *Resolved* after firing for *13 min* (2 notifications)."]
    assert await desk.handle(_alert(RESOLVED, color="good"), ME) == "resolved-unknown"
    again = _alert(FIRING)
    assert await desk.handle(again, ME) == "opened"


async def test_an_edit_to_resolved_closes_the_thread_of_the_edited_message(coord: Coordination) -> None:
    sink, clock = Sink(), Clock()
    desk = _desk(coord, sink, clock)
    first = _alert(FIRING)
    await desk.handle(first, ME)
    clock.now += 125
    edit = {"type": "message", "subtype": "message_changed", "channel": CHANNEL, "event_ts": "1800000999.000001",
            "message": {**_alert(RESOLVED, color="good"), "ts": first["ts"]}}
    assert await desk.handle(edit, ME) == "resolved"
    assert await desk.handle(edit, ME) == "duplicate"
    await desk.settle()
    assert any(thread == first["ts"] and "2 min" in text for _, thread, text in sink.posts)


async def test_storm_routes_new_alerts_to_one_summary_and_counts_every_alert(coord: Coordination) -> None:
    sink, clock = Sink(gate=asyncio.Event()), Clock()
    desk = _desk(coord, sink, clock, storm_alerts_per_min=5)
    services = ["auth-service", "api-gateway", "data-processor", "business-logic"]
    names = ["HighErrorRate", "HighLatency", "KubePodCrashLooping", "HighCPU", "ReplicationLag"]
    outcomes: dict[str, int] = {}
    for n in range(1000):
        clock.now += 0.05
        title = f"[FIRING:1] {names[n // 4 % 5]} {services[n % 4]} (production critical)"
        outcome = await desk.handle(_alert(title), ME)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert sink.gate is not None
    sink.gate.set()  # Slack answers again: what queued up meanwhile goes out coalesced
    await desk.settle()
    assert set(outcomes) <= {"opened", "repeat", "summary"} and outcomes["opened"] == 5
    counted = 0
    for _, thread, text in sink.posts:
        if "I read this as" in text:
            counters = [c for c, t, x in sink.posts if t == thread and "Fired" in x]
            counted += int(re.findall(r"Fired (\d+)", sink.text_of(counters[0]))[0]) if counters else 1
    summary_posts = [ts for ts, thread, text in sink.posts if thread is None]
    assert len(summary_posts) == 1
    in_summary = int(re.findall(r"\*(\d+) alerts\*", sink.text_of(summary_posts[0]))[0])
    assert counted + in_summary == 1000
    # 5 openings + their 5 diagnoses, 1 summary (+ at most one edit of it), at most 5 counter lines.
    assert len(sink.posts) + len(sink.updates) <= 17, "coalesced: far fewer calls than alerts"
    summary = desk.summary(CHANNEL)
    assert summary is not None and summary.total == in_summary and len(summary.lines) == 15


async def test_snooze_silences_a_fingerprint_and_refuses_values_not_offered(coord: Coordination) -> None:
    sink, clock = Sink(), Clock()
    desk = _desk(coord, sink, clock)
    first = _alert(FIRING)
    await desk.handle(first, ME)
    await desk.settle()
    key = re.search(r"([0-9a-f]{20})\|30", str(first) + str(_rendered_buttons(desk, first)))
    assert key is not None
    assert not await desk.snooze(CHANNEL, first["ts"], key.group(1), 7, "U0ALICE01")  # 7 min was not offered
    assert not await desk.snooze(CHANNEL, first["ts"], "not-a-key", 30, "U0ALICE01")
    assert await desk.snooze(CHANNEL, first["ts"], key.group(1), 30, "U0ALICE01")
    await desk.handle(_alert(RESOLVED, color="good"), ME)  # close the thread, then fire again while snoozed
    assert await desk.handle(_alert(FIRING), ME) == "snoozed"
    assert await desk.handle(_alert(FIRING), ME) == "snoozed"
    await desk.settle()
    assert sum("I read this as" in text for _, _, text in sink.posts) == 1


async def test_a_snooze_is_audited_with_who_and_for_how_long(coord: Coordination) -> None:
    sink, clock = Sink(), Clock()
    desk = _desk(coord, sink, clock)
    desk.audit = MemoryApprovalStore()
    first = _alert(FIRING)
    await desk.handle(first, ME)
    await desk.settle()
    key = re.search(r"([0-9a-f]{20})\|30", str(_rendered_buttons(desk, first)))
    assert key is not None and await desk.snooze(CHANNEL, first["ts"], key.group(1), 30, "U0ALICE01")
    trail = await desk.audit.audit(service="triage")
    assert [(r.entry.actor, r.entry.event, dict(r.entry.params)) for r in trail] == [
        ("U0ALICE01", AuditEvent.SNOOZED, {"fingerprint": key.group(1), "minutes": "30"})]


def _rendered_buttons(desk: TriageDesk, alert: dict[str, Any]) -> str:
    from bot.render.triage_blocks import understood_message
    from bot.triage import triage_event
    from bot.triage.fingerprint import fingerprint_of

    result = triage_event(alert, desk.config)
    fp = fingerprint_of(result)
    assert fp is not None
    return str(understood_message(result, fp, window_s=3600, snooze_choices_min=(30,), diagnosing=True))


async def test_unplaced_messages_get_help_only_when_they_mention_the_bot(coord: Coordination) -> None:
    sink = Sink()
    desk = _desk(coord, sink, Clock())
    plain = {"type": "message", "user": "U0ALICE01", "channel": CHANNEL, "ts": "1.1", "text": "too many clients!"}
    assert await desk.handle(plain, ME) == "ignored"
    asked = {**plain, "ts": "1.2", "text": "<@U0CHATBOT> something is off"}
    assert await desk.handle(asked, ME) == "help"
    assert await desk.handle({**asked, "type": "app_mention"}, ME) == "duplicate"
    own = {**asked, "ts": "1.3", "bot_id": "B0CHATBOT"}
    assert await desk.handle(own, ME) == "ignored"
    await desk.settle()
    assert [(thread, "could not tell" in text) for _, thread, text in sink.posts] == [("1.2", True)]


async def test_a_person_reporting_is_the_requester_of_the_proposals(coord: Coordination) -> None:
    sink = Sink()
    desk = _desk(coord, sink, Clock())
    report = {"type": "message", "user": "U0ALICE01", "channel": CHANNEL, "ts": "3.1",
              "text": "auth-service is throwing 503s again"}
    assert await desk.handle(report, ME) == "opened"
    await desk.settle()
    assert sink.findings == [("3.1", "auth-service", "U0ALICE01")]


async def test_only_allowlisted_bots_trigger_triage(coord: Coordination) -> None:
    sink = Sink()
    desk = _desk(coord, sink, Clock(), allowed_bots=("B0GRAFANA",))
    assert await desk.handle(_alert(FIRING), ME) == "ignored"  # Alertmanager's bot is not on the list
    report = {"type": "message", "user": "U0ALICE01", "channel": CHANNEL, "ts": "4.1",
              "text": "auth-service is throwing 503s again"}
    assert await desk.handle(report, ME) == "opened"  # people always may


async def test_queued_work_stays_bounded_however_many_alerts_wait(coord: Coordination) -> None:
    sink = Sink(gate=asyncio.Event())
    desk = _desk(coord, sink, Clock(), storm_alerts_per_min=10_000, max_queued_posts=8)
    services = ["auth-service", "api-gateway", "data-processor", "business-logic"]
    names = ["HighErrorRate", "HighLatency", "KubePodCrashLooping", "HighCPU", "ReplicationLag"]
    outcomes = [await desk.handle(_alert(f"[FIRING:1] {names[n // 4 % 5]} {services[n % 4]} (critical)"), ME)
                for n in range(3000)]
    await asyncio.sleep(0)  # let the diagnoses finish and queue their findings
    # Openings stop once the queue holds its bound (the rest of the alerts go to the summary); each opened
    # thread adds at most its findings and one counter entry; the summary is one entry.
    opened = outcomes.count("opened")
    assert 1 <= opened <= 8 and outcomes.count("summary") + outcomes.count("repeat") == 3000 - opened
    assert desk.outbox.pending(CHANNEL) <= 8 + opened + opened + 1
    summary = desk.summary(CHANNEL)
    assert summary is not None and len(summary.lines) == 20 - opened
    assert sink.gate is not None
    sink.gate.set()
    await desk.settle()


async def test_pacer_spaces_calls_per_channel_without_bursts() -> None:
    clock = Clock(0.0)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    pacer = Pacer(1.0, clock=clock, sleep=sleep)
    for _ in range(3):
        await pacer.wait("C1")
    await pacer.wait("C2")  # another channel has its own budget
    assert slept == [1.0, 2.0]
    clock.now = 10.0  # idle long enough: no wait, and no saved-up burst either
    assert pacer.reserve("C1") == 0.0
    assert pacer.reserve("C1") == 1.0


def test_queue_is_bounded_and_coalesces_by_key() -> None:
    async def job() -> None:
        return None

    queue = ChannelQueue(max_posts=2)
    assert queue.post(job) and queue.post(job)
    assert not queue.post(job), "full"
    assert queue.post(job, force=True)
    first, second = object(), object()
    queue.coalesce("counter:a", lambda: first)  # type: ignore[arg-type,return-value]
    queue.coalesce("counter:a", lambda: second)  # type: ignore[arg-type,return-value]
    queue.coalesce("summary", job, urgent=True)
    assert len(queue) == 5
    assert queue.next() is job  # urgent first
    for _ in range(3):
        assert queue.next() is job
    last = queue.next()
    assert last is not None and last() is second
    assert queue.next() is None


EVENTS = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "app_mention"]), "channel": st.just(CHANNEL),
     "ts": st.text(min_size=1, max_size=20)},
    optional={
        "subtype": st.sampled_from(["bot_message", "message_changed", "thread_broadcast", "channel_join"]),
        "text": st.text(max_size=300) | st.just("<@U0CHATBOT> " + "auth-service 503 " * 3000),
        "bot_id": st.text(max_size=10), "thread_ts": st.text(max_size=20),
        "attachments": st.lists(st.dictionaries(st.sampled_from(["title", "text", "color", "fields"]),
                                                st.text(max_size=80) | st.integers() | st.none()), max_size=3)
        | st.text(max_size=10),
        "blocks": st.lists(st.dictionaries(st.text(max_size=8), st.text(max_size=30)), max_size=3) | st.none(),
        "message": st.dictionaries(st.sampled_from(["ts", "text", "bot_id", "attachments"]), st.text(max_size=40))
        | st.integers(),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(EVENTS, min_size=1, max_size=5))
def test_malformed_events_never_crash_the_desk(events: list[dict[str, Any]]) -> None:
    async def run() -> None:
        desk = _desk(MemoryCoordination(), Sink(), Clock())
        for event in events:
            assert await desk.handle(event, ME) in {"ignored", "duplicate", "help", "opened", "repeat", "summary",
                                                    "snoozed", "resolved", "resolved-unknown", "dropped"}
        await desk.settle()
        assert desk.outbox.jobs_failed == 0

    asyncio.run(run())
