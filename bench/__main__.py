"""Ack latency of signed slash commands and time to the first threaded finding, against `opsbot run`
in HTTP mode with the sandbox platform and the fake Slack Web API (all on loopback)."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench import bundle, parallelism, triage
from bot.sandbox.runner import Sandbox
from tests.e2e.botproc import BotProcess
from tests.fakes.signing import SIGNING_SECRET, post_signed, sign, slash_command_body
from tests.fakes.slack_api import FakeSlack

COMMANDS = 200
CONCURRENCY = 20
FIRST_FINDING_RUNS = 10


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def ack_latencies(bot: BotProcess) -> tuple[list[float], int]:
    gate = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []
    failures = 0

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal failures
        async with gate:
            body = slash_command_body("auth-service errors")
            headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SIGNING_SECRET, body)}
            started = time.perf_counter()
            # One shared client: a new httpx client per request would spend the time building TLS contexts.
            response = await client.post(bot.events_url, content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            failures += response.status_code != 200

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(one(client) for _ in range(COMMANDS)))
    return latencies, failures


def wait_until_quiet(fake: FakeSlack, method: str, quiet_s: float = 2.0, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        count = len(fake.calls(method))
        if count == last:
            return
        last = count
        time.sleep(quiet_s)


def first_finding_times(bot: BotProcess, fake: FakeSlack) -> list[float]:
    times = []
    for _ in range(FIRST_FINDING_RUNS):
        fake.reset()
        started = time.time()
        body = slash_command_body("auth-service errors")
        post_signed(bot.events_url, SIGNING_SECRET, body)
        call = fake.wait_for("chat.postMessage", lambda c: "thread_ts" in c.params, timeout=60)[0]
        times.append(call.received_at - started)
        fake.wait_for("chat.update", timeout=60)
    return times


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, Sandbox("bad-deploy") as sandbox, FakeSlack() as fake:
        kubeconfig = sandbox.write_kubeconfig(Path(tmp) / "kubeconfig")
        env = {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "KUBECONFIG": str(kubeconfig),
            "METRICS_API_URL": sandbox.metrics_url,
            "LOG_LEVEL": "WARNING",
        }
        with BotProcess(env) as bot:
            first = first_finding_times(bot, fake)
            wait_until_quiet(fake, "chat.update")
            fake.reset()
            started = time.perf_counter()
            latencies, failures = asyncio.run(ack_latencies(bot))
            wall = time.perf_counter() - started
            wait_until_quiet(fake, "chat.postMessage")
            roots = len([c for c in fake.calls("chat.postMessage") if "thread_ts" not in c.params])
    ms = [v * 1000 for v in latencies]
    print("opsbot bench (HTTP mode, sandbox platform, fake Slack; all on loopback)")
    print(f"  ack latency, {COMMANDS} signed /diagnose at concurrency {CONCURRENCY}: "
          f"p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms, "
          f"non-200 {failures}, {COMMANDS / wall:.0f} commands/s")
    print(f"  root messages posted for those commands: {roots} of {COMMANDS} "
          "(concurrent identical diagnoses share one run; every command still gets its own thread)")
    print(f"  command -> first threaded finding, idle bot, {FIRST_FINDING_RUNS} runs: "
          f"median {statistics.median(first) * 1000:.0f} ms, min {min(first) * 1000:.0f} ms, "
          f"max {max(first) * 1000:.0f} ms")
    print("\n".join(parallelism.report()))
    print("\n".join(triage.report()))
    print("\n".join(bundle.report()))


if __name__ == "__main__":
    main()
