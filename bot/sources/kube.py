"""Kubernetes through the official client. The client is synchronous: every call runs in a worker
thread (`asyncio.to_thread`) with a request timeout, so the event loop never blocks on the API server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from bot.model import Target
from bot.sources.errors import SourceError
from bot.sources.records import ContainerState, DeploymentInfo, LogLine, PodInfo, RevisionInfo

SOURCE = "kubernetes"
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
T = TypeVar("T")


def build_api_client(kubeconfig: str | None) -> client.ApiClient:
    """From a kubeconfig file when given, else the in-cluster service account."""
    if kubeconfig:
        api: client.ApiClient = config.new_client_from_config(config_file=kubeconfig)  # type: ignore[no-untyped-call]
        return api
    configuration = client.Configuration()
    config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    return client.ApiClient(configuration)


class KubeSource:
    def __init__(self, api_client: client.ApiClient, timeout_s: float = 5.0, max_parallel: int = 8) -> None:
        self._api = api_client
        self._apps = client.AppsV1Api(api_client)
        self._core = client.CoreV1Api(api_client)
        self._timeout = (min(timeout_s, 3.0), timeout_s)
        self._parallel = asyncio.Semaphore(max_parallel)

    def close(self) -> None:
        self._api.close()  # type: ignore[no-untyped-call]

    async def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        kwargs["_request_timeout"] = self._timeout
        async with self._parallel:
            try:
                return await asyncio.to_thread(fn, *args, **kwargs)
            except ApiException as exc:
                raise SourceError(SOURCE, f"{what}: HTTP {exc.status} {exc.reason}") from exc
            except urllib3.exceptions.HTTPError as exc:
                raise SourceError(SOURCE, f"{what}: API server unreachable ({type(exc).__name__})") from exc

    async def deployment(self, target: Target) -> DeploymentInfo:
        dep = await self._call(
            f"read deployment {target.deployment}",
            self._apps.read_namespaced_deployment,
            target.deployment,
            target.namespace,
        )
        return _deployment_info(dep)

    async def rollout_history(self, deployment: DeploymentInfo) -> list[RevisionInfo]:
        """kubectl's history: ReplicaSets matching the selector and controlled by this deployment's uid.

        Takes the deployment already read, so a check that needs both costs one read of it, not two."""
        selector = ",".join(f"{k}={v}" for k, v in sorted(deployment.match_labels.items()))
        sets: Any = await self._call(
            f"list replicasets of {deployment.name}",
            self._apps.list_namespaced_replica_set,
            deployment.namespace,
            label_selector=selector,
        )
        found = (_revision_info(rs, deployment.uid) for rs in sets.items)
        history = [info for info in found if info is not None]
        return sorted(history, key=lambda r: r.revision)

    async def pods(self, target: Target) -> list[PodInfo]:
        result = await self._call(
            f"list pods {target.selector}",
            self._core.list_namespaced_pod,
            target.namespace,
            label_selector=target.selector,
        )
        return [_pod_info(pod) for pod in result.items]

    async def pod_log(
        self, namespace: str, pod: str, container: str, tail_lines: int, previous: bool = False
    ) -> list[LogLine]:
        text = await self._call(
            f"read log of {pod}/{container}",
            self._core.read_namespaced_pod_log,
            pod,
            namespace,
            container=container,
            tail_lines=tail_lines,
            previous=previous,
        )
        return [LogLine(pod=pod, container=container, text=line) for line in str(text).splitlines()]

    async def recent_logs(self, target: Target, tail_lines: int) -> tuple[list[LogLine], list[str]]:
        """The last `tail_lines` of every container of the service's pods (kubectl logs -l ... --tail).

        Returns the lines and the pods whose logs could not be read, so a partial answer is still said.
        """
        pods = await self.pods(target)
        jobs = [
            (pod.name, c.name, self.pod_log(target.namespace, pod.name, c.name, tail_lines))
            for pod in pods
            for c in pod.containers
        ]
        results = await asyncio.gather(*(job for _, _, job in jobs), return_exceptions=True)
        lines: list[LogLine] = []
        failed: list[str] = []
        for (pod_name, container, _), result in zip(jobs, results, strict=True):
            if isinstance(result, SourceError):
                failed.append(f"{pod_name}/{container}")
            elif isinstance(result, BaseException):
                raise result
            else:
                lines.extend(result)
        return lines, failed

    async def ping(self) -> bool:
        try:
            await self._call("version", client.VersionApi(self._api).get_code)
        except SourceError:
            return False
        return True


def _revision_info(rs: Any, deployment_uid: str) -> RevisionInfo | None:
    owners = rs.metadata.owner_references or []
    if not any(o.controller and o.uid == deployment_uid for o in owners):
        return None
    annotations = rs.metadata.annotations or {}
    if REVISION not in annotations:
        return None
    return RevisionInfo(
        revision=int(annotations[REVISION]),
        replicaset=rs.metadata.name,
        images=tuple(c.image for c in rs.spec.template.spec.containers),
        change_cause=annotations.get(CHANGE_CAUSE),
        created=rs.metadata.creation_timestamp,
        replicas=(rs.status.replicas or 0) if rs.status else 0,
    )


def _deployment_info(dep: Any) -> DeploymentInfo:
    meta, spec, status = dep.metadata, dep.spec, dep.status
    annotations = meta.annotations or {}
    labels = spec.template.metadata.labels or {} if spec.template.metadata else {}
    return DeploymentInfo(
        name=meta.name,
        namespace=meta.namespace,
        uid=meta.uid,
        generation=meta.generation or 0,
        observed_generation=(status.observed_generation or 0) if status else 0,
        revision=int(annotations[REVISION]) if REVISION in annotations else None,
        replicas=spec.replicas if spec.replicas is not None else 1,
        ready_replicas=(status.ready_replicas or 0) if status else 0,
        available_replicas=(status.available_replicas or 0) if status else 0,
        updated_replicas=(status.updated_replicas or 0) if status else 0,
        images=tuple(c.image for c in spec.template.spec.containers),
        paused=bool(spec.paused),
        version=labels.get("app.kubernetes.io/version") or labels.get("version"),
        conditions=tuple(
            (c.type, c.status, c.reason or "") for c in ((status.conditions or []) if status else [])
        ),
        match_labels=dict(spec.selector.match_labels or {}),
    )


def _pod_info(pod: Any) -> PodInfo:
    statuses = {s.name: s for s in (pod.status.container_statuses or [])} if pod.status else {}
    containers = []
    for container in pod.spec.containers:
        st = statuses.get(container.name)
        waiting = st.state.waiting.reason if st and st.state and st.state.waiting else None
        last = st.last_state.terminated if st and st.last_state and st.last_state.terminated else None
        containers.append(
            ContainerState(
                name=container.name,
                ready=bool(st.ready) if st else False,
                restart_count=st.restart_count if st else 0,
                waiting_reason=waiting,
                last_terminated_reason=last.reason if last else None,
                last_exit_code=last.exit_code if last else None,
                last_finished_at=last.finished_at if last else None,
            )
        )
    conditions = (pod.status.conditions or []) if pod.status else []
    ready = any(c.type == "Ready" and c.status == "True" for c in conditions)
    created: datetime | None = pod.metadata.creation_timestamp
    return PodInfo(
        name=pod.metadata.name,
        phase=(pod.status.phase or "Unknown") if pod.status else "Unknown",
        ready=ready,
        created=created,
        images=tuple(c.image for c in pod.spec.containers),
        containers=tuple(containers),
        node=pod.spec.node_name,
        labels=dict(pod.metadata.labels or {}),
    )
