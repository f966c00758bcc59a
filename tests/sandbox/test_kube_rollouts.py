"""The controller step as the bot's remediations see it: scale, restart, set env, undo, delete pod."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from .conftest import KubeSandbox, deployment_manifest
from .kubectl import kubectl

REVISION = "deployment.kubernetes.io/revision"


def pod_names(kube: KubeSandbox, selector: str = "app=web") -> set[str]:
    return {p.metadata.name for p in kube.core.list_namespaced_pod("default", label_selector=selector).items}


def history(kube: KubeSandbox, name: str = "web") -> dict[int, client.V1ReplicaSet]:
    """kubectl rollout history: owned ReplicaSets by revision."""
    deployment = kube.apps.read_namespaced_deployment(name, "default")
    selector = ",".join(f"{k}={v}" for k, v in deployment.spec.selector.match_labels.items())
    owned = [
        rs for rs in kube.apps.list_namespaced_replica_set("default", label_selector=selector).items
        if any(ref.controller and ref.uid == deployment.metadata.uid
               for ref in rs.metadata.owner_references or [])
    ]
    return {int(rs.metadata.annotations[REVISION]): rs for rs in owned}


def rollout_done(deployment: client.V1Deployment) -> bool:
    status = deployment.status
    return (deployment.metadata.generation <= status.observed_generation
            and (status.updated_replicas or 0) >= deployment.spec.replicas
            and status.replicas == status.updated_replicas
            and (status.available_replicas or 0) >= (status.updated_replicas or 0))


def kubectl_undo(kube: KubeSandbox, name: str = "web") -> None:
    """The real `kubectl rollout undo` (it picks the previous revision and JSON-patches its template and
    annotations in, client side), not a re-implementation of it."""
    said = kubectl(kube.url, "rollout", "undo", f"deployment/{name}")
    assert "rolled back" in said


def test_scale_subresource_changes_pods(web: KubeSandbox) -> None:
    scale = web.apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 5}})
    assert scale.spec.replicas == 5
    assert len(pod_names(web)) == 5
    deployment = web.apps.read_namespaced_deployment("web", "default")
    assert deployment.spec.replicas == 5 and deployment.metadata.generation == 2
    assert rollout_done(deployment) and deployment.status.ready_replicas == 5
    assert len(history(web)) == 1  # scaling is not a new revision

    web.apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 0}},
                                               _content_type="application/merge-patch+json")
    assert pod_names(web) == set()
    assert web.apps.read_namespaced_deployment("web", "default").status.ready_replicas is None


def test_scale_to_negative_is_invalid(web: KubeSandbox) -> None:
    with pytest.raises(ApiException) as raised:
        web.apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": -1}})
    assert raised.value.status == 422
    assert web.apps.read_namespaced_deployment("web", "default").spec.replicas == 2


def test_rollout_restart_creates_a_revision_and_replaces_pods(web: KubeSandbox) -> None:
    before = pod_names(web)
    restarted = web.apps.patch_namespaced_deployment("web", "default", {"spec": {"template": {"metadata": {
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T12:00:00Z"}}}}},
        field_manager="chatops-bot")
    assert restarted.metadata.generation == 2
    deployment = web.apps.read_namespaced_deployment("web", "default")
    assert deployment.metadata.annotations[REVISION] == "2"
    assert rollout_done(deployment)
    revisions = history(web)
    assert sorted(revisions) == [1, 2] and revisions[1].spec.replicas == 0 and revisions[2].spec.replicas == 2
    after = pod_names(web)
    assert len(after) == 2 and not (after & before)
    assert all(n.startswith(revisions[2].metadata.name) for n in after)


def test_set_env_strategic_merge_keeps_image_but_merge_patch_is_invalid(web: KubeSandbox) -> None:
    body: dict[str, Any] = {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "env": [{"name": "LOG_LEVEL", "value": "DEBUG"}]}]}}}}
    patched = web.apps.patch_namespaced_deployment("web", "default", body)
    (container,) = patched.spec.template.spec.containers
    assert container.image == "registry.local/web:1.0"
    assert [(e.name, e.value) for e in container.env] == [("MODE", "prod"), ("LOG_LEVEL", "DEBUG")]
    assert container.ports[0].container_port == 8080

    with pytest.raises(ApiException) as raised:
        web.apps.patch_namespaced_deployment("web", "default", body,
                                             _content_type="application/merge-patch+json")
    assert raised.value.status == 422
    status = json.loads(raised.value.body)
    assert status["kind"] == "Status" and status["reason"] == "Invalid"
    assert {"field": "spec.template.spec.containers[0].image", "message": "Required value",
            "reason": "FieldValueRequired"} in status["details"]["causes"]
    image = web.apps.read_namespaced_deployment("web", "default").spec.template.spec.containers[0].image
    assert image == "registry.local/web:1.0"  # nothing was stored


def test_rollout_undo_over_json_patch_restores_image_and_renumbers(web: KubeSandbox) -> None:
    web.apps.patch_namespaced_deployment("web", "default", {"metadata": {"annotations": {
        "kubernetes.io/change-cause": "deploy 2.0"}}, "spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "registry.local/web:2.0"}]}}}})
    assert sorted(history(web)) == [1, 2]
    assert history(web)[2].metadata.annotations["kubernetes.io/change-cause"] == "deploy 2.0"
    old_rs_name = history(web)[1].metadata.name

    kubectl_undo(web)

    deployment = web.apps.read_namespaced_deployment("web", "default")
    assert deployment.spec.template.spec.containers[0].image == "registry.local/web:1.0"
    assert "pod-template-hash" not in deployment.spec.template.metadata.labels
    assert deployment.metadata.annotations[REVISION] == "3"
    revisions = history(web)
    assert sorted(revisions) == [2, 3]  # revision 1 vanished: the old RS became revision 3
    assert revisions[3].metadata.name == old_rs_name and revisions[3].spec.replicas == 2
    assert revisions[3].metadata.annotations["deployment.kubernetes.io/revision-history"] == "1"
    assert all(name.startswith(old_rs_name) for name in pod_names(web))
    assert rollout_done(deployment)


def test_deleted_pod_is_replaced_by_its_replicaset(web: KubeSandbox) -> None:
    victim = sorted(pod_names(web))[0]
    deleted = web.core.delete_namespaced_pod(victim, "default", grace_period_seconds=30,
                                             body=client.V1DeleteOptions(propagation_policy="Background"))
    assert isinstance(deleted, client.V1Pod)
    assert deleted.metadata.name == victim and deleted.metadata.deletion_timestamp is not None
    names = pod_names(web)
    assert victim not in names and len(names) == 2
    delete = [r for r in web.cluster.requests if r.method == "DELETE"][-1]
    assert delete.query == {"gracePeriodSeconds": "30"} and delete.body["propagationPolicy"] == "Background"


def test_crashlooping_pods_count_as_unavailable(web: KubeSandbox) -> None:
    pod = web.cluster.list("Pod", "default", "app=web")[0]
    pod["status"]["phase"] = "Running"
    pod["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    pod["status"]["containerStatuses"][0].update(ready=False, restartCount=7, state={
        "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}},
        lastState={"terminated": {"reason": "OOMKilled", "exitCode": 137,
                                  "finishedAt": "2024-05-01T12:00:00Z"}})
    web.cluster.update(pod)
    web.cluster.reconcile()

    kept = web.core.read_namespaced_pod(pod["metadata"]["name"], "default")
    assert kept.status.container_statuses[0].state.waiting.reason == "CrashLoopBackOff"
    assert kept.status.container_statuses[0].last_state.terminated.exit_code == 137
    deployment = web.apps.read_namespaced_deployment("web", "default")
    assert deployment.status.ready_replicas == 1 and deployment.status.unavailable_replicas == 1
    assert not rollout_done(deployment)
    assert len(pod_names(web)) == 2  # the controller leaves the crashing pod in place


def test_progress_deadline_exceeded_survives_reconcile_until_the_rollout_completes(web: KubeSandbox) -> None:
    pod = web.cluster.list("Pod", "default", "app=web")[0]
    pod["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    web.cluster.update(pod)
    deployment = web.cluster.get("Deployment", "default", "web")
    assert deployment is not None
    deployment["status"]["conditions"][1].update(status="False", reason="ProgressDeadlineExceeded",
                                                 message='ReplicaSet "web" has timed out progressing.')
    web.cluster.update(deployment)
    web.cluster.reconcile()
    conditions = {c.type: c for c in web.apps.read_namespaced_deployment("web", "default").status.conditions}
    assert conditions["Progressing"].reason == "ProgressDeadlineExceeded"


def test_paused_deployment_starts_no_rollout(web: KubeSandbox) -> None:
    web.apps.patch_namespaced_deployment("web", "default", {"spec": {"paused": True}})
    web.apps.patch_namespaced_deployment("web", "default", {"spec": {"template": {"metadata": {
        "annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}})
    assert sorted(history(web)) == [1]
    web.apps.patch_namespaced_deployment("web", "default", {"spec": {"paused": None}})
    assert sorted(history(web)) == [1, 2]


def test_pod_created_hooks_run_for_new_pods(kube: KubeSandbox) -> None:
    seen: list[str] = []

    def give_logs(pod: dict[str, Any]) -> None:
        seen.append(pod["metadata"]["name"])
        kube.cluster.set_logs("default", pod["metadata"]["name"], "web", ["started"])

    kube.cluster.pod_created_hooks.append(give_logs)
    kube.apps.create_namespaced_deployment("default", deployment_manifest(replicas=3))
    assert len(seen) == 3 and set(seen) == pod_names(kube)
    assert kube.core.read_namespaced_pod_log(seen[0], "default") == "started\n"


def test_deleting_a_deployment_collects_its_replicasets_and_pods(web: KubeSandbox) -> None:
    status = web.apps.delete_namespaced_deployment("web", "default")
    assert status["status"] == "Success" and status["details"]["name"] == "web"
    assert web.apps.list_namespaced_replica_set("default").items == []
    assert pod_names(web) == set()


def test_status_only_changes_through_the_status_subresource(web: KubeSandbox) -> None:
    web.apps.patch_namespaced_deployment("web", "default", {"status": {"replicas": 99}})
    assert web.apps.read_namespaced_deployment("web", "default").status.replicas == 2
