"""Kubernetes writes for the remediations: scale, restart, undo, delete pod, env and memory patches,
replica changes recorded in annotations, and the maintenance-mode ConfigMap.

Every write takes `dry_run`: True sends the API server's server-side dry run (`dryRun=All`), which runs
admission and validation and answers with the object as it would be, changing nothing; previews use it.
Requests follow kubectl's (see reference/kubernetes-wire.md); kubectl's client-side undo logic is in
`kube_undo`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from bot.model import Target
from bot.sources.admin_records import (
    ConfigMapView,
    ContainerSpec,
    DeploymentSpecView,
    ReplicaSetRevision,
    UndoResult,
)
from bot.sources.errors import SourceError
from bot.sources.kube import KubeSource
from bot.sources.kube_parse import owned_objects, pod_info
from bot.sources.kube_undo import RESTARTED_AT, choose_revision, templates_equal, undo_annotations, undo_patch
from bot.sources.records import HpaInfo, PodInfo

SOURCE = "kubernetes"
FIELD_MANAGER = "opsbot"
REVISION = "deployment.kubernetes.io/revision"
APPLY = "application/apply-patch+yaml"
JSON_PATCH = "application/json-patch+json"
T = TypeVar("T")


class NotFound(SourceError):
    """The object is not there (HTTP 404): a pod already gone, no maintenance ConfigMap, no revision."""


class KubeWriter:
    def __init__(self, api_client: client.ApiClient, timeout_s: float = 10.0) -> None:
        self._api = api_client
        self._apps = client.AppsV1Api(api_client)
        self._core = client.CoreV1Api(api_client)
        self._timeout = (min(timeout_s, 3.0), timeout_s)
        self._reader = KubeSource(api_client, timeout_s=timeout_s)  # the diagnosis reads, reused

    async def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        kwargs["_request_timeout"] = self._timeout
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except ApiException as exc:
            error = NotFound if exc.status == 404 else SourceError
            raise error(SOURCE, f"{what}: HTTP {exc.status} {exc.reason}{_status_message(exc)}", exc.status) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise SourceError(SOURCE, f"{what}: API server unreachable ({type(exc).__name__})") from exc

    def _wire(self, obj: Any) -> dict[str, Any]:
        wire = self._api.sanitize_for_serialization(obj)  # type: ignore[no-untyped-call]
        assert isinstance(wire, dict)
        return wire

    # -- deployments -------------------------------------------------------------------------------

    async def deployment(self, target: Target) -> DeploymentSpecView:
        dep = await self._call(f"read deployment {target.deployment}", self._apps.read_namespaced_deployment,
                               target.deployment, target.namespace)
        return _deployment_view(self._wire(dep))

    async def scale(self, target: Target, replicas: int, *, dry_run: bool) -> int:
        """kubectl scale: the scale subresource. Returns the replicas the server accepted."""
        scale: Any = await self._call(
            f"scale deployment {target.deployment}", self._apps.patch_namespaced_deployment_scale,
            target.deployment, target.namespace, {"spec": {"replicas": replicas}},
            field_manager=FIELD_MANAGER, **_dry(dry_run),
        )
        return int(scale.spec.replicas)

    async def set_replicas(self, target: Target, replicas: int, annotations: Mapping[str, str | None], *,
                           expect_version: str, dry_run: bool) -> DeploymentSpecView:
        """Replicas and annotations in one patch, so the record of the previous count and the change to
        it can never be half applied (scale-to-zero / restore-replicas)."""
        body = {"metadata": _recorded(annotations, expect_version), "spec": {"replicas": replicas}}
        return await self._patch_deployment(target, body, f"set replicas of {target.deployment}", dry_run)

    async def restart(self, target: Target, restarted_at: str, *, dry_run: bool) -> DeploymentSpecView:
        """kubectl rollout restart: stamp the pod template, which rolls every pod."""
        body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: restarted_at}}}}}
        return await self._patch_deployment(target, body, f"restart deployment {target.deployment}", dry_run)

    async def set_env(self, target: Target, container: str, name: str, value: str | None,
                      annotations: Mapping[str, str | None], *, expect_version: str,
                      dry_run: bool) -> DeploymentSpecView:
        """kubectl set env for one container (strategic merge by container and variable name); a None
        value removes the variable. The annotations are written in the same patch."""
        item: dict[str, Any] = {"name": name, "value": value} if value is not None else {"name": name,
                                                                                         "$patch": "delete"}
        body = {
            "metadata": _recorded(annotations, expect_version),
            "spec": {"template": {"spec": {"containers": [{"name": container, "env": [item]}]}}},
        }
        return await self._patch_deployment(target, body, f"set env on {target.deployment}", dry_run)

    async def set_memory_limit(self, target: Target, container: str, limit: str | None,
                               annotations: Mapping[str, str | None], *, expect_version: str,
                               dry_run: bool) -> DeploymentSpecView:
        """The container's memory limit (None removes it), annotations in the same patch."""
        body = {
            "metadata": _recorded(annotations, expect_version),
            "spec": {"template": {"spec": {"containers": [
                {"name": container, "resources": {"limits": {"memory": limit}}},
            ]}}},
        }
        return await self._patch_deployment(target, body, f"set memory limit on {target.deployment}", dry_run)

    async def _patch_deployment(self, target: Target, body: dict[str, Any], what: str,
                                dry_run: bool) -> DeploymentSpecView:
        dep = await self._call(what, self._apps.patch_namespaced_deployment, target.deployment, target.namespace,
                               body, field_manager=FIELD_MANAGER, **_dry(dry_run))
        return _deployment_view(self._wire(dep))

    async def history(self, deployment: DeploymentSpecView, selector: str) -> list[ReplicaSetRevision]:
        """kubectl rollout history: ReplicaSets of the selector controlled by this deployment, by revision."""
        sets = await self._call(f"list replicasets of {deployment.name}", self._apps.list_namespaced_replica_set,
                                deployment.namespace, label_selector=selector)
        revisions = (_revision(self._wire(rs), deployment.uid) for rs in sets.items)
        return sorted((r for r in revisions if r is not None), key=lambda r: r.revision)

    async def undo(self, target: Target, to_revision: int | None, *, dry_run: bool) -> UndoResult:
        """kubectl rollout undo [--to-revision=N]: the chosen ReplicaSet's template (minus its
        pod-template-hash) and annotations patched back in; the controller then renumbers it."""
        deployment = await self.deployment(target)
        history = await self.history(deployment, _match_selector(deployment))
        chosen = choose_revision(history, to_revision, deployment.name, deployment.revision)
        result = UndoResult(
            from_revision=deployment.revision, to_revision=chosen.revision, replicaset=chosen.name,
            images_before=tuple(c.image for c in deployment.containers), images_after=chosen.images,
            skipped=templates_equal(chosen.template, deployment.template),
        )
        if result.skipped:
            return result
        patch = undo_patch(chosen.template, undo_annotations(deployment.annotations, chosen.annotations))
        await self._call(
            f"undo deployment {target.deployment}", self._apps.patch_namespaced_deployment,
            target.deployment, target.namespace, patch, field_manager=FIELD_MANAGER,
            _content_type=JSON_PATCH, **_dry(dry_run),
        )
        return result

    async def hpa(self, target: Target) -> HpaInfo | None:
        """The autoscaler that would move a manual scale back into its range; None without one (or on a
        server without autoscaling/v2)."""
        try:
            return await self._reader.hpa(target)
        except SourceError as exc:
            if exc.status == 404:
                return None
            raise

    # -- pods ----------------------------------------------------------------------------------------

    async def owned_pods(self, deployment: DeploymentSpecView) -> dict[str, str]:
        """The pods the deployment controls through its ReplicaSets (ownerReferences, by UID), name -> UID.
        A pod that only matches the selector (an orphan, someone's debug copy) is not among them."""
        return {pod.name: pod.uid for pod in await self.controlled_pods(deployment)}

    async def controlled_pods(self, deployment: DeploymentSpecView) -> list[PodInfo]:
        """The same pods as `owned_pods`, read in full (phase, readiness, container env): what an action's
        own verification counts (pods left after scale-to-zero, pods running with debug logging)."""
        selector = _match_selector(deployment)
        sets, pods = await asyncio.gather(
            self._call(f"list replicasets of {deployment.name}", self._apps.list_namespaced_replica_set,
                       deployment.namespace, label_selector=selector),
            self._call(f"list pods of {deployment.name}", self._core.list_namespaced_pod,
                       deployment.namespace, label_selector=selector),
        )
        owned = owned_objects(deployment.uid, sets.items, pods.items)
        return [pod_info(p) for p in pods.items if p.metadata is not None and str(p.metadata.uid) in owned.uids]

    async def delete_pod(self, namespace: str, pod: str, *, uid: str | None = None, dry_run: bool) -> None:
        """kubectl delete pod (grace period 30 s, background propagation); the ReplicaSet replaces it. With
        `uid`, the server deletes only that very pod (409 Conflict if the name now holds another one)."""
        options = client.V1DeleteOptions(preconditions=client.V1Preconditions(uid=uid)) if uid else None
        await self._call(f"delete pod {pod}", self._core.delete_namespaced_pod, pod, namespace, body=options,
                         grace_period_seconds=30, propagation_policy="Background", **_dry(dry_run))

    # -- config maps (maintenance mode) ------------------------------------------------------------

    async def config_map(self, namespace: str, name: str) -> ConfigMapView | None:
        try:
            cm = await self._call(f"read configmap {name}", self._core.read_namespaced_config_map, name, namespace)
        except NotFound:
            return None
        return _config_map_view(self._wire(cm))

    async def apply_config_map(self, namespace: str, manifest: Mapping[str, Any], *,
                               dry_run: bool) -> ConfigMapView:
        """kubectl apply --server-side of one ConfigMap manifest (created when absent)."""
        body = {**manifest, "metadata": {**manifest["metadata"], "namespace": namespace}}
        name = str(body["metadata"]["name"])
        cm = await self._call(f"apply configmap {name}", self._core.patch_namespaced_config_map, name, namespace,
                              body, field_manager=FIELD_MANAGER, force=True, _content_type=APPLY,
                              **_dry(dry_run))
        return _config_map_view(self._wire(cm))

    async def delete_config_map(self, namespace: str, name: str, *, dry_run: bool) -> bool:
        """Delete it; False when it was already gone (so removing twice is not an error)."""
        try:
            await self._call(f"delete configmap {name}", self._core.delete_namespaced_config_map, name, namespace,
                             **_dry(dry_run))
        except NotFound:
            return False
        return True


def _recorded(annotations: Mapping[str, str | None], expect_version: str) -> dict[str, Any]:
    """Metadata for a patch that records a value to restore later. The resourceVersion makes the patch
    conditional (409 Conflict if the deployment changed since it was read), so what is recorded is
    what is actually being replaced."""
    metadata: dict[str, Any] = {"annotations": dict(annotations)}
    if expect_version:
        metadata["resourceVersion"] = expect_version
    return metadata


def _dry(dry_run: bool) -> dict[str, str]:
    return {"dry_run": "All"} if dry_run else {}


def _status_message(exc: ApiException) -> str:
    """The apiserver's own explanation (Status.message) when it sent one; bodies never carry secrets here."""
    try:
        message = json.loads(exc.body or "{}").get("message")
    except (ValueError, AttributeError):
        return ""
    return f": {str(message)[:300]}" if message else ""


def _match_selector(deployment: DeploymentSpecView) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(deployment.match_labels.items()))


def _deployment_view(wire: Mapping[str, Any]) -> DeploymentSpecView:
    meta, spec, status = wire["metadata"], wire.get("spec", {}), wire.get("status") or {}
    annotations = dict(meta.get("annotations") or {})
    template = spec.get("template", {})
    conditions = status.get("conditions") or []
    return DeploymentSpecView(
        name=meta["name"],
        namespace=meta["namespace"],
        uid=meta.get("uid", ""),
        generation=int(meta.get("generation") or 0),
        observed_generation=int(status.get("observedGeneration") or 0),
        revision=int(annotations[REVISION]) if REVISION in annotations else None,
        replicas=int(spec.get("replicas", 1)),
        paused=bool(spec.get("paused")),
        annotations=annotations,
        containers=tuple(_container(c) for c in template.get("spec", {}).get("containers", [])),
        template=template,
        match_labels=dict((spec.get("selector") or {}).get("matchLabels") or {}),
        resource_version=str(meta.get("resourceVersion", "")),
        updated_replicas=int(status.get("updatedReplicas") or 0),
        status_replicas=int(status.get("replicas") or 0),
        available_replicas=int(status.get("availableReplicas") or 0),
        progress_deadline_exceeded=any(
            c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded" for c in conditions
        ),
    )


def _container(wire: Mapping[str, Any]) -> ContainerSpec:
    resources = wire.get("resources") or {}
    return ContainerSpec(
        name=wire["name"],
        image=wire.get("image", ""),
        env={e["name"]: e.get("value", "") for e in wire.get("env") or [] if "valueFrom" not in e},
        memory_limit=(resources.get("limits") or {}).get("memory"),
        memory_request=(resources.get("requests") or {}).get("memory"),
        env_refs=frozenset(e["name"] for e in wire.get("env") or [] if "valueFrom" in e),
    )


def _revision(wire: Mapping[str, Any], deployment_uid: str) -> ReplicaSetRevision | None:
    meta = wire["metadata"]
    owners = meta.get("ownerReferences") or []
    if not any(o.get("controller") and o.get("uid") == deployment_uid for o in owners):
        return None
    annotations = dict(meta.get("annotations") or {})
    if REVISION not in annotations:
        return None
    template = wire.get("spec", {}).get("template", {})
    return ReplicaSetRevision(
        revision=int(annotations[REVISION]),
        name=meta["name"],
        annotations=annotations,
        template=template,
        images=tuple(c.get("image", "") for c in template.get("spec", {}).get("containers", [])),
    )


def _config_map_view(wire: Mapping[str, Any]) -> ConfigMapView:
    meta = wire["metadata"]
    return ConfigMapView(name=meta["name"], namespace=meta["namespace"],
                         resource_version=str(meta.get("resourceVersion", "")), data=dict(wire.get("data") or {}))
