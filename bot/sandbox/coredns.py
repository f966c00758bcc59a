"""CoreDNS in the sandbox cluster: what `kubectl -n kube-system get pods -l k8s-app=kube-dns` shows.

A Deployment `coredns`, its ReplicaSet and pods in `kube-system` labelled `k8s-app=kube-dns`, and the
`kube-dns` Service (10.96.0.10:53) with Endpoints listing the ready pods; and the API server's `kubernetes`
Service in `default`, which every cluster's DNS resolves. The pods' states come from the
scenario's `coredns:` section; the sandbox DNS server answers only while one of them is ready.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from .kube import clock
from .kube.cluster import FakeCluster
from .kube.pods import pod_from_replicaset
from .kube.workloads import HASH_LABEL, REVISION, owner_reference, pod_is_ready, template_hash
from .pod_states import apply_pod_state
from .scenario import CoreDns

NAMESPACE = "kube-system"
SELECTOR = "k8s-app=kube-dns"
SERVICE = "kube-dns"
CLUSTER_IP = "10.96.0.10"
# Every cluster has the API server's Service `kubernetes` in `default`; the bot asks DNS for it to tell the
# cluster's DNS from some other resolver.
APISERVER_SERVICE = "kubernetes"
APISERVER_IP = "10.96.0.1"
_LABELS = {"k8s-app": "kube-dns"}
# Pod IPs of the CoreDNS pods, clear of the platform services' seeded numbering.
_FIRST_POD_INDEX = 9000
_AGE = timedelta(days=41)  # CoreDNS came with the cluster
_STARTUP_LOG = [
    ".:53",
    "[INFO] plugin/reload: Running configuration SHA512 = 591cf328cccc12bc490481273e738df5",
    "CoreDNS-$version",
    "linux/amd64, go1.20.7, ae2bbc2",
]

Obj = dict[str, Any]


def coredns_ready(cluster: FakeCluster) -> bool:
    """Whether any CoreDNS pod is ready right now (read live, so a recovered pod brings DNS back)."""
    pods = cluster.list("Pod", NAMESPACE, label_selector=SELECTOR)
    return any(pod_is_ready(p) and not p["metadata"].get("deletionTimestamp") for p in pods)


def seed_coredns(cluster: FakeCluster, spec: CoreDns, now: datetime) -> None:
    """Create CoreDNS's objects as the scenario describes them; one reconcile pass must create nothing."""
    created = now - _AGE
    template = _pod_template(spec.version)
    pod_hash = template_hash(template)
    with cluster.lock:
        deployment = cluster.create(_deployment(spec, template), created_at=created)
        rs = cluster.create(_replicaset(spec, template, pod_hash, deployment), created_at=created)
        rng = random.Random(f"coredns|{spec.version}")
        pods = [_seed_pod(cluster, spec, rs, rng, index=index, now=now) for index in range(spec.replicas)]
        cluster.create(_service(), created_at=created)
        cluster.create(_endpoints(pods), created_at=created)
        if cluster.get("Service", "default", APISERVER_SERVICE) is None:
            cluster.create(_apiserver_service(), created_at=created)
        cluster.pod_created_hooks.append(lambda pod: _on_pod_created(cluster, spec, pod))
        cluster.reconcile()


def _on_pod_created(cluster: FakeCluster, spec: CoreDns, pod: Obj) -> None:
    """A replacement CoreDNS pod (after `kubectl delete pod`) runs the same Corefile, so it gets a state
    from `pod_states` as at seeding (the i-th live pod the i-th state): deleting a crash-looping pod does
    not fix DNS here any more than it would for real. Keeps the kube-dns Endpoints in step."""
    meta = pod["metadata"]
    if meta["namespace"] != NAMESPACE or (meta.get("labels") or {}).get("k8s-app") != _LABELS["k8s-app"]:
        return
    pods = cluster.list("Pod", NAMESPACE, label_selector=SELECTOR)
    siblings = [p for p in pods if p["metadata"]["name"] != meta["name"]]
    index = len(siblings)
    state = spec.pod_states[index] if index < len(spec.pod_states) else None
    current = cluster.get("Pod", NAMESPACE, meta["name"])
    if current is None:
        return
    if state is not None:
        apply_pod_state(current, state, clock.now())
        current = cluster.update(current)
    cluster.set_logs(NAMESPACE, meta["name"], "coredns", _startup_log(spec))
    endpoints = cluster.get("Endpoints", NAMESPACE, SERVICE)
    if endpoints is not None:
        endpoints["subsets"] = _endpoints([*siblings, current])["subsets"]
        cluster.update(endpoints)


def _seed_pod(cluster: FakeCluster, spec: CoreDns, rs: Obj, rng: random.Random, *, index: int, now: datetime) -> Obj:
    started = now - _AGE + timedelta(seconds=5 + 2 * index)
    pod = pod_from_replicaset(rs, rng, _FIRST_POD_INDEX + index, started_at=started)
    state = spec.pod_states[index] if index < len(spec.pod_states) else None
    if state is not None:
        apply_pod_state(pod, state, now)
    stored = cluster.create(pod, created_at=started)
    name = stored["metadata"]["name"]
    lines = _startup_log(spec)
    cluster.set_logs(NAMESPACE, name, "coredns", lines)
    if state is not None and state.last_terminated is not None and spec.previous_logs:
        cluster.set_logs(NAMESPACE, name, "coredns", [*lines, *spec.previous_logs], previous=True)
    if state is None or state.ready:
        cluster.set_pod_metrics(NAMESPACE, name, {"coredns": {"cpu": "4m", "memory": "18Mi"}})
    return stored


def _startup_log(spec: CoreDns) -> list[str]:
    return [line.replace("$version", spec.version) for line in _STARTUP_LOG]


def _pod_template(version: str) -> Obj:
    probe = {"initialDelaySeconds": 60, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 5,
             "successThreshold": 1}
    container = {
        "name": "coredns",
        "image": f"registry.k8s.io/coredns/coredns:v{version}",
        "args": ["-conf", "/etc/coredns/Corefile"],
        "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                  {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "100m", "memory": "70Mi"}, "limits": {"memory": "170Mi"}},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"}, **probe},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"}, **probe,
                           "initialDelaySeconds": 0},
    }
    return {"metadata": {"labels": dict(_LABELS)},
            "spec": {"containers": [container], "dnsPolicy": "Default", "priorityClassName": "system-cluster-critical",
                     "restartPolicy": "Always"}}


def _deployment(spec: CoreDns, template: Obj) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": NAMESPACE, "labels": dict(_LABELS),
                     "annotations": {REVISION: "1"}},
        "spec": {"replicas": spec.replicas, "selector": {"matchLabels": dict(_LABELS)}, "template": template,
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                 "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
    }


def _replicaset(spec: CoreDns, template: Obj, pod_hash: str, deployment: Obj) -> Obj:
    labels = {**_LABELS, HASH_LABEL: pod_hash}
    rs_template = {"metadata": {"labels": dict(labels)}, "spec": template["spec"]}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": f"coredns-{pod_hash}", "namespace": NAMESPACE, "labels": labels,
                     "annotations": {REVISION: "1"}, "ownerReferences": [owner_reference(deployment)]},
        "spec": {"replicas": spec.replicas, "selector": {"matchLabels": dict(labels)}, "template": rs_template},
    }


def _service() -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": SERVICE, "namespace": NAMESPACE,
                     "labels": {**_LABELS, "kubernetes.io/name": "CoreDNS"}},
        "spec": {"type": "ClusterIP", "clusterIP": CLUSTER_IP, "selector": dict(_LABELS),
                 "ports": [{"name": "dns", "port": 53, "targetPort": 53, "protocol": "UDP"},
                           {"name": "dns-tcp", "port": 53, "targetPort": 53, "protocol": "TCP"}]},
    }


def _apiserver_service() -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": APISERVER_SERVICE, "namespace": "default",
                     "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"type": "ClusterIP", "clusterIP": APISERVER_IP,
                 "ports": [{"name": "https", "port": 443, "targetPort": 6443, "protocol": "TCP"}]},
    }


def _endpoints(pods: list[Obj]) -> Obj:
    def address(pod: Obj) -> Obj:
        return {"ip": pod["status"].get("podIP"), "nodeName": pod["spec"].get("nodeName"),
                "targetRef": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": NAMESPACE,
                              "uid": pod["metadata"]["uid"]}}

    ready = [address(p) for p in pods if pod_is_ready(p)]
    not_ready = [address(p) for p in pods if not pod_is_ready(p)]
    subset: Obj = {"ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}
    if ready:
        subset["addresses"] = ready
    if not_ready:
        subset["notReadyAddresses"] = not_ready
    return {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": SERVICE, "namespace": NAMESPACE, "labels": dict(_LABELS)},
            "subsets": [subset] if pods else []}

