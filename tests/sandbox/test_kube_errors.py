"""Refusals reach the client as ApiException with Status bodies; dry run stores nothing; apply."""

from __future__ import annotations

import json

import pytest
import urllib3
from kubernetes import client
from kubernetes.client.rest import ApiException

from .conftest import KubeSandbox, deployment_manifest


def status_of(exc: pytest.ExceptionInfo[ApiException]) -> dict[str, object]:
    body = json.loads(exc.value.body)
    assert body["kind"] == "Status" and body["code"] == exc.value.status
    return body


def test_not_found_is_a_404_status(kube: KubeSandbox) -> None:
    with pytest.raises(ApiException) as raised:
        kube.apps.read_namespaced_deployment("missing", "default")
    assert raised.value.status == 404
    body = status_of(raised)
    assert body["reason"] == "NotFound" and body["message"] == 'deployments.apps "missing" not found'


def test_unknown_resource_is_a_404_status(kube: KubeSandbox) -> None:
    with pytest.raises(ApiException) as raised:
        client.BatchV1Api(kube.api).list_namespaced_job("default")
    assert raised.value.status == 404 and status_of(raised)["reason"] == "NotFound"


def test_create_existing_is_409_already_exists(web: KubeSandbox) -> None:
    with pytest.raises(ApiException) as raised:
        web.apps.create_namespaced_deployment("default", deployment_manifest())
    assert raised.value.status == 409 and status_of(raised)["reason"] == "AlreadyExists"


def test_replace_with_stale_resource_version_is_409_conflict(web: KubeSandbox) -> None:
    stale = web.apps.read_namespaced_deployment("web", "default")
    web.apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 3}})
    stale.spec.replicas = 4
    with pytest.raises(ApiException) as raised:
        web.apps.replace_namespaced_deployment("web", "default", stale)
    assert raised.value.status == 409 and status_of(raised)["reason"] == "Conflict"
    fresh = web.apps.read_namespaced_deployment("web", "default")
    fresh.spec.replicas = 4
    assert web.apps.replace_namespaced_deployment("web", "default", fresh).spec.replicas == 4


def test_unsupported_patch_content_type_is_415(web: KubeSandbox) -> None:
    with pytest.raises(ApiException) as raised:
        web.apps.patch_namespaced_deployment("web", "default", {"spec": {}}, _content_type="application/json")
    assert raised.value.status == 415


def test_failing_json_patch_is_422(web: KubeSandbox) -> None:
    with pytest.raises(ApiException) as raised:
        web.apps.patch_namespaced_deployment("web", "default", [
            {"op": "replace", "path": "/spec/nothing/here", "value": 1}])
    assert raised.value.status == 422


@pytest.mark.parametrize(("patch", "field"), [
    ({"spec": {"replicas": -1}}, "spec.replicas"),
    ({"spec": {"template": {"metadata": {"labels": {"app": "other"}}}}}, "spec.template.metadata.labels"),
    ({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": ""}]}}}},
     "spec.template.spec.containers[0].image"),
])
def test_invalid_objects_are_422_with_causes(web: KubeSandbox, patch: dict[str, object], field: str) -> None:
    with pytest.raises(ApiException) as raised:
        web.apps.patch_namespaced_deployment("web", "default", patch)
    assert raised.value.status == 422
    body = status_of(raised)
    assert body["reason"] == "Invalid"
    assert field in [c["field"] for c in body["details"]["causes"]]  # type: ignore[index]


def raw(kube: KubeSandbox, method: str, path: str, body: object,
        content_type: str = "application/json") -> urllib3.BaseHTTPResponse:
    """Bypass the typed client, which would refuse to send a wrongly typed body itself."""
    return urllib3.PoolManager().request(method, f"{kube.url}{path}", body=json.dumps(body).encode(),
                                         headers={"Content-Type": content_type}, timeout=5)


def test_wrong_types_are_rejected_by_the_client_models(kube: KubeSandbox) -> None:
    manifest = deployment_manifest()
    manifest["spec"]["replicas"] = "2"
    response = raw(kube, "POST", "/apis/apps/v1/namespaces/default/deployments", manifest)
    assert response.status == 422
    causes = json.loads(response.data)["details"]["causes"]
    assert any(c["field"] == "replicas" and "valid integer" in c["message"] for c in causes)
    container_without_name = deployment_manifest(containers=[{"image": "x"}])
    response = raw(kube, "POST", "/apis/apps/v1/namespaces/default/deployments", container_without_name)
    assert response.status == 422
    bad_name = deployment_manifest("Web_Service")
    bad_name["spec"]["selector"]["matchLabels"]["app"] = "web"
    with pytest.raises(ApiException) as raised:
        kube.apps.create_namespaced_deployment("default", bad_name)
    assert raised.value.status == 422 and "metadata.name" in raised.value.body


def test_dry_run_stores_nothing(web: KubeSandbox) -> None:
    before = web.apps.read_namespaced_deployment("web", "default")
    preview = web.apps.patch_namespaced_deployment("web", "default", {"spec": {"template": {"metadata": {
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T12:00:00Z"}}}}}, dry_run="All")
    assert preview.metadata.generation == 2
    assert preview.spec.template.metadata.annotations == {
        "kubectl.kubernetes.io/restartedAt": "2024-05-01T12:00:00Z"}
    scale = web.apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 7}},
                                                       dry_run="All")
    assert scale.spec.replicas == 7
    created = web.core.create_namespaced_config_map(
        "default", {"metadata": {"name": "preview"}, "data": {"a": "b"}}, dry_run="All")
    assert created.metadata.name == "preview"
    victim = web.core.list_namespaced_pod("default").items[0].metadata.name
    web.core.delete_namespaced_pod(victim, "default", dry_run="All")

    after = web.apps.read_namespaced_deployment("web", "default")
    assert after.metadata.resource_version == before.metadata.resource_version
    assert after.metadata.generation == 1 and after.spec.replicas == 2
    assert web.cluster.get("ConfigMap", "default", "preview") is None
    assert web.cluster.get("Pod", "default", victim) is not None
    assert len(web.apps.list_namespaced_replica_set("default").items) == 1

    with pytest.raises(ApiException) as raised:  # a dry run still validates
        web.apps.patch_namespaced_deployment("web", "default", {"spec": {"replicas": -3}}, dry_run="All")
    assert raised.value.status == 422


def test_server_side_apply_needs_a_field_manager_and_creates_or_merges(kube: KubeSandbox) -> None:
    manifest = deployment_manifest("api", replicas=1)
    with pytest.raises(ApiException) as raised:
        kube.apps.patch_namespaced_deployment("api", "default", manifest,
                                              _content_type="application/apply-patch+yaml")
    assert raised.value.status == 422
    created = kube.apps.patch_namespaced_deployment("api", "default", manifest, field_manager="chatops-bot",
                                                    force=True, _content_type="application/apply-patch+yaml")
    assert created.spec.replicas == 1
    manifest["spec"]["replicas"] = 3
    applied = kube.apps.patch_namespaced_deployment("api", "default", manifest, field_manager="chatops-bot",
                                                    force=True, _content_type="application/apply-patch+yaml")
    assert applied.spec.replicas == 3 and applied.metadata.uid == created.metadata.uid
    assert len(kube.core.list_namespaced_pod("default", label_selector="app=api").items) == 3


def test_metrics_api_absent_is_a_plain_text_404(web: KubeSandbox) -> None:
    web.cluster.metrics_available = False
    with pytest.raises(ApiException) as raised:
        web.custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", "default", "pods")
    assert raised.value.status == 404 and raised.value.body.startswith("404 page not found")
    groups = client.ApisApi(web.api).get_api_versions()
    assert "metrics.k8s.io" not in {g.name for g in groups.groups}


def test_watch_is_refused_not_hung(web: KubeSandbox) -> None:
    response = urllib3.PoolManager().request("GET", f"{web.url}/apis/apps/v1/namespaces/default/deployments"
                                                    "?watch=true", timeout=5)
    assert response.status == 405 and json.loads(response.data)["kind"] == "Status"
