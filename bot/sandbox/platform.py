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

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .kube import clock as kube_clock
from .kube.cluster import FakeCluster
from .kube.pods import pod_from_replicaset
from .kube.workloads import (
    pod_is_ready,
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
from .objects import deployment_object, endpoints_object, hpa_object, replicaset_object, service_object
from .pod_states import apply_pod_state, memory_growth, pod_usage, rollout_events, scenario_event, state_for
from .scenario import PodState, Profile, Revision, Scenario, ServiceSpec, parse_duration

Obj = dict[str, Any]
# Pod IPs handed out by the seeding start here, clear of the controller's own numbering (from 1).
_SEED_POD_INDEX = 5000
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
        state = state_for(info.profile, len(siblings))
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
        state = state_for(info.profile, index)
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


# The objects themselves are built in objects.py; pod states, usage and events in pod_states.py.


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
