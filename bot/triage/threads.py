"""The thread map: which thread an alert fingerprint is answered in, since when, how often it fired.

Kept in the coordination store (Redis with REDIS_URL, so every replica agrees; memory in the demo) for the
dedup window. The occurrence count is an atomic window counter, so concurrent repeats are all counted and
exactly one caller sees 1 and opens the thread.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from bot.store.coordination import Coordination
from bot.triage.fingerprint import Fingerprint

# A repeat can arrive while the first occurrence is still writing its record; wait this long for it.
RECORD_WAIT_S = 1.0
_RECORD_POLL_S = 0.02


@dataclass(frozen=True)
class ThreadRecord:
    channel: str
    thread_ts: str | None  # None: the alert arrived during a storm and is counted in the channel summary
    first_seen: float  # epoch seconds
    label: str
    counter_ts: str | None = None  # the thread's counter line, once posted

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ThreadRecord | None:
        try:
            return cls(
                channel=str(raw["channel"]),
                thread_ts=None if raw.get("thread_ts") is None else str(raw["thread_ts"]),
                first_seen=float(raw["first_seen"]),
                label=str(raw.get("label", "")),
                counter_ts=None if raw.get("counter_ts") is None else str(raw["counter_ts"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Snooze:
    until: float  # epoch seconds
    by: str


class ThreadMap:
    def __init__(self, coordination: Coordination, window_s: float) -> None:
        self._coord = coordination
        self._window_s = window_s

    @staticmethod
    def _id(channel: str, fp: Fingerprint) -> str:
        return f"triage:{channel}:{fp.key}"

    async def hit(self, channel: str, fp: Fingerprint) -> int:
        """Count one occurrence; 1 means this is the first within the window."""
        return await self._coord.incr_window(self._id(channel, fp), self._window_s)

    async def put(self, channel: str, fp: Fingerprint, record: ThreadRecord) -> None:
        await self._coord.set_json(self._id(channel, fp), record.to_json(), self._window_s)

    async def get(self, channel: str, fp: Fingerprint) -> ThreadRecord | None:
        raw = await self._coord.get_json(self._id(channel, fp))
        return ThreadRecord.from_json(raw) if raw else None

    async def wait_for(self, channel: str, fp: Fingerprint) -> ThreadRecord | None:
        """The record a concurrent first occurrence is about to write (None if it never appears)."""
        for _ in range(round(RECORD_WAIT_S / _RECORD_POLL_S)):
            record = await self.get(channel, fp)
            if record is not None:
                return record
            await asyncio.sleep(_RECORD_POLL_S)
        return None

    async def close(self, channel: str, fp: Fingerprint) -> None:
        """Resolved: the next firing of this alert opens a new thread."""
        await self._coord.delete_json(self._id(channel, fp))
        await self._coord.reset_window(self._id(channel, fp))

    async def snooze(self, channel: str, fp_key: str, snooze: Snooze, seconds: float) -> None:
        await self._coord.set_json(f"triage-snooze:{channel}:{fp_key}", asdict(snooze), seconds)

    async def snoozed(self, channel: str, fp: Fingerprint) -> Snooze | None:
        raw = await self._coord.get_json(f"triage-snooze:{channel}:{fp.key}")
        if not raw:
            return None
        try:
            return Snooze(until=float(raw["until"]), by=str(raw["by"]))
        except (KeyError, TypeError, ValueError):
            return None
