"""The sandbox models a leak: metrics.k8s.io memory = base + growth x running time, capped at the limit."""

import asyncio
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
import yaml

from bot.model import Target
from bot.sandbox.kube import clock
from bot.sandbox.kube.metrics import MemoryGrowth, PodMetricsStore
from bot.sandbox.scenario import ScenarioError, parse_scenario
from bot.sources.kube import KubeSource, build_api_client
from bot.sources.records import PodUsage
from tests.perf.platform import sandbox

MIB = 1024**2
BUSINESS_LOGIC = Target("business-logic", "default", "app=business-logic", "business-logic")


async def _two_samples(scenario: str, tmp_path: Path) -> tuple[list[PodUsage], list[PodUsage]]:
    async with sandbox(scenario) as running:
        kube = KubeSource(build_api_client(str(running.write_kubeconfig(tmp_path / "kubeconfig"))))
        try:
            first = await kube.pod_usage("default", BUSINESS_LOGIC.selector)
            await asyncio.sleep(1.1)  # metrics timestamps have whole seconds: make sure a new one starts
            second = await kube.pod_usage("default", BUSINESS_LOGIC.selector)
        finally:
            kube.close()
    return first, second


async def test_samples_seconds_apart_grow_for_the_leaking_service(tmp_path: Path) -> None:
    first, second = await _two_samples("memory-leak", tmp_path)
    assert len(first) == 4
    before = {u.pod: u for u in first}
    for after in second:
        earlier = before[after.pod]
        assert earlier.timestamp is not None and after.timestamp is not None and after.timestamp > earlier.timestamp
        assert after.memory > earlier.memory
        per_hour = (after.memory - earlier.memory) / (after.timestamp - earlier.timestamp).total_seconds() * 3600
        assert abs(per_hour - 300 * MIB) < 5 * MIB


async def test_samples_of_a_healthy_service_do_not_grow(tmp_path: Path) -> None:
    first, second = await _two_samples("healthy", tmp_path)
    assert len(first) == 3
    assert {u.pod: u.memory for u in first} == {u.pod: u.memory for u in second}


def _pod(started: datetime) -> dict[str, object]:
    running = {"name": "app", "state": {"running": {"startedAt": clock.rfc3339(started)}}}
    return {"metadata": {"name": "bl-0", "namespace": "default"},
            "status": {"startTime": clock.rfc3339(started - timedelta(hours=9)), "containerStatuses": [running]}}


def _memory(store: PodMetricsStore, started: datetime) -> str:
    metrics = store.for_pod(_pod(started))
    assert metrics is not None
    return str(metrics["containers"][0]["usage"]["memory"])


def test_growth_counts_from_the_running_container_and_stops_at_the_limit() -> None:
    store = PodMetricsStore()
    store.set("default", "bl-0", {"app": {"cpu": "400m", "memory": "600Mi"}},
              {"app": MemoryGrowth(300 * MIB, cap_bytes=2048 * MIB)})
    now = datetime.now(UTC)
    # Restarted two hours ago (the pod itself is 11 h old): the new process started over from 600Mi.
    assert int(_memory(store, now - timedelta(hours=2)).removesuffix("Ki")) // 1024 in range(1199, 1202)
    # Running for 9 h it would be at 3300Mi; the OOM killer keeps it at the limit.
    assert _memory(store, now - timedelta(hours=9)) == f"{2048 * 1024}Ki"


def test_without_growth_usage_is_served_as_stored() -> None:
    store = PodMetricsStore()
    store.set("default", "bl-0", {"app": {"cpu": "400m", "memory": "600Mi"}})
    assert _memory(store, datetime.now(UTC) - timedelta(hours=9)) == "600Mi"


def test_scenario_growth_must_be_a_binary_quantity() -> None:
    data = yaml.safe_load(resources.files("bot.sandbox").joinpath("scenarios/memory-leak.yaml").read_text())
    data["profiles"]["business-logic-4.1-leak"]["usage"]["memory_growth_per_hour"] = "300MB"
    with pytest.raises(ScenarioError, match=r"profiles\.business-logic-4\.1-leak\.usage\.memory_growth_per_hour"):
        parse_scenario(data)


async def test_pod_ages_and_restarts_follow_the_story(tmp_path: Path) -> None:
    async with sandbox("memory-leak") as running:
        kube = KubeSource(build_api_client(str(running.write_kubeconfig(tmp_path / "kubeconfig"))))
        try:
            pods = await kube.pods(BUSINESS_LOGIC)
        finally:
            kube.close()
    now = datetime.now(UTC)
    hours = sorted(round((now - p.created).total_seconds() / 3600, 1) for p in pods if p.created)
    assert hours == [1.8, 4.3, 4.3, 4.3]  # three from the rollout, one added by the HPA later
    (restarted,) = [p for p in pods if p.restarts]
    container = restarted.containers[0]
    assert container.last_terminated_reason == "OOMKilled" and container.last_exit_code == 137
    assert container.started_at is not None and 24 <= (now - container.started_at).total_seconds() / 60 <= 26


async def test_a_replaced_pod_starts_from_a_fresh_heap(tmp_path: Path) -> None:
    async with sandbox("memory-leak") as running:
        kube = KubeSource(build_api_client(str(running.write_kubeconfig(tmp_path / "kubeconfig"))))
        try:
            before = await kube.pod_usage("default", BUSINESS_LOGIC.selector)
            worst = max(before, key=lambda u: u.memory)
            running.cluster.delete("Pod", "default", worst.pod)
            running.cluster.reconcile()  # the ReplicaSet replaces it, as `kubectl delete pod` would cause
            after = await kube.pod_usage("default", BUSINESS_LOGIC.selector)
        finally:
            kube.close()
    assert len(after) == 4 and worst.pod not in {u.pod for u in after}
    (fresh,) = [u for u in after if u.pod not in {b.pod for b in before}]
    assert fresh.memory < 700 * MIB < worst.memory
