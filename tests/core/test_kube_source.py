"""The Kubernetes source's reads against the sandbox API server over real HTTP."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import load_ops_config
from bot.model import Target
from bot.sandbox.runner import Sandbox
from bot.sources.errors import SourceError
from bot.sources.kube import KubeSource, build_api_client


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[tuple[KubeSource, Sandbox]]:
    with Sandbox("bad-deploy") as sandbox:
        source = KubeSource(build_api_client(str(sandbox.write_kubeconfig(tmp_path / "kubeconfig"))))
        try:
            yield source, sandbox
        finally:
            source.close()


AUTH = load_ops_config(None).target("auth-service")


async def test_pod_specs_carry_limits_and_probes(kube: tuple[KubeSource, Sandbox]) -> None:
    source, _ = kube
    pods = await source.pods(AUTH)
    spec = pods[0].spec("auth-service")
    assert spec is not None
    assert (spec.cpu_limit, spec.memory_limit, spec.memory_request) == (1.0, 512 * 2**20, 256 * 2**20)
    assert {p.kind for p in spec.probes} == {"liveness", "readiness"}
    liveness = next(p for p in spec.probes if p.kind == "liveness")
    assert liveness.handler == "GET /health :8080" and liveness.initial_delay_s == 10
    assert spec.env["LOG_LEVEL"] == "INFO"
    assert pods[0].started is not None and pods[0].containers[0].started_at is not None


async def test_usage_hpa_and_endpoints(kube: tuple[KubeSource, Sandbox]) -> None:
    source, _ = kube
    usage = await source.pod_usage(AUTH.namespace, AUTH.selector)
    assert len(usage) == 3 and all(0.1 < u.cpu < 1.0 and u.memory > 200 * 2**20 for u in usage)
    hpa = await source.hpa(AUTH)
    assert hpa is not None and (hpa.min_replicas, hpa.max_replicas, hpa.target_cpu_utilization) == (2, 10, 70)
    endpoints = await source.service_endpoints("default", "auth-service")
    assert endpoints.exists and endpoints.selector == {"app": "auth-service"} and len(endpoints.ready) == 3
    missing = await source.service_endpoints("default", "no-such-service")
    assert not missing.exists and missing.ready == ()


async def test_events_belong_to_the_service_and_come_newest_first(kube: tuple[KubeSource, Sandbox]) -> None:
    source, _ = kube
    events = await source.events(AUTH)
    assert events and all(e.name.startswith("auth-service") for e in events)
    stamps = [e.last_seen for e in events if e.last_seen is not None]
    assert stamps == sorted(stamps, reverse=True)


def _deployment(name: str) -> dict[str, object]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default",
                                                                    "labels": labels},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": name, "image": f"registry.example.com/{name}:1.0"}]}}},
    }


def _pod_event(sandbox: Sandbox, pod: str, uid: str) -> None:
    sandbox.cluster.create({
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": f"{pod}.gone", "namespace": "default"},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": pod, "namespace": "default", "uid": uid},
        "reason": "OOMKilling", "message": "Memory cgroup out of memory", "type": "Warning", "count": 1,
        "firstTimestamp": "2026-11-28T11:00:00Z", "lastTimestamp": "2026-11-28T11:00:00Z",
    })


async def test_events_follow_ownership_not_a_name_prefix(kube: tuple[KubeSource, Sandbox]) -> None:
    """`api` next to `api-gateway`: neither gets the other's events, though one name starts the other."""
    source, sandbox = kube
    # Created as an operator would (not through the bot's client: the bot never creates deployments).
    sandbox.cluster.create(_deployment("api"))
    sandbox.cluster.reconcile()
    (api_rs,) = [rs["metadata"]["name"] for rs in sandbox.cluster.list("ReplicaSet", "default", "app=api")]
    _pod_event(sandbox, f"{api_rs}-gone1", "uid-of-a-replaced-pod")  # its pod was replaced: known by name only
    gateway_pod = sandbox.cluster.list("Pod", "default", "app=api-gateway")[0]["metadata"]
    _pod_event(sandbox, gateway_pod["name"], gateway_pod["uid"])

    api = await source.events(Target("api", "default", "app=api", "api"))
    gateway = await source.events(Target("api-gateway", "default", "app=api-gateway", "api-gateway"))
    api_names = {e.name for e in api}
    assert {"api", api_rs, f"{api_rs}-gone1"} <= api_names
    assert not any(name.startswith("api-gateway") for name in api_names)
    assert gateway_pod["name"] in {e.name for e in gateway}
    assert not api_names & {e.name for e in gateway}


async def test_timestamped_logs_split_the_runtime_stamp_from_the_line(kube: tuple[KubeSource, Sandbox]) -> None:
    source, _ = kube
    pod = (await source.pods(AUTH))[0]
    plain = await source.pod_log("default", pod.name, "auth-service", 5)
    stamped = await source.pod_log("default", pod.name, "auth-service", 5, timestamps=True)
    assert [line.text for line in stamped] == [line.text for line in plain]
    assert all(line.ts is not None and line.ts.tzinfo is not None for line in stamped)


async def test_a_missing_deployment_is_a_source_error_naming_it(kube: tuple[KubeSource, Sandbox]) -> None:
    source, _ = kube
    with pytest.raises(SourceError) as raised:
        await source.deployment(Target("ghost", "default", "app=ghost", "ghost"))
    assert raised.value.status == 404 and "ghost" in str(raised.value)
