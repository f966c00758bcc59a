"""Support bundle figures: processing 200,000 log lines across pods (redact, group errors and stack traces,
trace request IDs, cap the size, render and pack) and the peak memory it takes (tracemalloc).

The lines are the sandbox's own: the bad deploy's auth-service 2.5.0 profile (12.5 % errors with stack
traces) with the planted credentials, spread over ten pods. Collection (HTTP) is not timed: this is the work
the bot does once the lines are in.
"""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from bot.bundle import BundleRequest, process
from bot.bundle.collect import Collected, ContainerLog
from bot.model import Target
from bot.sandbox.logs import PodIdentity, RequestIds, generate_pod_log
from bot.sandbox.scenario import load_scenario
from bot.sources.records import LogLine

LINES = 200_000
PODS = 10
MAX_BYTES = 5_000_000
RUNS = 5


def sandbox_logs(total: int = LINES, pods: int = PODS) -> list[ContainerLog]:
    profile = load_scenario("bad-deploy").profiles["auth-2.5.0"]
    # Request lines per pod, such that with stack traces the pods log a little more than needed; trimmed below.
    logs = profile.logs.model_copy(update={"entries": total * 10 // (pods * 11), "coverage": "1h",
                                           "plant_secrets": True})
    profile = profile.model_copy(update={"logs": logs})
    now = datetime.now(UTC)
    ids = RequestIds()
    out = []
    for n in range(pods):
        pod = f"auth-service-7d9c6b5f4-{n:05d}"
        who = PodIdentity("auth-service", "2.5.0", pod, "registry.example.com/auth-service:2.5.0")
        log = generate_pod_log(who, profile, created=now - timedelta(hours=2), now=now, ids=ids)
        lines = [LogLine(pod, "auth-service", text, ts=at) for text, at in zip(log.lines, log.times, strict=True)]
        lines = lines[:20] + lines[20 - total // pods :]  # start-up (planted secrets) + the newest: `total` in all
        out.append(ContainerLog(pod, "auth-service", False, lines))
    return out


def run_once(logs: list[ContainerLog]) -> tuple[float, int, int]:
    until = max(entry.lines[-1].ts for entry in logs if entry.lines and entry.lines[-1].ts)
    collected = Collected(target=Target("auth-service", "default", "app=auth-service", "auth-service"),
                          since=until - timedelta(hours=1), until=until, logs=logs)
    request = BundleRequest("auth-service", "bench", timedelta(hours=1))
    tracemalloc.start()
    started = time.perf_counter()
    bundle = process(collected, request, MAX_BYTES)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak, len(bundle.archive)


def timed_without_tracing(logs: list[ContainerLog]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one run. On a shared machine the wall clock also counts the time other
    processes held the CPU; the process's CPU time does not, so the two together tell load from slowness."""
    until = max(entry.lines[-1].ts for entry in logs if entry.lines and entry.lines[-1].ts)
    collected = Collected(target=Target("auth-service", "default", "app=auth-service", "auth-service"),
                          since=until - timedelta(hours=1), until=until, logs=logs)
    started, cpu = time.perf_counter(), time.process_time()
    process(collected, BundleRequest("auth-service", "bench", timedelta(hours=1)), MAX_BYTES)
    return time.perf_counter() - started, time.process_time() - cpu


def report() -> list[str]:
    logs = sandbox_logs()
    lines = sum(len(e.lines) for e in logs)
    runs = [timed_without_tracing(logs) for _ in range(RUNS)]
    times, cpu = sorted(wall for wall, _ in runs), sorted(used for _, used in runs)
    _, peak, archive = run_once(logs)
    return [
        f"  support bundle from {lines:,} log lines across {len(logs)} pods (redact, group, trace, cap at "
        f"{MAX_BYTES / 1e6:g} MB, pack): median {times[len(times) // 2]:.2f} s, best {times[0]:.2f} s of {RUNS} "
        f"(goal < 1 s; CPU median {cpu[len(cpu) // 2]:.2f} s, best {cpu[0]:.2f} s); "
        f"peak traced memory {peak / 2**20:.0f} MiB; archive {archive / 1024:.0f} KiB",
    ]


if __name__ == "__main__":
    print("\n".join(report()))
