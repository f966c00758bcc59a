"""Fixtures for the simulated Kubernetes API: a FakeCluster served over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes import client

from bot.sandbox.kube import FakeCluster, build_kube_app
from bot.sandbox.serving import BackgroundServer


@dataclass
class KubeSandbox:
    cluster: FakeCluster
    url: str
    api: client.ApiClient

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def autoscaling(self) -> client.AutoscalingV2Api:
        return client.AutoscalingV2Api(self.api)

    @property
    def coordination(self) -> client.CoordinationV1Api:
        return client.CoordinationV1Api(self.api)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)


def deployment_manifest(name: str = "web", *, replicas: int = 2, image: str = "registry.local/web:1.0",
                        containers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": containers or [
                    {"name": name, "image": image, "ports": [{"containerPort": 8080}],
                     "env": [{"name": "MODE", "value": "prod"}],
                     "resources": {"limits": {"memory": "512Mi", "cpu": "500m"}}},
                ]},
            },
        },
    }


@pytest.fixture
def kube() -> Iterator[KubeSandbox]:
    cluster = FakeCluster(seed=7)
    server = BackgroundServer(build_kube_app(cluster))
    url = server.start()
    api = client.ApiClient(client.Configuration(host=url))
    try:
        yield KubeSandbox(cluster, url, api)
    finally:
        api.close()
        server.stop()


@pytest.fixture
def web(kube: KubeSandbox) -> KubeSandbox:
    """The sandbox with deployment `web` (2 replicas) created and reconciled."""
    kube.cluster.create(deployment_manifest())
    kube.cluster.reconcile()
    return kube
