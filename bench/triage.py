"""Triage figures: parser throughput over the corpus, and a 1,000-alert storm through the handler's desk
(paced Slack client -> the fake Slack Web API over HTTP, diagnoses against the in-process sandbox)."""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import yaml

from bot.app import build_client
from bot.config import Settings, load_ops_config
from bot.sandbox.runner import Sandbox
from bot.triage import triage_event
from bot.triage.desk import Who
from bot.wiring import build_deps
from handlers.alerts import build_desk
from tests.fakes.slack_api import FakeSlack

CORPUS = Path(__file__).parents[1] / "tests" / "triage" / "corpus.yaml"
PARSER_PASSES = 50
STORM_ALERTS = 1000
STORM_SPREAD_S = 20.0  # the alerts arrive evenly over this long (a storm: 50 per second)
CHANNEL = "C0STORM01"
SERVICES = ("auth-service", "api-gateway", "data-processor", "business-logic")
ALERTS = ("HighErrorRate", "HighLatency", "KubePodCrashLooping", "HighCPU", "ReplicationLag", "HighMemory")


def parser_throughput() -> tuple[int, float]:
    corpus: dict[str, list[dict[str, Any]]] = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    events = [case["event"] for cases in corpus.values() for case in cases]
    config = load_ops_config(None)
    started = time.perf_counter()
    for _ in range(PARSER_PASSES):
        for event in events:
            triage_event(event, config)
    return len(events), len(events) * PARSER_PASSES / (time.perf_counter() - started)


def storm_events() -> list[dict[str, Any]]:
    events = []
    for n in range(STORM_ALERTS):
        ts = f"{1719500000 + n}.{n:06d}"
        title = f"[FIRING:1] {ALERTS[n // 4 % len(ALERTS)]} {SERVICES[n % 4]} (production critical)"
        events.append({"type": "message", "subtype": "bot_message", "bot_id": "B0ALRTMGR", "username": "AlertManager",
                       "channel": CHANNEL, "ts": ts, "event_ts": ts, "text": "",
                       "attachments": [{"color": "danger", "title": title, "text": ""}]})
    return events


def accounted(fake: FakeSlack) -> int:
    messages = fake.messages(CHANNEL)
    threads = {m["thread_ts"] for m in messages if "I read this as" in m.get("text", "")}
    total = 0
    for thread in threads:
        counts = [int(x) for m in messages if m.get("thread_ts") == thread
                  for x in re.findall(r"Fired (\d+) times", m.get("text", ""))]
        total += max(counts, default=1)
    summary = [int(x) for m in messages if "thread_ts" not in m for x in re.findall(r"\*(\d+) alerts\*", m["text"])]
    return total + max(summary, default=0)


def peak_in_window(times: list[float], window_s: float) -> int:
    ordered = sorted(times)
    return max((sum(1 for t in ordered[i:] if t < start + window_s) for i, start in enumerate(ordered)), default=0)


async def storm(fake: FakeSlack, sandbox: Sandbox, kubeconfig: Path) -> dict[str, float]:
    settings = Settings(_env_file=None, kubeconfig=str(kubeconfig), metrics_api_url=sandbox.metrics_url,
                        redis_url=None, database_url=None, opsbot_config=None, slack_bot_token="xoxb-bench",  # noqa: S106 (the fake Slack)
                        slack_api_url=fake.api_url)
    deps = build_deps(settings, load_ops_config(None))
    desk = build_desk(build_client(settings), deps, None)
    who = Who(bot_ids=frozenset({"B0CHATBOT"}), bot_user="U0CHATBOT")
    events = storm_events()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        for n, event in enumerate(events):
            await desk.handle(event, who)
            # Arrive on schedule, and let the posting worker run in between as it would between requests.
            await asyncio.sleep(max(0.0, started + n * STORM_SPREAD_S / STORM_ALERTS - time.perf_counter()))
        handled_in = time.perf_counter() - started
        await desk.settle()
        drained_in = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await desk.aclose()
        await deps.aclose()
    calls = [c for c in fake.calls() if c.method in {"chat.postMessage", "chat.update"}]
    return {"handled_s": handled_in, "drained_s": drained_in, "calls": len(calls),
            "posts": sum(c.method == "chat.postMessage" for c in calls),
            "peak_1s": peak_in_window([c.received_at for c in calls], 1.0),
            "peak_10s": peak_in_window([c.received_at for c in calls], 10.0),
            "accounted": accounted(fake), "peak_mib": peak / 2**20}


def report() -> list[str]:
    count, rate = parser_throughput()
    with tempfile.TemporaryDirectory() as tmp, Sandbox("bad-deploy") as sandbox, FakeSlack() as fake:
        kubeconfig = sandbox.write_kubeconfig(Path(tmp) / "kubeconfig")
        figures = asyncio.run(storm(fake, sandbox, kubeconfig))
    return [
        f"  triage parser: {rate:,.0f} messages/s ({count} corpus messages x {PARSER_PASSES} passes)",
        f"  storm, {STORM_ALERTS} alerts (24 distinct, default limits) through the desk: handled in "
        f"{figures['handled_s']:.1f} s, Slack calls {figures['calls']:.0f} ({figures['posts']:.0f} posts, "
        f"rest chat.update), peak calls in the channel: {figures['peak_1s']:.0f} in any 1 s (arrival jitter "
        f"around 1.0 s slots), {figures['peak_10s']:.0f} in any 10 s, "
        f"alerts accounted for {figures['accounted']:.0f}/{STORM_ALERTS}, all posted after "
        f"{figures['drained_s']:.0f} s, peak traced memory {figures['peak_mib']:.1f} MiB",
    ]


if __name__ == "__main__":
    print("\n".join(report()))
