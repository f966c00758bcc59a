"""The bounded queue of outgoing Slack work, one worker per channel.

Three kinds of work: posts (a triage reply, findings, a closing note) wait in order in a bounded queue;
coalesced jobs (a thread's counter line, the storm summary) are keyed, so a thousand repeats waiting for
their turn become one edit showing the latest count; urgent coalesced jobs (the storm summary) go first.
The worker runs one job at a time, so the Slack client's pacing decides the channel's call rate.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from bot import telemetry

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class ChannelQueue:
    def __init__(self, max_posts: int) -> None:
        self.max_posts = max_posts
        self._posts: deque[Job] = deque()
        self._urgent: dict[str, Job] = {}
        self._coalesced: dict[str, Job] = {}

    def __len__(self) -> int:
        return len(self._posts) + len(self._urgent) + len(self._coalesced)

    def has_room(self) -> bool:
        return len(self._posts) < self.max_posts

    def post(self, job: Job, *, force: bool = False) -> bool:
        """Queue a post; False when the queue is full (`force`: the rest of a thread already opened)."""
        if not force and not self.has_room():
            return False
        self._posts.append(job)
        return True

    def coalesce(self, key: str, job: Job, *, urgent: bool = False) -> None:
        # A pending job under the same key is replaced in place: it keeps its turn, runs the newest work.
        (self._urgent if urgent else self._coalesced)[key] = job

    def next(self) -> Job | None:
        for table in (self._urgent,):
            if table:
                return table.pop(next(iter(table)))
        if self._posts:
            return self._posts.popleft()
        if self._coalesced:
            return self._coalesced.pop(next(iter(self._coalesced)))
        return None


class Outbox:
    def __init__(self, max_posts_per_channel: int) -> None:
        self._max_posts = max_posts_per_channel
        self._queues: dict[str, ChannelQueue] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self.jobs_failed = 0

    def _queue(self, channel: str) -> ChannelQueue:
        queue = self._queues.get(channel)
        if queue is None:
            queue = self._queues[channel] = ChannelQueue(self._max_posts)
        return queue

    def has_room(self, channel: str) -> bool:
        return self._queue(channel).has_room()

    def pending(self, channel: str) -> int:
        queue = self._queues.get(channel)
        return len(queue) if queue is not None else 0

    def post(self, channel: str, job: Job, *, force: bool = False) -> bool:
        accepted = self._queue(channel).post(job, force=force)
        if accepted:
            self._kick(channel)
        return accepted

    def coalesce(self, channel: str, key: str, job: Job, *, urgent: bool = False) -> None:
        self._queue(channel).coalesce(key, job, urgent=urgent)
        self._kick(channel)

    def _report_depth(self) -> None:
        telemetry.QUEUE_DEPTH.labels("triage_posts").set(sum(len(queue) for queue in self._queues.values()))

    def _kick(self, channel: str) -> None:
        self._report_depth()
        if channel not in self._workers:
            self._workers[channel] = asyncio.get_running_loop().create_task(self._run(channel))

    async def _run(self, channel: str) -> None:
        queue = self._queues[channel]
        try:
            while (job := queue.next()) is not None:
                self._report_depth()
                try:
                    await job()
                except Exception:
                    # One refused post (Slack error after its retries) must not stop the channel's queue.
                    self.jobs_failed += 1
                    log.exception("a triage post to %s failed", channel)
        finally:
            # No await between the empty queue and here: nothing can be queued without a worker.
            del self._workers[channel]
            if not len(queue):
                del self._queues[channel]

    async def drain(self) -> None:
        """Wait until every queue is empty and every worker idle (tests, the benchmark, shutdown)."""
        while self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._workers.values()):
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
