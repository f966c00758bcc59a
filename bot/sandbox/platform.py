"""The simulated platform: scenario data turned into cluster objects, and the live state metrics come from.

`Platform(cluster, scenario)` seeds the FakeCluster with what a real cluster would hold after the story
the scenario tells: per service a Deployment, one owned ReplicaSet per past revision (old ones scaled to
0), the live ReplicaSet's pods (with logs and pod metrics), an `autoscaling/v2` HPA, a Service, its
Endpoints and events, all with creationTimestamps that match the story (the live ReplicaSet of a deploy
"20 minutes ago" was created 20 minutes ago).

Behaviour belongs to images, not to services: every pod behaves like the profile of the image it runs.
A hook on the cluster's controller gives each pod it creates later (after a rollback, restart or scale)
the logs, pod metrics and pod state of its own image, and `traffic()` reports which images the ready
pods run right now. So when the bot rolls auth-service back, the next metrics query sees 2.4.1 pods and
reports 2.4.1's error rate.
"""

from __future__ import annotations

import copy
import hashlib
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .kube import clock as kube_clock
from .kube.cluster import FakeCluster
from .kube.metrics import MemoryGrowth
from .kube.pods import pod_from_replicaset
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
from .logs import (
    PodIdentity,
    PodLog,
    RequestIds,
    RequestRecord,
    generate_pod_log,
    previous_log,
    previous_times,
)
from .scenario import EventSpec, PodState, Profile, Revision, Scenario, ServiceSpec, parse_duration

Obj = dict[str, Any]
VERSION_LABEL = "app.kubernetes.io/version"
# Pod IPs handed out by the seeding start here, clear of the controller's own numbering (from 1).
_SEED_POD_INDEX = 5000
# Real clusters drop events after an hour; rollouts older than that leave no events.
_EVENT_TTL = timedelta(hours=1)
# Waiting reasons of a container that never started: no logs and no usage to report.
_NEVER_STARTED = frozenset({"ContainerCreating", "PodInitializing", "ImagePullBackOff", "ErrImagePull"})


@dataclass(frozen=True)
class ImageInfo:
    service: ServiceSpec
    revision: Revision
    profile: Profile
    image: str


@dataclass(frozen=True)
class ImageShare:
    """The ready pods of one service that run one image, right now."""

    info: ImageInfo
    pods: list[str]
    since: datetime  # creation of the youngest of these pods: when this part of the state began


@dataclass(frozen=True)
class Traffic:
    """What serves a service's traffic now: the metrics API computes its numbers from this."""

    service: ServiceSpec
    shares: list[ImageShare]  # empty: no ready pod, the service is unavailable
    fallback: ImageInfo  # the deployment template's image, used when nothing is ready
    failures: list[RequestRecord]  # failed requests logged by the ready pods, oldest first

    @property
    def since(self) -> datetime | None:
        """When the current mix of ready pods came about (the last state change)."""
        return max((share.since for share in self.shares), default=None)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _seeded_rng(*parts: str) -> random.Random:
    return random.Random("|".join(parts))


def wiggle(key: str, spread: float) -> float:
    """A deterministic factor in [1 - spread, 1 + spread] for `key`."""
    digest = hashlib.sha256(key.encode()).digest()
    return 1.0 + spread * (int.from_bytes(digest[:4], "big") / 0xFFFFFFFF * 2 - 1)


class Platform:
    def __init__(self, cluster: FakeCluster, scenario: Scenario, *,
                 now: Callable[[], datetime] = kube_clock.now) -> None:
        self.cluster = cluster
        self.scenario = scenario
        self._now = now
        self._ids = RequestIds()
        self._failures: dict[tuple[str, str], list[RequestRecord]] = {}
        self._images = _index_images(scenario)
        self._lock = threading.Lock()
        with cluster.lock:
            for index, service in enumerate(scenario.services):
                _Seeder(self, service, _SEED_POD_INDEX + 100 * index).seed()
            cluster.pod_created_hooks.append(self._on_pod_created)
            # The seeded state is what the controller would converge to; one pass fills in the
            # statuses it owns and must create nothing.
            cluster.reconcile()

    # --- queries ---------------------------------------------------------------------------------

    def service(self, name: str) -> ServiceSpec | None:
        return self.scenario.service(name)

    def image_info(self, service: ServiceSpec, image: str) -> ImageInfo:
        """The profile for an image; an image the scenario doesn't know behaves like the live revision."""
        known = self._images.get(image)
        if known is not None and known.service.name == service.name:
            return known
        return self._images[service.image_of(service.live)]

    def traffic(self, name: str) -> Traffic | None:
        service = self.service(name)
        if service is None:
            return None
        # Pod deletions have no hook; bring Endpoints up to date whenever someone looks.
        self.sync_endpoints(service)
        with self.cluster.lock:
            pods = self.cluster.list("Pod", service.namespace, label_selector=f"app={service.name}")
            deployment = self.cluster.get("Deployment", service.namespace, service.name)
        ready = [p for p in pods if pod_is_ready(p) and not p["metadata"].get("deletionTimestamp")]
        by_image: dict[str, list[Obj]] = {}
        for pod in ready:
            by_image.setdefault(_image_of(pod), []).append(pod)
        shares = [
            ImageShare(
                info=self.image_info(service, image),
                pods=[p["metadata"]["name"] for p in group],
                since=max(parse_time(p["metadata"]["creationTimestamp"]) for p in group),
            )
            for image, group in sorted(by_image.items())
        ]
        template_image = _image_of({"spec": deployment["spec"]["template"]["spec"]}) if deployment else ""
        with self._lock:
            logged = [self._failures.get((service.namespace, p["metadata"]["name"]), []) for p in ready]
        failures = sorted((r for records in logged for r in records), key=lambda r: r.ts)
        return Traffic(service, shares, self.image_info(service, template_image), failures)

    def now(self) -> datetime:
        return self._now()

    # --- pods ------------------------------------------------------------------------------------

    def _on_pod_created(self, pod: Obj) -> None:
        """Controller hook: a new pod gets the logs, usage and state of the image it runs."""
        namespace = pod["metadata"]["namespace"]
        app = (pod["metadata"].get("labels") or {}).get("app")
        service = self.service(str(app)) if app else None
        if service is None or service.namespace != namespace:
            return
        info = self.image_info(service, _image_of(pod))
        siblings = [
            p for p in self.cluster.list("Pod", namespace, label_selector=f"app={service.name}")
            if _image_of(p) == info.image and p["metadata"]["name"] != pod["metadata"]["name"]
        ]
        state = _state_for(info.profile, len(siblings))
        if state is not None:
            current = self.cluster.get("Pod", namespace, pod["metadata"]["name"])
            if current is not None:
                apply_pod_state(current, state, self.now())
                self.cluster.update(current)
        self.populate_pod(info, pod, state)
        self.sync_endpoints(service)

    def populate_pod(self, info: ImageInfo, pod: Obj, state: PodState | None) -> None:
        """Logs (current and previous) and pod metrics for one pod, from its image's profile."""
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        container = pod["spec"]["containers"][0]["name"]
        offset = timedelta(seconds=state.clock_offset_s if state is not None else 0.0)
        who = PodIdentity(info.service.name, info.revision.version, name, info.image, offset)
        now = self.now()
        if state is None or state.waiting_reason not in _NEVER_STARTED:
            created = parse_time(pod["metadata"]["creationTimestamp"])
            with self._lock:
                log: PodLog = generate_pod_log(who, info.profile, created=created, now=now, ids=self._ids)
                self._failures[(namespace, name)] = log.failures
            self.cluster.set_logs(namespace, name, container, log.lines, times=log.times)
            self.cluster.set_pod_metrics(namespace, name, {container: pod_usage(info.profile, name)},
                                         growth=memory_growth(info.profile, pod))
        if state is not None and state.last_terminated is not None and info.profile.logs.previous:
            finished = now - timedelta(seconds=parse_duration(state.last_terminated.finished_ago))
            lines = previous_log(who, info.profile, finished=finished)
            self.cluster.set_logs(namespace, name, container, lines, previous=True,
                                  times=previous_times(info.profile, finished=finished))

    def sync_endpoints(self, service: ServiceSpec) -> None:
        """Endpoints list the ready pods the Service selects, as the endpoints controller keeps them."""
        selector = service.service.selector or {"app": service.name}
        query = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        with self.cluster.lock:
            pods = self.cluster.list("Pod", service.namespace, label_selector=query)
            current = self.cluster.get("Endpoints", service.namespace, service.name)
            wanted = endpoints_object(service, pods)
            if current is None:
                self.cluster.create(wanted)
            elif current.get("subsets") != wanted.get("subsets"):
                current["subsets"] = wanted["subsets"]
                self.cluster.update(current)


# --- seeding ---------------------------------------------------------------------------------------


class _Seeder:
    """Creates one service's objects as they would exist after the scenario's story."""

    def __init__(self, platform: Platform, service: ServiceSpec, first_pod_index: int) -> None:
        self.platform = platform
        self.cluster = platform.cluster
        self.service = service
        self.now = platform.now()
        self.rng = _seeded_rng(platform.scenario.name, service.name)
        self.pod_index = first_pod_index

    def ago(self, duration: str) -> datetime:
        return self.now - timedelta(seconds=parse_duration(duration))

    def seed(self) -> None:
        service = self.service
        live_at = self.ago(service.live.rolled_out_ago)
        first_at = self.ago(service.revisions[0].rolled_out_ago)
        deployment = self.create(deployment_object(service), first_at)
        replicasets = [
            self.create(replicaset_object(service, deployment, rev), self.ago(rev.rolled_out_ago))
            for rev in service.revisions
        ]
        live_rs = replicasets[-1]
        pods = [self.seed_pod(live_rs, index, live_at) for index in range(service.replicas)]
        if service.hpa is not None:
            self.create(hpa_object(service), first_at)
        self.create(service_object(service), first_at)
        self.platform.sync_endpoints(service)
        for event in rollout_events(service, replicasets, deployment, self.now):
            self.cluster.create(event)
        for spec in service.events:
            self.cluster.create(scenario_event(spec, deployment=deployment, live_rs=live_rs, pods=pods,
                                                   now=self.now))

    def seed_pod(self, rs: Obj, index: int, created: datetime) -> Obj:
        info = self.platform.image_info(self.service, _image_of({"spec": rs["spec"]["template"]["spec"]}))
        # Pods come up a few seconds after their ReplicaSet, one after another.
        started = created + timedelta(seconds=3 + 2 * index)
        state = _state_for(info.profile, index)
        if state is not None and state.created_ago is not None:
            # Added later (by the HPA, or replacing an evicted pod), but never before its ReplicaSet.
            started = max(created, self.ago(state.created_ago))
        self.pod_index += 1
        pod = pod_from_replicaset(rs, self.rng, self.pod_index, started_at=started)
        if state is not None:
            apply_pod_state(pod, state, self.now)
        stored = self.create(pod, started)
        self.platform.populate_pod(info, stored, state)
        return stored

    def create(self, obj: Obj, created: datetime) -> Obj:
        """Create an object whose creationTimestamp lies in the past, as the story says."""
        return self.cluster.create(obj, created_at=created)


# --- wire-format objects ---------------------------------------------------------------------------


def _image_of(pod: Obj) -> str:
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    return str(containers[0].get("image", ""))


def _index_images(scenario: Scenario) -> dict[str, ImageInfo]:
    images: dict[str, ImageInfo] = {}
    for service in scenario.services:
        for revision in service.revisions:
            image = service.image_of(revision)
            images[image] = ImageInfo(service, revision, scenario.profiles[revision.profile], image)
    return images


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


def _state_for(profile: Profile, index: int) -> PodState | None:
    return profile.pod_states[index] if index < len(profile.pod_states) else None


def apply_pod_state(pod: Obj, state: PodState, now: datetime) -> None:
    """Overrides from the scenario: not ready, waiting (CrashLoopBackOff), last termination, restarts."""
    status = pod["status"]
    status["phase"] = state.phase
    for condition in status.get("conditions") or []:
        if condition["type"] in ("Ready", "ContainersReady"):
            condition["status"] = "True" if state.ready else "False"
            if not state.ready:
                condition["reason"] = "ContainersNotReady"
    for container in status.get("containerStatuses") or []:
        container["ready"] = state.ready
        container["restartCount"] = state.restart_count
        if state.waiting_reason is not None:
            container["started"] = False
            container["state"] = {"waiting": {"reason": state.waiting_reason,
                                              "message": state.waiting_message or ""}}
        if state.last_terminated is not None:
            container["lastState"] = {"terminated": _terminated(state, now, container.get("containerID", ""))}
        if state.running_since_ago is not None and state.waiting_reason is None:
            since = now - timedelta(seconds=parse_duration(state.running_since_ago))
            container["state"] = {"running": {"startedAt": kube_clock.rfc3339(since)}}


def _terminated(state: PodState, now: datetime, container_id: str) -> Obj:
    last = state.last_terminated
    assert last is not None
    finished = now - timedelta(seconds=parse_duration(last.finished_ago))
    started = (now - timedelta(seconds=parse_duration(last.started_ago)) if last.started_ago
               else finished - timedelta(minutes=5))
    return {"exitCode": last.exit_code, "reason": last.reason, "containerID": container_id,
            "startedAt": kube_clock.rfc3339(started), "finishedAt": kube_clock.rfc3339(finished)}


def pod_usage(profile: Profile, pod: str) -> dict[str, str]:
    """The profile's usage with a steady per-pod spread, in metrics-server units (millicores, Ki)."""
    factor = wiggle(pod, 0.1)
    cpu_text = profile.usage.cpu
    millicores = float(cpu_text[:-1]) if cpu_text.endswith("m") else float(cpu_text) * 1000
    memory_text = profile.usage.memory
    kibibytes = int(memory_text[:-2]) * {"Ki": 1, "Mi": 1024, "Gi": 1024 * 1024}[memory_text[-2:]]
    return {"cpu": f"{round(millicores * factor)}m", "memory": f"{round(kibibytes * factor)}Ki"}


def memory_growth(profile: Profile, pod: Obj) -> dict[str, MemoryGrowth] | None:
    """A leaking image's growth per container, capped at the container's memory limit (the OOM kill)."""
    rate = profile.usage.memory_growth_per_hour
    if rate is None:
        return None
    growth: dict[str, MemoryGrowth] = {}
    for container in pod["spec"]["containers"]:
        limit = ((container.get("resources") or {}).get("limits") or {}).get("memory")
        growth[container["name"]] = MemoryGrowth(float(_memory_bytes(rate)),
                                                 _memory_bytes(limit) if limit else None)
    return growth


def _memory_bytes(text: str) -> int:
    """`"2Gi"` -> bytes; the binary suffixes scenarios use, else plain bytes."""
    units = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}
    return int(text[:-2]) * units[text[-2:]] if text[-2:] in units else int(text)


# --- events ----------------------------------------------------------------------------------------


def _event(involved: Obj, *, reason: str, message: str, type_: str, count: int, first: datetime,
           last: datetime, component: str) -> Obj:
    meta = involved["metadata"]
    suffix = hashlib.sha256(f"{meta['name']}|{reason}|{message}".encode()).hexdigest()[:16]
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{suffix}", "namespace": meta["namespace"]},
        "involvedObject": {"apiVersion": involved["apiVersion"], "kind": involved["kind"],
                           "name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
                           "resourceVersion": meta.get("resourceVersion", "")},
        "reason": reason,
        "message": message,
        "type": type_,
        "count": count,
        "firstTimestamp": kube_clock.rfc3339(first),
        "lastTimestamp": kube_clock.rfc3339(last),
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": "",
    }


def rollout_events(service: ServiceSpec, replicasets: list[Obj], deployment: Obj, now: datetime) -> list[Obj]:
    """The deployment controller's ScalingReplicaSet events of a rollout that happened within the hour."""
    if len(replicasets) < 2:
        return []
    at = now - timedelta(seconds=parse_duration(service.live.rolled_out_ago))
    if now - at > _EVENT_TTL:
        return []
    new, old = replicasets[-1]["metadata"]["name"], replicasets[-2]["metadata"]["name"]
    n = service.replicas
    steps = [f"Scaled up replica set {new} to {n}", f"Scaled down replica set {old} to 0"]
    return [
        _event(deployment, reason="ScalingReplicaSet", message=message, type_="Normal", count=1,
               first=at + timedelta(seconds=k * 20), last=at + timedelta(seconds=k * 20),
               component="deployment-controller")
        for k, message in enumerate(steps)
    ]


def scenario_event(spec: EventSpec, *, deployment: Obj, live_rs: Obj, pods: list[Obj], now: datetime) -> Obj:
    if spec.object == "Pod" and pods:
        involved, component = pods[min(spec.pod_index, len(pods) - 1)], "kubelet"
    elif spec.object == "ReplicaSet":
        involved, component = live_rs, "replicaset-controller"
    else:
        involved, component = deployment, "deployment-controller"
    return _event(
        copy.deepcopy(involved), reason=spec.reason, message=spec.message, type_=spec.type, count=spec.count,
        first=now - timedelta(seconds=parse_duration(spec.first_ago)),
        last=now - timedelta(seconds=parse_duration(spec.last_ago)), component=component,
    )
