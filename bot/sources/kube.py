"""Kubernetes through the official client. The client is synchronous: every call runs in a worker
thread (`asyncio.to_thread`) with a request timeout, so the event loop never blocks on the API server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from bot import __version__
from bot.model import Target
from bot.sources.errors import SourceError
from bot.sources.kube_parse import (
    deployment_info,
    event_info,
    hpa_info,
    owned_objects,
    parse_timestamped,
    pod_info,
    pod_usage,
    revision_info,
    service_endpoints,
)
from bot.sources.records import (
    DeploymentInfo,
    EventInfo,
    HpaInfo,
    LogLine,
    PodInfo,
    PodUsage,
    RevisionInfo,
    ServiceEndpoints,
)

SOURCE = "kubernetes"
# Every request the bot sends names it: API server audit logs (and the RBAC test's request log) tell the
# bot's calls from kubectl's or a test's own.
USER_AGENT = f"opsbot/{__version__}"
T = TypeVar("T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def build_api_client(kubeconfig: str | None) -> client.ApiClient:
    """From a kubeconfig file when given, else the in-cluster service account."""
    try:
        if kubeconfig:
            api: client.ApiClient = config.new_client_from_config(config_file=kubeconfig)  # type: ignore[no-untyped-call]
        else:
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            api = client.ApiClient(configuration)
    except (config.ConfigException, OSError) as exc:
        where = f"the kubeconfig {kubeconfig}" if kubeconfig else "in-cluster credentials (KUBECONFIG is not set)"
        raise SourceError(SOURCE, f"cannot load {where}: {exc}") from exc
    api.user_agent = USER_AGENT
    return api


class KubeSource:
    def __init__(self, api_client: client.ApiClient, timeout_s: float = 5.0, max_parallel: int = 8) -> None:
        self._api = api_client
        self._apps = client.AppsV1Api(api_client)
        self._core = client.CoreV1Api(api_client)
        self._autoscaling = client.AutoscalingV2Api(api_client)
        self._custom = client.CustomObjectsApi(api_client)
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
                raise SourceError(SOURCE, f"{what}: HTTP {exc.status} {exc.reason}", exc.status) from exc
            except urllib3.exceptions.HTTPError as exc:
                raise SourceError(SOURCE, f"{what}: API server unreachable ({type(exc).__name__})") from exc

    async def deployment(self, target: Target) -> DeploymentInfo:
        dep = await self._call(
            f"read deployment {target.deployment}",
            self._apps.read_namespaced_deployment,
            target.deployment,
            target.namespace,
        )
        return deployment_info(dep)

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
        found = (revision_info(rs, deployment.uid) for rs in sets.items)
        history = [info for info in found if info is not None]
        return sorted(history, key=lambda r: r.revision)

    async def pods(self, target: Target) -> list[PodInfo]:
        result = await self._call(
            f"list pods {target.selector}",
            self._core.list_namespaced_pod,
            target.namespace,
            label_selector=target.selector,
        )
        return [pod_info(pod) for pod in result.items]

    async def pods_matching(self, namespace: str, selector: str) -> list[PodInfo]:
        """Pods of anything, not only a configured service (CoreDNS in kube-system, say).

        `selector` must come from configuration or a constant, never from chat text."""
        result = await self._call(
            f"list pods {selector} in {namespace}",
            self._core.list_namespaced_pod,
            namespace,
            label_selector=selector,
        )
        return [pod_info(pod) for pod in result.items]

    async def pod_log(
        self, namespace: str, pod: str, container: str, tail_lines: int, *, previous: bool = False,
        timestamps: bool = False,
    ) -> list[LogLine]:
        """`kubectl logs POD -c C --tail N [--previous] [--timestamps]`. With timestamps, each line's runtime
        timestamp is split off into `LogLine.ts` and `text` keeps what the container wrote."""
        what = f"read {'previous ' if previous else ''}log of {pod}/{container}"
        text = await self._call(
            what,
            self._core.read_namespaced_pod_log,
            pod,
            namespace,
            container=container,
            tail_lines=tail_lines,
            previous=previous,
            timestamps=timestamps,
        )
        lines = str(text).splitlines()
        if not timestamps:
            return [LogLine(pod=pod, container=container, text=line, previous=previous) for line in lines]
        parsed = (parse_timestamped(line) for line in lines)
        return [LogLine(pod=pod, container=container, text=body, ts=ts, previous=previous) for ts, body in parsed]

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

    async def events(self, target: Target) -> list[EventInfo]:
        """Events about the deployment, its ReplicaSets and its pods (also pods already gone: an OOMKilled
        pod that was replaced still explains the restart), newest first. The server cannot sort or filter
        by time (kubernetes-wire.md), so both happen here.

        Ownership is followed by UID, as the controllers record it: the deployment, the ReplicaSets it
        controls, the pods they control. A name pattern would also take a sibling's (`api` and
        `api-gateway`). A pod that is gone can only be known by name: its name begins with an owned
        ReplicaSet's name and a dash."""
        deployment = await self.deployment(target)
        selector = ",".join(f"{k}={v}" for k, v in sorted(deployment.match_labels.items()))
        sets, pods, result = await asyncio.gather(
            self._call(f"list replicasets of {deployment.name}", self._apps.list_namespaced_replica_set,
                       target.namespace, label_selector=selector),
            self._call(f"list pods of {deployment.name}", self._core.list_namespaced_pod,
                       target.namespace, label_selector=selector),
            self._call(f"list events in {target.namespace}", self._core.list_namespaced_event, target.namespace),
        )
        owned = owned_objects(deployment.uid, sets.items, pods.items)
        found = [event_info(e) for e in result.items if owned.involves(e.involved_object)]
        return sorted(found, key=lambda e: e.last_seen or e.first_seen or _EPOCH, reverse=True)

    async def pod_usage(self, namespace: str, selector: str) -> list[PodUsage]:
        """`kubectl top pods -l SELECTOR`: metrics.k8s.io PodMetrics. A 404 means no metrics-server."""
        try:
            body: Any = await self._call(
                f"read pod metrics {selector}",
                self._custom.list_namespaced_custom_object,
                "metrics.k8s.io",
                "v1beta1",
                namespace,
                "pods",
                label_selector=selector,
            )
        except SourceError as exc:
            if exc.status == 404:
                raise SourceError(SOURCE, "metrics.k8s.io is not available (is metrics-server installed?)") from exc
            raise
        return [pod_usage(item) for item in body.get("items", [])]

    async def hpa(self, target: Target) -> HpaInfo | None:
        """The HorizontalPodAutoscaler (autoscaling/v2) whose scale target is the deployment, if any."""
        result = await self._call(
            f"list horizontalpodautoscalers in {target.namespace}",
            self._autoscaling.list_namespaced_horizontal_pod_autoscaler,
            target.namespace,
        )
        for item in result.items:
            ref = item.spec.scale_target_ref
            if ref.kind == "Deployment" and ref.name == target.deployment:
                return hpa_info(item)
        return None

    async def service_endpoints(self, namespace: str, name: str) -> ServiceEndpoints:
        """The Service NAME and its Endpoints; `exists=False` when there is no such Service."""
        try:
            service = await self._call(f"read service {name}", self._core.read_namespaced_service, name, namespace)
        except SourceError as exc:
            if exc.status == 404:
                return ServiceEndpoints(name=name, namespace=namespace, exists=False)
            raise
        try:
            endpoints = await self._call(
                f"read endpoints {name}", self._core.read_namespaced_endpoints, name, namespace
            )
        except SourceError as exc:
            if exc.status != 404:
                raise
            endpoints = None
        return service_endpoints(service, endpoints)

    async def server_time(self) -> datetime:
        """The API server's clock: the HTTP `Date` header of a `GET /version` (whole seconds, truncated)."""
        version = client.VersionApi(self._api)
        reply: Any = await self._call("read the API server's clock", version.get_code_with_http_info)
        headers = reply[2] if isinstance(reply, tuple) else reply.headers
        stamp = (headers or {}).get("Date")
        try:
            return parsedate_to_datetime(str(stamp)).astimezone(UTC)
        except (TypeError, ValueError) as exc:
            raise SourceError(SOURCE, f"the API server's reply has no usable Date header ({stamp!r})") from exc

    async def ping(self) -> bool:
        try:
            await self._call("version", client.VersionApi(self._api).get_code)
        except SourceError:
            return False
        return True



