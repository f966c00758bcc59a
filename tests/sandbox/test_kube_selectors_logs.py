"""labelSelector / fieldSelector semantics and the pod log endpoint."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.rest import ApiException

from .conftest import KubeSandbox, deployment_manifest


@pytest.fixture
def fleet(kube: KubeSandbox) -> KubeSandbox:
    for name in ("web", "api", "worker"):
        manifest = deployment_manifest(name, replicas=1)
        manifest["spec"]["template"]["metadata"]["labels"]["tier"] = "backend" if name != "web" else "front"
        if name == "worker":
            manifest["spec"]["template"]["metadata"]["labels"]["canary"] = "true"
        kube.cluster.create(manifest)
    kube.cluster.reconcile()
    return kube


def apps_of(kube: KubeSandbox, selector: str) -> list[str]:
    pods = kube.core.list_namespaced_pod("default", label_selector=selector).items
    return sorted(p.metadata.labels["app"] for p in pods)


@pytest.mark.parametrize(("selector", "expected"), [
    ("app=web", ["web"]),
    ("app==api", ["api"]),
    ("app!=web", ["api", "worker"]),
    ("app in (web,api)", ["api", "web"]),
    ("app notin (web)", ["api", "worker"]),
    ("canary", ["worker"]),
    ("!canary", ["api", "web"]),
    ("app in (api, worker),!canary", ["api"]),
    ("tier=backend,app!=api", ["worker"]),
])
def test_label_selectors(fleet: KubeSandbox, selector: str, expected: list[str]) -> None:
    assert apps_of(fleet, selector) == expected


def test_bad_label_selector_is_400(fleet: KubeSandbox) -> None:
    with pytest.raises(ApiException) as raised:
        fleet.core.list_namespaced_pod("default", label_selector="app in web")
    assert raised.value.status == 400


def test_field_selectors(fleet: KubeSandbox) -> None:
    pod = fleet.core.list_namespaced_pod("default", label_selector="app=api").items[0]
    by_name = fleet.core.list_namespaced_pod("default", field_selector=f"metadata.name={pod.metadata.name}")
    assert [p.metadata.name for p in by_name.items] == [pod.metadata.name]
    assert len(fleet.core.list_namespaced_pod("default", field_selector="status.phase=Running").items) == 3
    assert fleet.core.list_namespaced_pod("default", field_selector="status.phase!=Running").items == []
    assert len(fleet.core.list_pod_for_all_namespaces(field_selector="metadata.namespace=default").items) == 3
    deployments = fleet.apps.list_namespaced_deployment("default", field_selector="metadata.name=web")
    assert [d.metadata.name for d in deployments.items] == ["web"]


def test_unsupported_field_selector_is_400(fleet: KubeSandbox) -> None:
    with pytest.raises(ApiException) as raised:
        fleet.core.list_namespaced_event("default", field_selector="lastTimestamp=2024-01-01")
    assert raised.value.status == 400 and "field label not supported" in raised.value.body


def test_describe_pod_event_selector(fleet: KubeSandbox) -> None:
    pod = fleet.core.list_namespaced_pod("default", label_selector="app=web").items[0]
    fleet.cluster.create({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{pod.metadata.name}.oom", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": pod.metadata.name, "namespace": "default",
                           "uid": pod.metadata.uid},
        "reason": "OOMKilling", "message": "Memory cgroup out of memory", "type": "Warning", "count": 3,
    })
    selector = (f"involvedObject.name={pod.metadata.name},involvedObject.namespace=default,"
                f"involvedObject.uid={pod.metadata.uid}")
    events = fleet.core.list_namespaced_event("default", field_selector=selector).items
    assert [e.reason for e in events] == ["OOMKilling"]
    kinds = {e.involved_object.kind for e in fleet.core.list_namespaced_event(
        "default", field_selector="involvedObject.kind=ReplicaSet").items}
    assert kinds == {"ReplicaSet"}


def test_list_limit_and_continue(fleet: KubeSandbox) -> None:
    first = fleet.core.list_namespaced_pod("default", limit=2)
    assert len(first.items) == 2 and first.metadata._continue
    rest = fleet.core.list_namespaced_pod("default", limit=2, _continue=first.metadata._continue)
    assert len(rest.items) == 1 and not rest.metadata._continue


@pytest.fixture
def logged(kube: KubeSandbox) -> tuple[KubeSandbox, str]:
    kube.cluster.create(deployment_manifest(replicas=1))
    kube.cluster.reconcile()
    pod = kube.cluster.list("Pod", "default", "app=web")[0]["metadata"]["name"]
    kube.cluster.set_logs("default", pod, "web", [f"line {i}" for i in range(1, 21)])
    return kube, pod


def test_logs_tail_and_timestamps(logged: tuple[KubeSandbox, str]) -> None:
    kube, pod = logged
    full = kube.core.read_namespaced_pod_log(pod, "default")
    assert full.splitlines() == [f"line {i}" for i in range(1, 21)]
    assert kube.core.read_namespaced_pod_log(pod, "default", container="web", tail_lines=3) == (
        "line 18\nline 19\nline 20\n")
    stamped = kube.core.read_namespaced_pod_log(pod, "default", tail_lines=1, timestamps=True)
    stamp, _, text = stamped.rstrip("\n").partition(" ")
    assert text == "line 20" and stamp.endswith("Z") and "T" in stamp
    kube.cluster.append_logs("default", pod, "web", ["fresh"])
    assert kube.core.read_namespaced_pod_log(pod, "default", since_seconds=1).endswith("fresh\n")
    assert kube.core.read_namespaced_pod_log(pod, "default", limit_bytes=7) == "line 1\n"
    request = kube.cluster.requests[-1]
    assert request.path.endswith(f"/pods/{pod}/log") and request.query == {"limitBytes": "7"}


def test_logs_previous(logged: tuple[KubeSandbox, str]) -> None:
    kube, pod = logged
    with pytest.raises(ApiException) as raised:
        kube.core.read_namespaced_pod_log(pod, "default", previous=True)
    assert raised.value.status == 400
    message = json.loads(raised.value.body)["message"]
    assert message == f'previous terminated container "web" in pod "{pod}" not found'
    kube.cluster.set_logs("default", pod, "web", ["java.lang.OutOfMemoryError: Java heap space"],
                          previous=True)
    assert kube.core.read_namespaced_pod_log(pod, "default", previous=True, container="web") == (
        "java.lang.OutOfMemoryError: Java heap space\n")


def test_logs_multi_container_pod_needs_a_container(kube: KubeSandbox) -> None:
    kube.cluster.create(deployment_manifest(replicas=1, containers=[
        {"name": "web", "image": "web:1"}, {"name": "envoy", "image": "envoy:1"}]))
    kube.cluster.reconcile()
    pod = kube.cluster.list("Pod", "default")[0]["metadata"]["name"]
    kube.cluster.set_logs("default", pod, "envoy", ["upstream connect error"])
    with pytest.raises(ApiException) as raised:
        kube.core.read_namespaced_pod_log(pod, "default")
    assert raised.value.status == 400
    assert json.loads(raised.value.body)["message"] == (
        f"a container name must be specified for pod {pod}, choose one of: [web envoy]")
    assert kube.core.read_namespaced_pod_log(pod, "default", container="envoy") == "upstream connect error\n"
    with pytest.raises(ApiException) as raised:
        kube.core.read_namespaced_pod_log(pod, "default", container="nope")
    assert raised.value.status == 400


def test_logs_of_missing_pod_are_404(kube: KubeSandbox) -> None:
    with pytest.raises(ApiException) as raised:
        kube.core.read_namespaced_pod_log("ghost", "default")
    assert raised.value.status == 404
