"""The triage desk: from one Slack message event to what the bot posts, deduplicated and storm-proof.

A firing alert seen for the first time in the dedup window gets a reply in its own thread (what was
understood, snooze buttons) and one diagnosis per affected service; a repeat bumps the thread's counter
line; a resolved alert gets a closing note with how long it fired. When a channel's alert rate passes the
storm limit, or its post queue is full, new alerts are counted in one storm summary message instead.
Every alert lands in a thread's count or in the summary: none is dropped silently.

Core only: Slack is reached through the `SlackSink` the handler supplies (which paces calls per channel).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot import telemetry
from bot.config import OpsConfig
from bot.model import Diagnosis, Symptom
from bot.render import triage_blocks as render
from bot.store.approvals import ApprovalStore, AuditEntry, AuditEvent
from bot.store.coordination import Coordination
from bot.triage.fingerprint import Fingerprint, fingerprint_of
from bot.triage.outbox import Outbox
from bot.triage.result import TriageResult
from bot.triage.route import triage_event
from bot.triage.storm import StormSummary
from bot.triage.threads import Snooze, ThreadMap, ThreadRecord

log = logging.getLogger(__name__)

SlackMessage = dict[str, Any]
Diagnose = Callable[[str, Symptom], Awaitable[Diagnosis]]
Outcome = Literal[
    "ignored", "duplicate", "help", "opened", "repeat", "summary", "snoozed", "resolved", "resolved-unknown",
    "dropped",
]
STORM_RATE_WINDOW_S = 60.0
# Proposals from a tool's alert have no person asking; a high-risk one still needs an approver who is not
# its requester, and no person is this one, so the approval roles decide alone.
ALERT_REQUESTER = "opsbot"


class SlackSink(Protocol):
    async def post(self, channel: str, message: SlackMessage, thread_ts: str | None) -> str: ...

    async def update(self, channel: str, ts: str, message: SlackMessage) -> None: ...

    async def post_findings(self, channel: str, thread_ts: str, diag: Diagnosis, requester: str) -> None:
        """The diagnosis in the thread, proposals as approval buttons requested by `requester`."""
        ...


@dataclass(frozen=True)
class Who:
    """Who the bot is (from auth.test via Bolt's context): its own messages are never triaged."""

    bot_ids: frozenset[str] = frozenset()
    bot_user: str | None = None


@dataclass
class _Thread:
    """What this replica knows of an open thread beyond the shared record."""

    count: int = 1
    counter_ts: str | None = None
    latest: float = 0.0


def _s(value: object) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class _Where:
    channel: str
    ts: str  # the message's own ts (for an edit: the edited message's)
    thread_ts: str  # where a reply goes: the message's thread if it is a reply, else the message itself
    edited: bool
    text: str
    event_ts: str
    user: str  # who posted it: a person reporting in plain words is the requester of the proposals

    @property
    def seen_key(self) -> str:
        # A mention arrives twice (app_mention and message, with different event_ids): one key for both.
        # Each edit is its own event, so an edit is keyed by when it happened.
        return f"triage-seen:{self.channel}:{self.ts}:" + (f"edit:{self.event_ts}" if self.edited else "msg")


def _inner(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = raw.get("event") if raw.get("type") == "event_callback" else raw
    return inner if isinstance(inner, Mapping) else {}


def _where(raw: Mapping[str, Any]) -> _Where | None:
    event = _inner(raw)
    edited = _s(event.get("subtype")) == "message_changed"
    message = event.get("message") if edited else event
    if not isinstance(message, Mapping):
        return None
    channel = _s(event.get("channel")) or _s(message.get("channel"))
    ts = _s(message.get("ts"))
    if not channel or not ts:
        return None
    thread_ts = _s(message.get("thread_ts")) or ts
    user = "" if message.get("bot_id") else _s(message.get("user"))
    return _Where(channel, ts, thread_ts, edited, _s(message.get("text")), _s(event.get("event_ts")), user)


@dataclass
class TriageDesk:
    config: OpsConfig
    coordination: Coordination
    sink: SlackSink
    diagnose: Diagnose
    runnable: frozenset[Symptom]
    help_text: str
    clock: Callable[[], float] = time.time
    # Where snoozes are audited: the approvals trail, so `opsbot audit` shows who silenced what and when.
    audit: ApprovalStore | None = None
    outbox: Outbox = field(init=False)
    threads: ThreadMap = field(init=False)
    _local: dict[tuple[str, str], _Thread] = field(default_factory=dict, init=False)
    _summaries: dict[str, StormSummary] = field(default_factory=dict, init=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        settings = self.config.triage
        self.outbox = Outbox(settings.max_queued_posts)
        self.threads = ThreadMap(self.coordination, settings.dedup_window_s)

    # -- entry point ---------------------------------------------------------------------------------------

    async def handle(self, raw: Mapping[str, Any], who: Who = Who()) -> Outcome:
        """One message, app_mention or message_changed event. Never raises for a malformed event."""
        where = _where(raw)
        if where is None:
            return "ignored"
        result = triage_event(raw, self.config, own_bot_ids=who.bot_ids, allowed_bots=self.config.triage.allowed_bots)
        if result.reason == "the bot's own message":
            return "ignored"
        fp = fingerprint_of(result)
        placed = fp is not None and result.status is not None
        if not placed and not _mentions(where, who):
            return "ignored"  # noise, or a report the bot cannot place that does not address it
        if not await self.coordination.claim(where.seen_key, self.config.triage.dedup_window_s):
            return "duplicate"
        if fp is None or result.status is None:
            return self._unplaced(where)
        telemetry.ALERTS_TRIAGED.labels(result.source or "unknown", result.status).inc()
        if result.status == "resolved":
            return await self._resolved(where, fp)
        return await self._firing(where, result, fp)

    # -- firing --------------------------------------------------------------------------------------------

    async def _firing(self, where: _Where, result: TriageResult, fp: Fingerprint) -> Outcome:
        now = self.clock()
        channel = where.channel
        count = await self.threads.hit(channel, fp)
        storm = await self._storm(channel)
        if count == 1:
            if await self.threads.snoozed(channel, fp) is not None:
                await self.threads.put(channel, fp, ThreadRecord(channel, None, now, fp.label))
                return "snoozed"
            if storm or not self.outbox.has_room(channel):
                await self.threads.put(channel, fp, ThreadRecord(channel, None, now, fp.label))
                self._count_in_summary(channel, fp, now)
                return "summary"
            await self.threads.put(channel, fp, ThreadRecord(channel, where.thread_ts, now, fp.label))
            self._local[(channel, fp.key)] = _Thread(latest=now)
            self._open(where, result, fp)
            return "opened"
        record = await self.threads.wait_for(channel, fp)
        if record is None or record.thread_ts is None:
            if record is None or await self.threads.snoozed(channel, fp) is None:
                self._count_in_summary(channel, fp, now)
                return "summary"
            return "snoozed"
        local = self._local.setdefault((channel, fp.key), _Thread(counter_ts=record.counter_ts))
        local.count, local.latest = max(local.count, count), now
        self.outbox.coalesce(channel, f"counter:{fp.key}", lambda: self._post_counter(channel, fp, record))
        return "repeat"

    async def _storm(self, channel: str) -> bool:
        rate = await self.coordination.incr_window(f"triage-rate:{channel}", STORM_RATE_WINDOW_S)
        return rate > self.config.triage.storm_alerts_per_min

    def _open(self, where: _Where, result: TriageResult, fp: Fingerprint) -> None:
        settings = self.config.triage
        diagnosing = fp.symptom in self.runnable
        message = render.understood_message(result, fp, window_s=settings.dedup_window_s,
                                            snooze_choices_min=settings.snooze_choices_min, diagnosing=diagnosing)
        self.outbox.post(where.channel, lambda: self._post(where.channel, message, where.thread_ts), force=True)
        if diagnosing:
            # Grouped alerts: one thread, one diagnosis per affected service.
            requester = where.user or ALERT_REQUESTER
            for service in fp.services:
                self._spawn(self._diagnose_into(where.channel, where.thread_ts, service, fp.symptom, requester))

    async def _diagnose_into(
        self, channel: str, thread_ts: str, service: str, symptom: Symptom, requester: str
    ) -> None:
        try:
            diag = await self.diagnose(service, symptom)
        except Exception:
            log.exception("triage diagnosis of %s (%s) failed", service, symptom.value)
            failed = render.diagnosis_failed_message(service)
            self.outbox.post(channel, lambda: self._post(channel, failed, thread_ts), force=True)
            return
        self.outbox.post(channel, lambda: self.sink.post_findings(channel, thread_ts, diag, requester), force=True)

    async def _post_counter(self, channel: str, fp: Fingerprint, record: ThreadRecord) -> None:
        local = self._local.get((channel, fp.key))
        if local is None or record.thread_ts is None:
            return  # resolved meanwhile: the closing note carries the count
        message = render.counter_message(local.count, record.first_seen, local.latest)
        if local.counter_ts:
            await self.sink.update(channel, local.counter_ts, message)
            return
        local.counter_ts = await self.sink.post(channel, message, record.thread_ts)
        current = await self.threads.get(channel, fp)
        if current is not None and current.thread_ts == record.thread_ts:
            # Shared, so another replica counting a repeat edits this line instead of posting its own.
            await self.threads.put(channel, fp, ThreadRecord(channel, current.thread_ts, current.first_seen,
                                                             current.label, local.counter_ts))

    # -- storm summary -------------------------------------------------------------------------------------

    def _count_in_summary(self, channel: str, fp: Fingerprint, now: float) -> None:
        summary = self._summaries.get(channel)
        if summary is None or now - summary.last_added > self.config.triage.dedup_window_s:
            summary = self._summaries[channel] = StormSummary(started=now, last_added=now)
        summary.add(fp, now)
        self._touch_summary(channel)

    def _touch_summary(self, channel: str) -> None:
        self.outbox.coalesce(channel, "storm-summary", lambda: self._post_summary(channel), urgent=True)

    async def _post_summary(self, channel: str) -> None:
        summary = self._summaries.get(channel)
        if summary is None:
            return
        message = render.storm_summary_message(summary)
        if summary.ts is None:
            summary.ts = await self.sink.post(channel, message, None)
        else:
            await self.sink.update(channel, summary.ts, message)

    def summary(self, channel: str) -> StormSummary | None:
        return self._summaries.get(channel)

    # -- resolved, unplaced ----------------------------------------------------------------------------------

    async def _resolved(self, where: _Where, fp: Fingerprint) -> Outcome:
        channel = where.channel
        record = await self.threads.get(channel, fp)
        if record is None:
            return "resolved-unknown"  # not seen firing (or long ago): no thread of ours to close
        local = self._local.pop((channel, fp.key), None)
        await self.threads.close(channel, fp)
        if record.thread_ts is None:
            summary = self._summaries.get(channel)
            if summary is not None and summary.resolve(fp):
                self._touch_summary(channel)
            return "resolved"
        note = render.closing_message(self.clock() - record.first_seen, local.count if local else None)
        thread_ts = record.thread_ts
        self.outbox.post(channel, lambda: self._post(channel, note, thread_ts), force=True)
        return "resolved"

    def _unplaced(self, where: _Where) -> Outcome:
        message = render.unplaced_message(self.help_text)
        if not self.outbox.post(where.channel, lambda: self._post(where.channel, message, where.thread_ts)):
            log.warning("help reply in %s dropped: the channel's post queue is full", where.channel)
            return "dropped"
        return "help"

    # -- snooze ------------------------------------------------------------------------------------------------

    async def snooze(self, channel: str, thread_ts: str | None, fp_key: str, minutes: int, user: str) -> bool:
        """Silence a fingerprint; False for a value not offered (a forged or stale button)."""
        if minutes not in self.config.triage.snooze_choices_min or not _is_key(fp_key):
            return False
        until = self.clock() + minutes * 60
        await self.threads.snooze(channel, fp_key, Snooze(until=until, by=user), minutes * 60)
        if self.audit is not None:
            await self.audit.append_audit(AuditEntry(
                actor=user, event=AuditEvent.SNOOZED, action="snooze", service="triage",
                params={"fingerprint": fp_key, "minutes": str(minutes)}, channel=channel, message_ts=thread_ts,
            ))
        if thread_ts:
            note = render.snoozed_message(user, minutes, until)
            self.outbox.post(channel, lambda: self._post(channel, note, thread_ts), force=True)
        return True

    # -- plumbing ----------------------------------------------------------------------------------------------

    async def _post(self, channel: str, message: SlackMessage, thread_ts: str | None) -> None:
        await self.sink.post(channel, message, thread_ts)

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)  # held: a task only weakly referenced by the loop can vanish mid-run
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait for running diagnoses and every queued post (tests, the benchmark)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.outbox.drain()

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.outbox.aclose()


def _mentions(where: _Where, who: Who) -> bool:
    return bool(who.bot_user) and f"<@{who.bot_user}>" in where.text


def _is_key(value: str) -> bool:
    return len(value) == 20 and all(c in "0123456789abcdef" for c in value)


def own_ids(*ids: str | None) -> frozenset[str]:
    return frozenset(i for i in ids if i)

