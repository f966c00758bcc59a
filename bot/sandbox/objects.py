"""The Kubernetes objects a scenario's service is made of: pod template, Deployment, ReplicaSets, HPA,
Service and Endpoints, as the API server would hold them after the story the scenario tells."""

from __future__ import annotations

import hashlib
from typing import Any

from .kube.workloads import (
    CHANGE_CAUSE,
    DESIRED_REPLICAS,
    HASH_LABEL,
    MAX_REPLICAS,
    REVISION,
    owner_reference,
    pod_is_ready,
    template_hash,
)
from .scenario import Revision, ServiceSpec

Obj = dict[str, Any]
VERSION_LABEL = "app.kubernetes.io/version"


def _probe(path: str, port: int, probe: Any) -> Obj:
    return {
        "httpGet": {"path": path, "port": port, "scheme": "HTTP"},
        "initialDelaySeconds": probe.initial_delay_seconds,
        "periodSeconds": probe.period_seconds,
        "timeoutSeconds": probe.timeout_seconds,
        "failureThreshold": probe.failure_threshold,
        "successThreshold": 1,
    }


def pod_template(service: ServiceSpec, revision: Revision) -> Obj:
    resources = revision.resources or service.resources
    env = revision.env if revision.env is not None else service.env
    container = {
        "name": service.name,
        "image": service.image_of(revision),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": service.port, "protocol": "TCP"}],
        "env": [{"name": k, "value": v} for k, v in env.items()],
        "resources": {"requests": dict(resources.requests), "limits": dict(resources.limits)},
        "livenessProbe": _probe(service.liveness.path, service.port, service.liveness),
        "readinessProbe": _probe(service.readiness.path, service.port, service.readiness),
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    return {
        "metadata": {"labels": {"app": service.name, "app.kubernetes.io/name": service.name,
                                VERSION_LABEL: revision.version}},
        "spec": {"containers": [container], "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                 "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler"},
    }


def _rollout_annotations(revision: Revision) -> dict[str, str]:
    annotations = {REVISION: str(revision.revision)}
    if revision.change_cause:
        annotations[CHANGE_CAUSE] = revision.change_cause
    return annotations


def deployment_object(service: ServiceSpec) -> Obj:
    live, replicas = service.live, service.replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": service.name, "namespace": service.namespace, "labels": {"app": service.name},
                     "annotations": _rollout_annotations(live)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": service.name}},
            "template": pod_template(service, live),
            "strategy": _strategy(service),
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": {
            "observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": replicas, "availableReplicas": replicas,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                 "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                 "message": f'ReplicaSet "{service.name}" has successfully progressed.'},
            ],
        },
    }


def _strategy(service: ServiceSpec) -> Obj:
    if service.strategy == "Recreate":
        return {"type": "Recreate"}
    return {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}


def replicaset_object(service: ServiceSpec, deployment: Obj, revision: Revision) -> Obj:
    template = pod_template(service, revision)
    pod_hash = template_hash(template)
    template["metadata"]["labels"][HASH_LABEL] = pod_hash
    live = revision is service.live
    replicas = service.replicas if live else 0
    annotations = {**_rollout_annotations(revision), DESIRED_REPLICAS: str(service.replicas),
                   MAX_REPLICAS: str(service.replicas + max(1, service.replicas // 4))}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": f"{service.name}-{pod_hash}", "namespace": service.namespace,
                     "labels": dict(template["metadata"]["labels"]), "annotations": annotations,
                     "ownerReferences": [owner_reference(deployment)]},
        "spec": {"replicas": replicas,
                 "selector": {"matchLabels": {"app": service.name, HASH_LABEL: pod_hash}},
                 "template": template},
        "status": {"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": replicas,
                   "availableReplicas": replicas, "observedGeneration": 1},
    }


def hpa_object(service: ServiceSpec) -> Obj:
    hpa = service.hpa
    assert hpa is not None
    current = hpa.current_replicas if hpa.current_replicas is not None else service.replicas
    at_max = current >= hpa.max_replicas
    conditions = [
        {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale",
         "message": "recommended size matches current size"},
        {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound",
         "message": "the HPA was able to successfully calculate a replica count from cpu resource"
                    " utilization"},
        {"type": "ScalingLimited", "status": "True" if at_max else "False",
         "reason": "TooManyReplicas" if at_max else "DesiredWithinRange",
         "message": "the desired replica count is more than the maximum replica count" if at_max
         else "the desired count is within the acceptable range"},
    ]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": service.name, "namespace": service.namespace, "labels": {"app": service.name}},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service.name},
            "minReplicas": hpa.min_replicas,
            "maxReplicas": hpa.max_replicas,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": hpa.target_cpu_utilization}}}],
        },
        "status": {
            "currentReplicas": current,
            "desiredReplicas": current,
            "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {
                "averageUtilization": hpa.current_cpu_utilization}}}],
            "conditions": conditions,
        },
    }


def service_object(service: ServiceSpec) -> Obj:
    port = service.service
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service.name, "namespace": service.namespace, "labels": {"app": service.name}},
        "spec": {
            "type": "ClusterIP",
            "selector": dict(port.selector or {"app": service.name}),
            "ports": [{"name": "http", "port": port.port, "targetPort": port.target_port, "protocol": "TCP"}],
            "clusterIP": _cluster_ip(service.name),
        },
    }


def _cluster_ip(name: str) -> str:
    digest = hashlib.sha256(name.encode()).digest()
    return f"10.96.{digest[0]}.{digest[1] % 250 + 2}"


def endpoints_object(service: ServiceSpec, pods: list[Obj]) -> Obj:
    def address(pod: Obj) -> Obj:
        return {"ip": pod["status"].get("podIP", "10.244.0.1"), "nodeName": pod["spec"].get("nodeName"),
                "targetRef": {"kind": "Pod", "name": pod["metadata"]["name"],
                              "namespace": pod["metadata"]["namespace"], "uid": pod["metadata"]["uid"]}}

    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    ready = [address(p) for p in live if pod_is_ready(p)]
    not_ready = [address(p) for p in live if not pod_is_ready(p)]
    subset: Obj = {"ports": [{"name": "http", "port": service.service.target_port, "protocol": "TCP"}]}
    if ready:
        subset["addresses"] = ready
    if not_ready:
        subset["notReadyAddresses"] = not_ready
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": service.name, "namespace": service.namespace, "labels": {"app": service.name}},
        "subsets": [subset] if (ready or not_ready) else [],
    }
