"""Client models -> the small records checks use. Pure functions; all quantity parsing goes through the
client's own `parse_quantity`, so "250m", "1.5", "512Mi" and "12345678n" mean what the API server means."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from kubernetes.utils import parse_quantity

from bot.sources.records import (
    ContainerSpec,
    ContainerState,
    ContainerUsage,
    DeploymentInfo,
    EndpointAddress,
    EventInfo,
    HpaInfo,
    PodInfo,
    PodUsage,
    ProbeSpec,
    RevisionInfo,
    ServiceEndpoints,
)

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
OPSBOT_PREFIX = "opsbot.io/"  # the annotations opsbot writes on deployments


def quantity(value: object) -> Decimal | None:
    """A resource quantity, or None when absent or unparseable (a bad value must not sink the check)."""
    if value is None:
        return None
    try:
        return Decimal(parse_quantity(value))  # type: ignore[no-untyped-call]
    except ValueError:
        return None


def _cores(value: object) -> float | None:
    q = quantity(value)
    return float(q) if q is not None else None


def _bytes(value: object) -> int | None:
    q = quantity(value)
    return int(q) if q is not None else None


def parse_time(text: str) -> datetime | None:
    """RFC 3339 with optional fraction (up to nanoseconds, which `fromisoformat` cannot take) and Z."""
    head, _, frac = text.rstrip("Z").partition(".")
    try:
        moment = datetime.fromisoformat(head + (f".{frac[:6]}" if frac else "") + "+00:00")
    except ValueError:
        return None
    return moment


def parse_timestamped(line: str) -> tuple[datetime | None, str]:
    """Split a `--timestamps` log line into the runtime timestamp and what the container wrote."""
    stamp, sep, body = line.partition(" ")
    moment = parse_time(stamp) if sep else None
    return (moment, body) if moment is not None else (None, line)


def revision_info(rs: Any, deployment_uid: str) -> RevisionInfo | None:
    """kubectl's history filter: controlled by this deployment's uid and carrying a revision."""
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


def deployment_info(dep: Any) -> DeploymentInfo:
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
        opsbot_records={k: v for k, v in annotations.items() if k.startswith(OPSBOT_PREFIX)},
    )


def _probe(kind: str, probe: Any) -> ProbeSpec | None:
    if probe is None:
        return None
    if probe.http_get is not None:
        handler = f"GET {probe.http_get.path or '/'} :{probe.http_get.port}"
    elif probe.tcp_socket is not None:
        handler = f"tcp :{probe.tcp_socket.port}"
    elif probe.grpc is not None:
        handler = f"grpc :{probe.grpc.port}"
    else:
        handler = "exec"
    # The API server's defaults, so a probe that leaves them out still reads as what actually runs.
    return ProbeSpec(
        kind=kind,
        handler=handler,
        initial_delay_s=probe.initial_delay_seconds or 0,
        period_s=probe.period_seconds or 10,
        timeout_s=probe.timeout_seconds or 1,
        failure_threshold=probe.failure_threshold or 3,
    )


def container_spec(container: Any) -> ContainerSpec:
    resources = container.resources
    requests = (resources.requests or {}) if resources else {}
    limits = (resources.limits or {}) if resources else {}
    probes = (
        _probe("startup", container.startup_probe),
        _probe("liveness", container.liveness_probe),
        _probe("readiness", container.readiness_probe),
    )
    return ContainerSpec(
        name=container.name,
        image=container.image or "",
        cpu_request=_cores(requests.get("cpu")),
        cpu_limit=_cores(limits.get("cpu")),
        memory_request=_bytes(requests.get("memory")),
        memory_limit=_bytes(limits.get("memory")),
        probes=tuple(p for p in probes if p is not None),
        env={e.name: e.value for e in (container.env or []) if e.value is not None},
    )


def _container_state(name: str, st: Any) -> ContainerState:
    if st is None:
        return ContainerState(name=name, ready=False, restart_count=0)
    waiting = st.state.waiting if st.state else None
    running = st.state.running if st.state else None
    last = st.last_state.terminated if st.last_state and st.last_state.terminated else None
    return ContainerState(
        name=name,
        ready=bool(st.ready),
        restart_count=st.restart_count or 0,
        waiting_reason=waiting.reason if waiting else None,
        waiting_message=waiting.message if waiting else None,
        started_at=running.started_at if running else None,
        last_terminated_reason=last.reason if last else None,
        last_exit_code=last.exit_code if last else None,
        last_finished_at=last.finished_at if last else None,
        last_started_at=last.started_at if last else None,
        last_message=last.message if last else None,
        image_id=st.image_id or "",
    )


def pod_info(pod: Any) -> PodInfo:
    status = pod.status
    statuses = {s.name: s for s in (status.container_statuses or [])} if status else {}
    conditions = (status.conditions or []) if status else []
    return PodInfo(
        name=pod.metadata.name,
        phase=(status.phase or "Unknown") if status else "Unknown",
        ready=any(c.type == "Ready" and c.status == "True" for c in conditions),
        created=pod.metadata.creation_timestamp,
        images=tuple(c.image for c in pod.spec.containers),
        containers=tuple(_container_state(c.name, statuses.get(c.name)) for c in pod.spec.containers),
        node=pod.spec.node_name,
        labels=dict(pod.metadata.labels or {}),
        namespace=pod.metadata.namespace or "",
        uid=pod.metadata.uid or "",
        started=status.start_time if status else None,
        specs=tuple(container_spec(c) for c in pod.spec.containers),
        conditions=tuple((c.type, c.status, c.reason or "") for c in conditions),
    )


@dataclass(frozen=True)
class OwnedObjects:
    """What a deployment owns, by UID: itself, the ReplicaSets it controls and the pods they control."""

    uids: frozenset[str]
    replicaset_names: tuple[str, ...]

    def involves(self, obj: Any) -> bool:
        """Whether an event's involvedObject is one of them; a pod already gone (its UID no longer listed)
        counts when its name is an owned ReplicaSet's name plus a dash and a suffix."""
        if obj is None:
            return False
        if obj.uid and obj.uid in self.uids:
            return True
        name = obj.name or ""
        return obj.kind == "Pod" and any(name.startswith(f"{rs}-") for rs in self.replicaset_names)


def owned_objects(deployment_uid: str, replicasets: list[Any], pods: list[Any]) -> OwnedObjects:
    owned_sets = [rs for rs in replicasets if _controlled_by(rs, {deployment_uid})]
    set_uids = {rs.metadata.uid for rs in owned_sets}
    pod_uids = {pod.metadata.uid for pod in pods if _controlled_by(pod, set_uids)}
    return OwnedObjects(frozenset({deployment_uid, *set_uids, *pod_uids}),
                        tuple(rs.metadata.name for rs in owned_sets))


def _controlled_by(obj: Any, owner_uids: set[str]) -> bool:
    return any(o.controller and o.uid in owner_uids for o in obj.metadata.owner_references or [])


def event_info(event: Any) -> EventInfo:
    obj = event.involved_object
    last = event.last_timestamp or (event.series.last_observed_time if event.series else None) or event.event_time
    return EventInfo(
        kind=obj.kind or "",
        name=obj.name or "",
        type=event.type or "Normal",
        reason=event.reason or "",
        message=event.message or "",
        count=event.count or 1,
        first_seen=event.first_timestamp or event.event_time,
        last_seen=last,
    )


def pod_usage(item: dict[str, Any]) -> PodUsage:
    """One PodMetrics item (a plain dict: the metrics API is read through CustomObjectsApi)."""
    stamp = item.get("timestamp")
    return PodUsage(
        pod=str(item.get("metadata", {}).get("name", "")),
        timestamp=parse_time(stamp) if isinstance(stamp, str) else None,
        containers=tuple(
            ContainerUsage(
                name=str(c.get("name", "")),
                cpu=_cores(c.get("usage", {}).get("cpu")) or 0.0,
                memory=_bytes(c.get("usage", {}).get("memory")) or 0,
            )
            for c in item.get("containers", [])
        ),
    )


def hpa_info(hpa: Any) -> HpaInfo:
    spec, status = hpa.spec, hpa.status
    target_cpu = next(
        (m.resource.target.average_utilization for m in (spec.metrics or [])
         if m.type == "Resource" and m.resource and m.resource.name == "cpu"),
        None,
    )
    current_cpu = next(
        (m.resource.current.average_utilization for m in ((status.current_metrics or []) if status else [])
         if m.type == "Resource" and m.resource and m.resource.name == "cpu"),
        None,
    )
    return HpaInfo(
        name=hpa.metadata.name,
        min_replicas=spec.min_replicas or 1,
        max_replicas=spec.max_replicas,
        current_replicas=(status.current_replicas or 0) if status else 0,
        desired_replicas=(status.desired_replicas or 0) if status else 0,
        target_cpu_utilization=target_cpu,
        current_cpu_utilization=current_cpu,
        conditions=tuple(
            (c.type, c.status, c.reason or "", c.message or "") for c in ((status.conditions or []) if status else [])
        ),
    )


def service_endpoints(service: Any, endpoints: Any | None) -> ServiceEndpoints:
    addresses: list[EndpointAddress] = []
    for subset in (endpoints.subsets or []) if endpoints is not None else []:
        for address, ready in [(a, True) for a in subset.addresses or []] + [
            (a, False) for a in subset.not_ready_addresses or []
        ]:
            pod = address.target_ref.name if address.target_ref is not None else None
            addresses.append(EndpointAddress(ip=address.ip, pod=pod, ready=ready))
    spec = service.spec
    return ServiceEndpoints(
        name=service.metadata.name,
        namespace=service.metadata.namespace,
        exists=True,
        cluster_ip=spec.cluster_ip,
        selector=dict(spec.selector or {}),
        ports=tuple(p.port for p in spec.ports or []),
        addresses=tuple(addresses),
    )
