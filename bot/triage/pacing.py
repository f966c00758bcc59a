"""Per-channel pacing of Slack calls: Slack allows about one message per second per channel.

Each call reserves the next free slot of its channel, spaced 1/rate apart, and sleeps until then: calls
keep their order, never burst, and a waiting caller holds nothing but its reservation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]
# Channels whose last slot is long past are forgotten once the table grows past this.
_PRUNE_AT = 1000


class Pacer:
    def __init__(
        self,
        rate_per_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate_per_s <= 0:
            raise ValueError(f"rate must be positive, got {rate_per_s!r}")
        self._spacing = 1.0 / rate_per_s
        self._clock = clock
        self._sleep = sleep
        self._next_free: dict[str, float] = {}

    def reserve(self, channel: str) -> float:
        """Book the channel's next slot; returns how long to wait for it (0 when the channel is idle)."""
        now = self._clock()
        if len(self._next_free) >= _PRUNE_AT:
            for stale in [c for c, t in self._next_free.items() if t <= now]:
                del self._next_free[stale]
        slot = max(now, self._next_free.get(channel, now))
        self._next_free[channel] = slot + self._spacing
        return slot - now

    async def wait(self, channel: str) -> None:
        delay = self.reserve(channel)
        if delay > 0:
            await self._sleep(delay)
