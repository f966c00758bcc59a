"""Leases with optimistic locking, and many client threads patching at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from bot.sandbox.kube import FakeCluster, RecordedRequest, build_kube_app
from bot.sandbox.serving import BackgroundServer

from .conftest import KubeSandbox


def test_lease_create_update_and_conflict(kube: KubeSandbox) -> None:
    leases = kube.coordination
    now = datetime.now(UTC)
    body = client.V1Lease(metadata=client.V1ObjectMeta(name="opsbot-leader"),
                          spec=client.V1LeaseSpec(holder_identity="replica-a", lease_duration_seconds=15,
                                                  acquire_time=now, renew_time=now))
    created = leases.create_namespaced_lease("default", body)
    assert isinstance(created, client.V1Lease) and created.spec.holder_identity == "replica-a"
    with pytest.raises(ApiException) as raised:
        leases.create_namespaced_lease("default", body)
    assert raised.value.status == 409

    # Two replicas read the same version; the first to write wins, the second gets a Conflict.
    seen_by_a = leases.read_namespaced_lease("opsbot-leader", "default")
    seen_by_b = leases.read_namespaced_lease("opsbot-leader", "default")
    seen_by_a.spec.renew_time = datetime.now(UTC)
    renewed = leases.replace_namespaced_lease("opsbot-leader", "default", seen_by_a)
    assert int(renewed.metadata.resource_version) > int(created.metadata.resource_version)
    seen_by_b.spec.holder_identity = "replica-b"
    with pytest.raises(ApiException) as raised:
        leases.replace_namespaced_lease("opsbot-leader", "default", seen_by_b)
    assert raised.value.status == 409
    assert leases.read_namespaced_lease("opsbot-leader", "default").spec.holder_identity == "replica-a"
    assert [item.metadata.name for item in leases.list_namespaced_lease("default").items] == ["opsbot-leader"]
    leases.delete_namespaced_lease("opsbot-leader", "default")
    assert leases.list_namespaced_lease("default").items == []


def test_concurrent_patches_from_many_threads() -> None:
    cluster = FakeCluster(seed=3)
    cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "counters"}, "data": {}})
    threads_count, writes = 8, 10
    with BackgroundServer(build_kube_app(cluster)) as server:
        errors: list[BaseException] = []

        def writer(index: int) -> None:
            api = client.ApiClient(client.Configuration(host=server.url))
            try:
                core = client.CoreV1Api(api)
                for n in range(writes):
                    core.patch_namespaced_config_map("counters", "default",
                                                     {"data": {f"t{index}-{n}": str(n)}})
                    if n % 3 == 0:
                        cluster.append_logs("default", "none", "none", ["x"])  # direct calls interleave too
            except BaseException as exc:
                errors.append(exc)
            finally:
                api.close()

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        stored = cluster.get("ConfigMap", "default", "counters")
        assert stored is not None and len(stored["data"]) == threads_count * writes
        patches = [r for r in cluster.requests if r.method == "PATCH"]
        assert len(patches) == threads_count * writes and all(r.status == 200 for r in patches)
        versions = {int(stored["metadata"]["resourceVersion"])}
        assert versions == {int(cluster.resource_version)}


def test_request_log_is_bounded() -> None:
    cluster = FakeCluster()
    with BackgroundServer(build_kube_app(cluster)) as server:
        api = client.ApiClient(client.Configuration(host=server.url))
        for _ in range(10_005):
            cluster.record(RecordedRequest("GET", "/x"))
        client.VersionApi(api).get_code()
        api.close()
    assert len(cluster.requests) == 10_000 and cluster.requests[-1].path.rstrip("/") == "/version"


def test_server_restarts_on_a_fixed_port() -> None:
    first = BackgroundServer(build_kube_app(FakeCluster()))
    url = first.start()
    port = first.port
    first.stop()
    second = BackgroundServer(build_kube_app(FakeCluster()), port=port)
    assert second.start() == url
    second.stop()
    second.stop()  # idempotent
