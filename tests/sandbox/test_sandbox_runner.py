"""The whole sandbox over real HTTP: the official kubernetes client against the fake apiserver, the
metrics API with httpx, and a rollback performed the way kubectl does it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from kubernetes import client, config

from bot.sandbox.runner import Sandbox

REVISION = "deployment.kubernetes.io/revision"
# What `kubectl rollout undo` keeps from the deployment; everything else comes from the ReplicaSet.
KEPT_ANNOTATIONS = {REVISION, "deployment.kubernetes.io/revision-history",
                    "deployment.kubernetes.io/desired-replicas", "deployment.kubernetes.io/max-replicas",
                    "kubectl.kubernetes.io/last-applied-configuration", "deprecated.deployment.rollback.to"}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox("bad-deploy") as running:
        running.write_kubeconfig(tmp_path / "kubeconfig")
        yield running


@pytest.fixture
def api(sandbox: Sandbox, tmp_path: Path) -> client.ApiClient:
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(tmp_path / "kubeconfig"), client_configuration=configuration)
    return client.ApiClient(configuration)


def owned_replicasets(apps: client.AppsV1Api, name: str) -> list[Any]:
    """kubectl's history: RSs matching the selector and controlled by the deployment's uid."""
    deployment = apps.read_namespaced_deployment(name, "default")
    selector = ",".join(f"{k}={v}" for k, v in deployment.spec.selector.match_labels.items())
    replicasets = apps.list_namespaced_replica_set("default", label_selector=selector).items
    return [rs for rs in replicasets
            if any(ref.controller and ref.uid == deployment.metadata.uid
                   for ref in rs.metadata.owner_references)]


def rollout_undo(api: client.ApiClient, name: str) -> None:
    """`kubectl rollout undo deployment/NAME`: JSON patch the previous revision's template back in."""
    apps = client.AppsV1Api(api)
    deployment = apps.read_namespaced_deployment(name, "default")
    history = sorted(owned_replicasets(apps, name), key=lambda rs: int(rs.metadata.annotations[REVISION]))
    previous = history[-2]
    template = api.sanitize_for_serialization(previous.spec.template)
    template["metadata"]["labels"].pop("pod-template-hash", None)
    annotations = {k: v for k, v in (deployment.metadata.annotations or {}).items() if k in KEPT_ANNOTATIONS}
    annotations.update({k: v for k, v in (previous.metadata.annotations or {}).items()
                        if k not in KEPT_ANNOTATIONS})
    apps.patch_namespaced_deployment(name, "default", [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ])


def error_rate(sandbox: Sandbox, service: str) -> float:
    response = httpx.get(f"{sandbox.metrics_url}/metrics/errors", params={"service": service, "period": "1h"})
    response.raise_for_status()
    rate: float = response.json()["error_rate"]
    return rate


def test_kubeconfig_and_env_lines(sandbox: Sandbox, tmp_path: Path) -> None:
    written = yaml.safe_load((tmp_path / "kubeconfig").read_text())
    assert written["clusters"][0]["cluster"]["server"] == sandbox.kube_url
    assert written["current-context"] == written["contexts"][0]["name"]
    assert sandbox.env_lines() == [f"KUBECONFIG={tmp_path / 'kubeconfig'}",
                                   f"METRICS_API_URL={sandbox.metrics_url}", "K8S_NAMESPACE=default"]


def test_pods_logs_and_history_over_the_wire(api: client.ApiClient) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    pods = core.list_namespaced_pod("default", label_selector="app=auth-service").items
    assert len(pods) == 3
    assert {p.spec.containers[0].image for p in pods} == {"registry.example.com/auth-service:2.5.0"}
    log = core.read_namespaced_pod_log(pods[0].metadata.name, "default", tail_lines=1000)
    lines = log.splitlines()
    assert len(lines) == 1000
    assert "Traceback (most recent call last):" in lines
    assert any(" ERROR [auth-service] request_id=req-" in line and " 500 Unhandled exception" in line
               for line in lines)
    assert any("401 Invalid JWT token" in line for line in lines)

    history = {int(rs.metadata.annotations[REVISION]): rs for rs in owned_replicasets(apps, "auth-service")}
    assert {6, 7} <= set(history)
    assert history[7].spec.template.spec.containers[0].image.endswith("auth-service:2.5.0")
    assert history[6].spec.template.spec.containers[0].image.endswith("auth-service:2.4.1")
    assert history[7].metadata.annotations["kubernetes.io/change-cause"].startswith("deploy 2.5.0")
    assert history[6].spec.replicas == 0
    hpa = client.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler("auth-service", "default")
    assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == (2, 10)


def test_rollback_restores_the_old_behaviour(sandbox: Sandbox, api: client.ApiClient) -> None:
    assert 0.10 <= error_rate(sandbox, "auth-service") <= 0.15
    for healthy in ("api-gateway", "data-processor", "business-logic"):
        assert 0.002 <= error_rate(sandbox, healthy) <= 0.01

    rollout_undo(api, "auth-service")

    core = client.CoreV1Api(api)
    pods = core.list_namespaced_pod("default", label_selector="app=auth-service").items
    assert {p.spec.containers[0].image for p in pods} == {"registry.example.com/auth-service:2.4.1"}
    log = core.read_namespaced_pod_log(pods[0].metadata.name, "default", tail_lines=1000)
    assert "Starting auth-service version 2.4.1" in log
    assert "KeyError: 'kid'" not in log
    assert 0.002 <= error_rate(sandbox, "auth-service") <= 0.008
    health = httpx.get(f"{sandbox.metrics_url}/health", params={"service": "auth-service"}).json()
    assert health["version"] == "2.4.1"
    deployment = client.AppsV1Api(api).read_namespaced_deployment("auth-service", "default")
    assert deployment.metadata.annotations[REVISION] == "8"  # undo renumbers: 6 became 8


def test_pods_created_later_get_logs_and_metrics(sandbox: Sandbox, api: client.ApiClient) -> None:
    apps = client.AppsV1Api(api)
    apps.patch_namespaced_deployment_scale("business-logic", "default", {"spec": {"replicas": 5}})
    pods = client.CoreV1Api(api).list_namespaced_pod("default", label_selector="app=business-logic").items
    assert len(pods) == 5
    metrics = client.CustomObjectsApi(api).list_namespaced_custom_object(
        "metrics.k8s.io", "v1beta1", "default", "pods", label_selector="app=business-logic")
    assert len(metrics["items"]) == 5
    for pod in pods:
        log = client.CoreV1Api(api).read_namespaced_pod_log(pod.metadata.name, "default", tail_lines=10)
        assert "[business-logic]" in log


def test_command_runs_until_sigterm(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kc.yaml"
    code = ("from bot.sandbox.command import run_sandbox; "
            f"raise SystemExit(run_sandbox('healthy', 0, 0, {str(kubeconfig)!r}, 'sandbox-key'))")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                               cwd=Path(__file__).parents[2], env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    output = []
    for line in process.stdout:
        output.append(line)
        if line.strip().startswith("K8S_NAMESPACE="):
            break
    text = "".join(output)
    assert f"KUBECONFIG={kubeconfig}" in text
    assert "METRICS_API_KEY=sandbox-key" in text
    metrics_url = next(line.split("=", 1)[1].strip() for line in output if "METRICS_API_URL=" in line)
    health = httpx.get(f"{metrics_url}/health", params={"service": "auth-service"},
                       headers={"X-API-Key": "sandbox-key"})
    assert health.json()["version"] == "2.4.1"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0


def test_command_rejects_unknown_scenario() -> None:
    code = ("from bot.sandbox.command import run_sandbox; "
            "raise SystemExit(run_sandbox('nope', 0, 0, None, None))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                            cwd=Path(__file__).parents[2], check=False)
    assert result.returncode == 2
    assert "bad-deploy" in result.stderr and "healthy" in result.stderr
