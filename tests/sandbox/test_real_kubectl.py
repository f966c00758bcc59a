"""The real kubectl works against the sandbox apiserver: short names, rollout history / status / restart /
undo, scale. What kubectl needs (discovery, JSON patches, watches) must be there for the comparisons
of opsbot with kubectl to mean anything."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .conftest import KubeSandbox
from .kubectl import kubectl, run_kubectl
from .test_kube_rollouts import REVISION, history, pod_names

CHANGE_CAUSE = "kubernetes.io/change-cause"


def deploy_2_0(web: KubeSandbox) -> None:
    web.apps.patch_namespaced_deployment("web", "default", {"metadata": {"annotations": {
        CHANGE_CAUSE: "deploy 2.0"}}, "spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "registry.local/web:2.0"}]}}}})


def test_short_names_resolve(web: KubeSandbox) -> None:
    web.cluster.create({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "web-settings", "namespace": "default"}, "data": {"a": "b"}})
    names = kubectl(web.url, "get", "deploy,rs,po,cm,svc,ep,hpa", "-o", "name").split()
    (replicaset,) = history(web).values()
    assert "deployment.apps/web" in names and f"replicaset.apps/{replicaset.metadata.name}" in names
    assert {f"pod/{p}" for p in pod_names(web)} <= set(names) and "configmap/web-settings" in names
    assert set(kubectl(web.url, "get", "deployment", "-o", "name").split()) == {"deployment.apps/web"}
    assert "deployment.apps/web" in kubectl(web.url, "get", "all", "-o", "name").split()


def test_rollout_history_lists_revisions_with_their_change_cause(web: KubeSandbox) -> None:
    deploy_2_0(web)
    rows = [line.split(None, 1) for line in kubectl(web.url, "rollout", "history", "deployment/web").splitlines()[2:]
            if line.strip()]
    assert rows == [["1", "<none>"], ["2", "deploy 2.0"]]
    detail = kubectl(web.url, "rollout", "history", "deployment/web", "--revision=1")
    assert "registry.local/web:1.0" in detail and "registry.local/web:2.0" not in detail


def test_scale_and_rollout_restart(web: KubeSandbox) -> None:
    assert "scaled" in kubectl(web.url, "scale", "deployment/web", "--replicas=4")
    assert len(pod_names(web)) == 4 and sorted(history(web)) == [1]
    before = pod_names(web)
    assert "restarted" in kubectl(web.url, "rollout", "restart", "deployment/web")
    deployment = web.apps.read_namespaced_deployment("web", "default")
    assert "kubectl.kubernetes.io/restartedAt" in deployment.spec.template.metadata.annotations
    assert deployment.metadata.annotations[REVISION] == "2" and sorted(history(web)) == [1, 2]
    after = pod_names(web)
    assert len(after) == 4 and not (after & before)


def test_rollout_undo_and_its_server_dry_run(web: KubeSandbox) -> None:
    deploy_2_0(web)
    seen = len(web.cluster.requests)
    assert "server dry run" in kubectl(web.url, "rollout", "undo", "deployment/web", "--dry-run=server")
    (patch,) = [r for r in web.cluster.requests[seen:] if r.method == "PATCH"]
    assert patch.query.get("dryRun") == "All" and patch.content_type == "application/json-patch+json"
    assert sorted(history(web)) == [1, 2]
    assert "rolled back" in kubectl(web.url, "rollout", "undo", "deployment/web")
    revisions = history(web)
    assert sorted(revisions) == [2, 3]  # the old ReplicaSet adopted and renumbered, not a copy of it
    assert revisions[3].metadata.annotations["deployment.kubernetes.io/revision-history"] == "1"
    image = web.apps.read_namespaced_deployment("web", "default").spec.template.spec.containers[0].image
    assert image == "registry.local/web:1.0"


def _set_ready(web: KubeSandbox, pod: dict[str, Any], ready: bool) -> None:
    pod["status"]["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
    web.cluster.update(pod)
    web.cluster.reconcile()


def test_rollout_status_waits_on_a_watch_until_the_rollout_is_done(web: KubeSandbox) -> None:
    pod = web.cluster.list("Pod", "default", "app=web")[0]
    _set_ready(web, pod, False)
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(run_kubectl, web.url, "rollout", "status", "deployment/web", "--timeout=30s")
        deadline = time.monotonic() + 20
        while not any(r.query.get("watch") == "true" and r.status == 200 for r in web.cluster.requests):
            assert time.monotonic() < deadline and not waiting.done(), "kubectl never started watching"
            time.sleep(0.05)
        assert not waiting.done()  # one pod is unavailable: still waiting
        _set_ready(web, web.cluster.get("Pod", "default", pod["metadata"]["name"]) or {}, True)
        done = waiting.result(timeout=20)
    assert done.returncode == 0, done.stderr
    assert 'deployment "web" successfully rolled out' in done.stdout
    assert "Waiting for deployment" in done.stdout and "Failed to watch" not in done.stderr
