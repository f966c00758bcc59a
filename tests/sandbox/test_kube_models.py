"""Every endpoint's response deserializes into the official client's models (v37, pydantic)."""

from __future__ import annotations

from kubernetes import client

from .conftest import KubeSandbox


def test_deployment_read_list_status_and_scale_are_typed(web: KubeSandbox) -> None:
    deployment = web.apps.read_namespaced_deployment("web", "default")
    assert isinstance(deployment, client.V1Deployment)
    assert deployment.metadata.uid and deployment.metadata.generation == 1
    assert deployment.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    assert deployment.status.observed_generation == 1
    assert deployment.status.ready_replicas == deployment.status.available_replicas == 2
    assert {c.type: c.reason for c in deployment.status.conditions} == {
        "Available": "MinimumReplicasAvailable", "Progressing": "NewReplicaSetAvailable"}

    listed = web.apps.list_namespaced_deployment("default")
    assert isinstance(listed, client.V1DeploymentList)
    assert [d.metadata.name for d in listed.items] == ["web"]
    assert int(listed.metadata.resource_version) >= int(deployment.metadata.resource_version)

    status = web.apps.read_namespaced_deployment_status("web", "default")
    assert isinstance(status, client.V1Deployment) and status.status.replicas == 2

    scale = web.apps.read_namespaced_deployment_scale("web", "default")
    assert isinstance(scale, client.V1Scale)
    assert scale.spec.replicas == 2 and scale.status.selector == "app=web"


def test_replicasets_and_pods_are_typed_and_owned(web: KubeSandbox) -> None:
    replicasets = web.apps.list_namespaced_replica_set("default", label_selector="app=web")
    assert isinstance(replicasets, client.V1ReplicaSetList)
    (rs,) = replicasets.items
    deployment = web.apps.read_namespaced_deployment("web", "default")
    owner = rs.metadata.owner_references[0]
    assert owner.controller and owner.uid == deployment.metadata.uid and owner.kind == "Deployment"
    pod_hash = rs.metadata.labels["pod-template-hash"]
    assert rs.metadata.name == f"web-{pod_hash}" and len(pod_hash) == 10
    assert rs.spec.selector.match_labels == {"app": "web", "pod-template-hash": pod_hash}
    assert rs.status.ready_replicas == 2

    pods = web.core.list_namespaced_pod("default", label_selector="app=web")
    assert isinstance(pods, client.V1PodList) and len(pods.items) == 2
    pod = web.core.read_namespaced_pod(pods.items[0].metadata.name, "default")
    assert isinstance(pod, client.V1Pod)
    assert pod.metadata.name.startswith(f"{rs.metadata.name}-") and len(pod.metadata.name) == len(
        rs.metadata.name) + 6
    assert pod.status.phase == "Running" and pod.spec.node_name
    (container,) = pod.status.container_statuses
    assert container.ready and container.restart_count == 0 and container.state.running.started_at
    assert pod.spec.containers[0].resources.limits == {"memory": "512Mi", "cpu": "500m"}


def test_patch_returns_a_deployment(web: KubeSandbox) -> None:
    body = {"metadata": {"labels": {"team": "ops"}}}
    patched = web.apps.patch_namespaced_deployment("web", "default", body)
    assert isinstance(patched, client.V1Deployment)
    assert patched.metadata.labels == {"app": "web", "team": "ops"}
    assert patched.metadata.generation == 1  # metadata-only changes leave generation alone


def test_events_list_and_create(web: KubeSandbox) -> None:
    pod = web.core.list_namespaced_pod("default").items[0]
    event = client.CoreV1Event(
        metadata=client.V1ObjectMeta(name=f"{pod.metadata.name}.1", namespace="default"),
        involved_object=client.V1ObjectReference(kind="Pod", name=pod.metadata.name, namespace="default",
                                                 uid=pod.metadata.uid),
        reason="BackOff", message="Back-off restarting failed container", type="Warning", count=5,
    )
    created = web.core.create_namespaced_event("default", event)
    assert isinstance(created, client.CoreV1Event) and created.metadata.uid
    events = web.core.list_namespaced_event("default")
    assert isinstance(events, client.CoreV1EventList)
    reasons = {e.reason for e in events.items}
    assert {"BackOff", "ScalingReplicaSet", "SuccessfulCreate"} <= reasons


def test_hpa_read_list_patch(kube: KubeSandbox) -> None:
    kube.cluster.create({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "minReplicas": 2, "maxReplicas": 10,
                 "metrics": [{"type": "Resource", "resource": {
                     "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]},
        "status": {"currentReplicas": 10, "desiredReplicas": 10,
                   "currentMetrics": [{"type": "Resource", "resource": {
                       "name": "cpu", "current": {"averageUtilization": 95}}}],
                   "conditions": [{"type": "ScalingLimited", "status": "True", "reason": "TooManyReplicas"}]},
    })
    hpa = kube.autoscaling.read_namespaced_horizontal_pod_autoscaler("web", "default")
    assert isinstance(hpa, client.V2HorizontalPodAutoscaler)
    assert hpa.spec.max_replicas == 10
    assert hpa.status.current_metrics[0].resource.current.average_utilization == 95
    listed = kube.autoscaling.list_namespaced_horizontal_pod_autoscaler("default")
    assert isinstance(listed, client.V2HorizontalPodAutoscalerList) and len(listed.items) == 1
    patched = kube.autoscaling.patch_namespaced_horizontal_pod_autoscaler(
        "web", "default", {"spec": {"maxReplicas": 20}})
    assert patched.spec.max_replicas == 20 and patched.spec.min_replicas == 2
    assert patched.status.current_replicas == 10  # status survives a spec patch


def test_configmap_crud(kube: KubeSandbox) -> None:
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="maintenance"), data={"enabled": "false"})
    created = kube.core.create_namespaced_config_map("default", body)
    assert isinstance(created, client.V1ConfigMap) and created.metadata.resource_version
    patched = kube.core.patch_namespaced_config_map("maintenance", "default", {"data": {"enabled": "true"}})
    assert patched.data == {"enabled": "true"}
    patched.data["reason"] = "db migration"
    replaced = kube.core.replace_namespaced_config_map("maintenance", "default", patched)
    assert replaced.data == {"enabled": "true", "reason": "db migration"}
    assert isinstance(kube.core.list_namespaced_config_map("default"), client.V1ConfigMapList)
    status = kube.core.delete_namespaced_config_map("maintenance", "default")
    assert status["status"] == "Success"
    assert kube.cluster.get("ConfigMap", "default", "maintenance") is None


def test_services_and_endpoints(kube: KubeSandbox) -> None:
    kube.core.create_namespaced_service("default", {
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})
    kube.core.create_namespaced_endpoints("default", {
        "metadata": {"name": "web"},
        "subsets": [{"addresses": [{"ip": "10.244.0.2"}], "ports": [{"port": 8080}]}]})
    assert isinstance(kube.core.read_namespaced_service("web", "default"), client.V1Service)
    endpoints = kube.core.read_namespaced_endpoints("web", "default")
    assert isinstance(endpoints, client.V1Endpoints) and endpoints.subsets[0].addresses[0].ip == "10.244.0.2"
    patched = kube.core.patch_namespaced_service("web", "default", {"spec": {"ports": [{"port": 80,
                                                                                       "name": "http"}]}})
    assert patched.spec.ports[0].target_port == 8080  # SMP merges Service ports by `port`
    deleted = kube.core.delete_namespaced_service("web", "default")
    assert isinstance(deleted, client.V1Service)


def test_pod_metrics_through_custom_objects(web: KubeSandbox) -> None:
    pods = web.core.list_namespaced_pod("default").items
    first, second = pods[0].metadata.name, pods[1].metadata.name
    web.cluster.set_pod_metrics("default", first, {"web": {"cpu": "250m", "memory": "204800Ki"}})
    web.cluster.set_pod_metrics("default", second, {"web": {"cpu": "12345678n", "memory": "300Mi"}})
    listed = web.custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", "default", "pods",
                                                      label_selector="app=web")
    assert listed["kind"] == "PodMetricsList"
    usage = {item["metadata"]["name"]: item["containers"][0]["usage"] for item in listed["items"]}
    assert usage[pods[0].metadata.name] == {"cpu": "250m", "memory": "204800Ki"}
    assert all(item["window"] and item["timestamp"] for item in listed["items"])
    one = web.custom.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", "default", "pods",
                                                  pods[1].metadata.name)
    assert one["kind"] == "PodMetrics" and one["containers"][0]["usage"]["cpu"] == "12345678n"
    assert web.custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", "default", "pods",
                                                    label_selector="app=other")["items"] == []


def test_discovery(kube: KubeSandbox) -> None:
    version = client.VersionApi(kube.api).get_code()
    assert isinstance(version, client.VersionInfo) and version.major == "1"
    groups = client.ApisApi(kube.api).get_api_versions()
    assert isinstance(groups, client.V1APIGroupList)
    assert {"apps", "autoscaling", "coordination.k8s.io", "metrics.k8s.io"} <= {g.name for g in groups.groups}
    core = client.CoreApi(kube.api).get_api_versions()
    assert core.versions == ["v1"]
    resources = client.AppsV1Api(kube.api).get_api_resources()
    assert isinstance(resources, client.V1APIResourceList)
    assert {"deployments", "deployments/scale", "replicasets"} <= {r.name for r in resources.resources}
    assert {"pods", "pods/log"} <= {r.name for r in client.CoreV1Api(kube.api).get_api_resources().resources}
