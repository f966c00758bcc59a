"""The controller step: what kube-controller-manager's deployment, replicaset and garbage-collector
controllers would converge to, done in one synchronous pass.

Rollouts are instantaneous (the new ReplicaSet gets every replica at once) but the bookkeeping kubectl
relies on is faithful: owned ReplicaSets, `pod-template-hash`, revision annotations that renumber on
rollback, change-cause copying, and deployment status/conditions computed from real pod readiness, so
pods a scenario put into CrashLoopBackOff count as unavailable.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Mapping
from typing import Any

from . import clock
from .errors import KubeError
from .pods import pod_from_replicaset
from .store import ObjectStore
from .workloads import (
    DESIRED_REPLICAS,
    HASH_LABEL,
    MAX_REPLICAS,
    REVISION,
    REVISION_HISTORY,
    controller_uid,
    desired_replicas,
    owned_by,
    owner_reference,
    pod_is_ready,
    revision_of,
    template_hash,
    template_without_hash,
)

# Deployment annotations that describe the deployment itself and are not copied onto its ReplicaSets.
_NOT_COPIED = (REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
               "kubectl.kubernetes.io/last-applied-configuration", "deprecated.deployment.rollback.to")

PodHook = Callable[[dict[str, Any]], None]
PodForget = Callable[[str, str], None]


def _everything(_: Mapping[str, Any]) -> bool:
    return True


class Controller:
    def __init__(self, store: ObjectStore, rng: random.Random, on_pod_created: PodHook,
                 on_pod_deleted: PodForget) -> None:
        self._store = store
        self._rng = rng
        self._on_pod_created = on_pod_created
        self._on_pod_deleted = on_pod_deleted
        self._pods_created = 0

    def reconcile(self) -> None:
        self._collect_garbage()
        for deployment in self._store.list("Deployment", None, _everything):
            self._sync_deployment(deployment)
        for rs in self._store.list("ReplicaSet", None, _everything):
            self._sync_replicaset(rs)
        for deployment in self._store.list("Deployment", None, _everything):
            self._update_deployment_status(deployment)

    # -- garbage collection -------------------------------------------------------------------------

    def _collect_garbage(self) -> None:
        """Background cascading deletion: ReplicaSets of deleted deployments, pods of deleted RSs."""
        for owner_kind, dependent_kind in (("Deployment", "ReplicaSet"), ("ReplicaSet", "Pod")):
            live = {obj["metadata"]["uid"] for obj in self._store.items(owner_kind)}
            for dependent in self._store.list(dependent_kind, None, _everything):
                if _controller_kind(dependent) == owner_kind and controller_uid(dependent) not in live:
                    self._delete(dependent)

    def _delete(self, obj: Mapping[str, Any]) -> None:
        metadata = obj["metadata"]
        self._store.delete(obj["kind"], metadata["namespace"], metadata["name"])
        if obj["kind"] == "Pod":
            self._on_pod_deleted(metadata["namespace"], metadata["name"])

    # -- deployments --------------------------------------------------------------------------------

    def _owned_replicasets(self, deployment: Mapping[str, Any]) -> list[dict[str, Any]]:
        namespace = deployment["metadata"]["namespace"]
        candidates = self._store.list("ReplicaSet", namespace, _everything)
        return [copy.deepcopy(dict(rs)) for rs in owned_by(candidates, deployment)]

    def _current_replicaset(self, deployment: Mapping[str, Any],
                            replicasets: list[dict[str, Any]]) -> dict[str, Any] | None:
        wanted = template_without_hash(deployment["spec"].get("template"))
        matching = [rs for rs in replicasets if template_without_hash(rs["spec"].get("template")) == wanted]
        return max(matching, key=revision_of, default=None)

    def _sync_deployment(self, deployment: dict[str, Any]) -> None:
        if deployment["spec"].get("paused"):
            return  # a paused deployment starts no rollout and moves no replicas
        replicasets = self._owned_replicasets(deployment)
        current = self._current_replicaset(deployment, replicasets)
        top = max((revision_of(rs) for rs in replicasets), default=0)
        if current is None:
            current = self._create_replicaset(deployment, top + 1)
            replicasets.append(current)
        elif revision_of(current) < top or revision_of(current) == 0:
            current = self._promote_replicaset(deployment, current, top + 1)
        self._scale_replicasets(deployment, current, replicasets)
        self._set_deployment_revision(deployment, revision_of(current))
        self._prune_history(deployment, current, replicasets)

    def _copied_annotations(self, deployment: Mapping[str, Any]) -> dict[str, str]:
        annotations = deployment["metadata"].get("annotations") or {}
        return {k: v for k, v in annotations.items() if k not in _NOT_COPIED}

    def _create_replicaset(self, deployment: Mapping[str, Any], revision: int) -> dict[str, Any]:
        template = copy.deepcopy(deployment["spec"]["template"])
        pod_hash = template_hash(template)
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
        selector = copy.deepcopy(deployment["spec"]["selector"])
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
        replicas = desired_replicas(deployment)
        rs: dict[str, Any] = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{deployment['metadata']['name']}-{pod_hash}",
                "namespace": deployment["metadata"]["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {
                    **self._copied_annotations(deployment),
                    REVISION: str(revision),
                    DESIRED_REPLICAS: str(replicas),
                    MAX_REPLICAS: str(replicas + 1),
                },
                "ownerReferences": [owner_reference(deployment)],
            },
            "spec": {
                "replicas": 0,  # scaled up by _scale_replicasets, which also records the event
                "minReadySeconds": deployment["spec"].get("minReadySeconds", 0),
                "selector": selector,
                "template": template,
            },
        }
        try:
            return self._store.create(rs)
        except KubeError as exc:
            if exc.status != 409:
                raise
            # Hash collision with a ReplicaSet this deployment does not own: the real controller bumps
            # status.collisionCount and rehashes; a suffix serves the same purpose here.
            rs["metadata"]["name"] += f"-{self._rng.randrange(10**4)}"
            return self._store.create(rs)

    def _promote_replicaset(self, deployment: Mapping[str, Any], rs: dict[str, Any],
                            revision: int) -> dict[str, Any]:
        """Rollback to an old template: the old RS becomes the newest revision and its number vanishes."""
        annotations = rs["metadata"].setdefault("annotations", {})
        old = annotations.get(REVISION)
        if old and old != str(revision):
            history = [h for h in annotations.get(REVISION_HISTORY, "").split(",") if h]
            annotations[REVISION_HISTORY] = ",".join([*history, old])
        annotations.update(self._copied_annotations(deployment))
        annotations[REVISION] = str(revision)
        return self._store.update(rs)

    def _scale_replicasets(self, deployment: Mapping[str, Any], current: dict[str, Any],
                           replicasets: list[dict[str, Any]]) -> None:
        replicas = desired_replicas(deployment)
        for rs in replicasets:
            target = replicas if rs["metadata"]["uid"] == current["metadata"]["uid"] else 0
            latest = self._store.get("ReplicaSet", rs["metadata"]["namespace"], rs["metadata"]["name"])
            if latest is None:
                continue
            before = desired_replicas(latest)
            if before == target:
                continue
            latest["spec"]["replicas"] = target
            if target:
                annotations = latest["metadata"].setdefault("annotations", {})
                annotations[DESIRED_REPLICAS] = str(replicas)
                annotations[MAX_REPLICAS] = str(replicas + 1)
            self._store.update(latest)
            direction = "up" if target > before else "down"
            self._record_event(deployment, "ScalingReplicaSet",
                               f"Scaled {direction} replica set {latest['metadata']['name']} to {target}",
                               "deployment-controller")

    def _set_deployment_revision(self, deployment: Mapping[str, Any], revision: int) -> None:
        latest = self._store.get("Deployment", deployment["metadata"]["namespace"],
                                 deployment["metadata"]["name"])
        if latest is None:
            return
        annotations = latest["metadata"].setdefault("annotations", {})
        if annotations.get(REVISION) != str(revision):
            annotations[REVISION] = str(revision)
            self._store.update(latest)

    def _prune_history(self, deployment: Mapping[str, Any], current: Mapping[str, Any],
                       replicasets: list[dict[str, Any]]) -> None:
        limit = deployment["spec"].get("revisionHistoryLimit", 10)
        old = sorted((rs for rs in replicasets if rs["metadata"]["uid"] != current["metadata"]["uid"]),
                     key=revision_of)
        for rs in old[: max(0, len(old) - limit)]:
            latest = self._store.get("ReplicaSet", rs["metadata"]["namespace"], rs["metadata"]["name"])
            if latest is not None and desired_replicas(latest) == 0:
                self._delete(latest)

    # -- replicasets --------------------------------------------------------------------------------

    def _sync_replicaset(self, rs: dict[str, Any]) -> None:
        namespace = rs["metadata"]["namespace"]
        pods = [dict(p) for p in owned_by(self._store.list("Pod", namespace, _everything), rs)]
        wanted = desired_replicas(rs)
        if len(pods) < wanted:
            pods += [self._create_pod(rs) for _ in range(wanted - len(pods))]
        elif len(pods) > wanted:
            # Like the real controller: get rid of pods that are not ready first, then the youngest.
            pods.sort(key=lambda p: (pod_is_ready(p), p["metadata"].get("creationTimestamp", "")),
                      reverse=False)
            surplus, pods = pods[: len(pods) - wanted], pods[len(pods) - wanted:]
            for pod in surplus:
                self._delete(pod)
                self._record_event(rs, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}",
                                   "replicaset-controller")
        ready = sum(1 for p in pods if pod_is_ready(p))
        latest = self._store.get("ReplicaSet", namespace, rs["metadata"]["name"])
        if latest is None:
            return
        status: dict[str, Any] = {"replicas": len(pods)}
        for field, value in (("fullyLabeledReplicas", len(pods)), ("readyReplicas", ready),
                             ("availableReplicas", ready)):
            if value:
                status[field] = value  # omitempty on the wire, like the real apiserver
        status["observedGeneration"] = latest["metadata"].get("generation", 1)
        latest["status"] = status
        self._store.update(latest)

    def _create_pod(self, rs: Mapping[str, Any]) -> dict[str, Any]:
        self._pods_created += 1
        while True:
            pod = pod_from_replicaset(rs, self._rng, self._pods_created)
            name = pod["metadata"]["name"]
            if self._store.get("Pod", pod["metadata"]["namespace"], name) is None:
                break
        created = self._store.create(pod)
        self._record_event(rs, "SuccessfulCreate", f"Created pod: {name}", "replicaset-controller")
        self._on_pod_created(copy.deepcopy(created))
        # A hook may have changed the pod (e.g. made it crash-loop); count what is stored now.
        return self._store.get("Pod", created["metadata"]["namespace"], name) or created

    # -- deployment status --------------------------------------------------------------------------

    def _update_deployment_status(self, deployment: dict[str, Any]) -> None:
        replicasets = self._owned_replicasets(deployment)
        current = self._current_replicaset(deployment, replicasets)
        desired = desired_replicas(deployment)

        def total(field: str, sets: list[dict[str, Any]]) -> int:
            return sum(int((rs.get("status") or {}).get(field, 0)) for rs in sets)

        replicas = total("replicas", replicasets)
        updated = total("replicas", [current]) if current else 0
        ready = total("readyReplicas", replicasets)
        available = total("availableReplicas", replicasets)
        unavailable = max(0, sum(desired_replicas(rs) for rs in replicasets) - available)
        status: dict[str, Any] = {"observedGeneration": deployment["metadata"].get("generation", 1)}
        for field, value in (("replicas", replicas), ("updatedReplicas", updated), ("readyReplicas", ready),
                             ("availableReplicas", available), ("unavailableReplicas", unavailable)):
            if value:
                status[field] = value
        old_status = deployment.get("status") or {}
        previous = {c.get("type"): c for c in old_status.get("conditions") or []}
        complete = current is not None and updated == desired and replicas == updated and available >= updated
        status["conditions"] = [
            _condition(previous.get("Available"), "Available",
                       *_availability(deployment, desired, available)),
            _condition(previous.get("Progressing"), "Progressing",
                       *_progress(deployment, current, complete, previous.get("Progressing"))),
        ]
        if "collisionCount" in old_status:
            status["collisionCount"] = old_status["collisionCount"]
        latest = self._store.get("Deployment", deployment["metadata"]["namespace"],
                                 deployment["metadata"]["name"])
        if latest is not None and latest.get("status") != status:
            latest["status"] = status
            self._store.update(latest)

    def _record_event(self, obj: Mapping[str, Any], reason: str, message: str, component: str) -> None:
        at = clock.rfc3339(clock.now())
        metadata = obj["metadata"]
        self._store.create({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{metadata['name']}.{self._rng.getrandbits(64):016x}",
                         "namespace": metadata["namespace"]},
            "involvedObject": {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": metadata["name"],
                               "namespace": metadata["namespace"], "uid": metadata["uid"],
                               "resourceVersion": metadata.get("resourceVersion", "")},
            "reason": reason,
            "message": message,
            "source": {"component": component},
            "firstTimestamp": at,
            "lastTimestamp": at,
            "count": 1,
            "type": "Normal",
            "reportingComponent": component,
            "reportingInstance": "",
        })


def _controller_kind(obj: Mapping[str, Any]) -> str | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("kind"))
    return None


def _max_unavailable(deployment: Mapping[str, Any], desired: int) -> int:
    strategy = deployment["spec"].get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0
    value = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return desired * int(value[:-1]) // 100
    return int(value)


def _availability(deployment: Mapping[str, Any], desired: int, available: int) -> tuple[str, str, str]:
    if available >= desired - _max_unavailable(deployment, desired):
        return "True", "MinimumReplicasAvailable", "Deployment has minimum availability."
    return "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."


def _progress(deployment: Mapping[str, Any], current: Mapping[str, Any] | None, complete: bool,
              previous: Mapping[str, Any] | None) -> tuple[str, str, str]:
    if deployment["spec"].get("paused"):
        return "Unknown", "DeploymentPaused", "Deployment is paused"
    if current is None:
        return "True", "ReplicaSetUpdated", "Waiting for a new ReplicaSet"
    name = current["metadata"]["name"]
    if complete:
        return "True", "NewReplicaSetAvailable", f'ReplicaSet "{name}" has successfully progressed.'
    if previous is not None and previous.get("reason") == "ProgressDeadlineExceeded":
        # A stalled rollout stays failed until it completes; scenarios seed this state.
        return "False", "ProgressDeadlineExceeded", str(previous.get("message", ""))
    return "True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.'


def _condition(previous: Mapping[str, Any] | None, kind: str, status: str, reason: str,
               message: str) -> dict[str, Any]:
    at = clock.rfc3339(clock.now())
    if previous and (previous.get("status"), previous.get("reason"), previous.get("message")) == (
            status, reason, message):
        return dict(previous)  # unchanged: keep timestamps so status writes stay no-ops
    transition = at if not previous or previous.get("status") != status else previous.get(
        "lastTransitionTime", at)
    return {"type": kind, "status": status, "lastUpdateTime": at, "lastTransitionTime": transition,
            "reason": reason, "message": message}
