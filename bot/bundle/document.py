"""`bundle.json`: what was collected, as plain JSON (str/int/float/bool/None, lists, dicts), in the order of
the guide's "Getting Help" list: the service and its version, errors, request IDs, recent changes, metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.bundle.collect import Collected, ContainerLog
from bot.bundle.error_groups import ErrorGroup, ErrorScan
from bot.bundle.request import BundleRequest
from bot.bundle.request_ids import RequestIds
from bot.render.jsonout import diagnosis_json
from bot.sources.pod_images import ContainerImage
from bot.sources.records import DeploymentInfo, ErrorStats, EventInfo, HealthReport, LatencyStats, PodInfo, PodUsage
from bot.store.approvals import AuditRecord

FORMAT = "opsbot-support-bundle/1"


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def build_document(
    c: Collected, scan: ErrorScan, traced: RequestIds, request: BundleRequest
) -> dict[str, Any]:
    """Everything but the raw logs (added, bounded, by `bound.fit_logs`)."""
    return {
        "format": FORMAT,
        "service": _service(c),
        "errors": {
            "lines_scanned": scan.lines,
            "error_lines": scan.error_lines,
            "groups": [_group(g) for g in scan.groups],
            "groups_left_out": scan.dropped_groups,
        },
        "request_ids": [vars(t) for t in traced.requests],
        "request_ids_left_out": traced.dropped,
        "changes": {
            "rollout_history": _history(c),
            "audit": [_audit(r) for r in c.audit],
            "events": [_event(e) for e in c.events],
        },
        "metrics": {
            "period": f"{request.window.total_seconds() / 60:g}m",
            "latency": _latency(c.latency),
            "errors": _errors(c.errors),
            "health": _health(c.health),
            "pod_usage": [_usage(u) for u in c.usage],
        },
        "diagnosis": diagnosis_json(c.diagnosis) if c.diagnosis is not None else None,
        "unavailable": [{"part": u.part, "reason": u.reason} for u in c.unavailable],
    }


def log_section(logs: list[ContainerLog]) -> list[dict[str, Any]]:
    return [
        {"source": entry.name, "pod": entry.pod, "container": entry.container, "previous": entry.previous,
         "lines": [log_line(line.ts, line.text) for line in entry.lines]}
        for entry in logs
    ]


def log_line(at: datetime | None, text: str) -> str:
    return f"{at.isoformat()} {text}" if at is not None else text


def _service(c: Collected) -> dict[str, Any]:
    dep = c.deployment
    version = (dep.version if dep is not None else None) or (c.health.version if c.health is not None else None)
    return {
        "name": c.target.service,
        "namespace": c.target.namespace,
        "deployment": c.target.deployment,
        "version": version,
        "revision": dep.revision if dep is not None else None,
        "replicas": _replicas(dep),
        "images": _images(c.images),
        "pods": [_pod(p) for p in c.pods],
        "window": {"since": iso(c.since), "until": iso(c.until)},
    }


def _replicas(dep: DeploymentInfo | None) -> dict[str, Any] | None:
    if dep is None:
        return None
    return {"desired": dep.replicas, "ready": dep.ready_replicas, "available": dep.available_replicas,
            "updated": dep.updated_replicas, "paused": dep.paused,
            "conditions": [{"type": t, "status": s, "reason": r} for t, s, r in dep.conditions]}


def split_image(image: str) -> tuple[str, str | None]:
    """`registry:5000/app:1.2` -> (`registry:5000/app`, `1.2`); a digest reference has no tag."""
    name = image.split("@", 1)[0]
    repository, sep, tag = name.rpartition(":")
    if sep and "/" not in tag:
        return repository, tag
    return name, None


def _images(images: list[ContainerImage]) -> list[dict[str, Any]]:
    """One entry per container and image as it runs, with the pods running it (a rollout shows two)."""
    grouped: dict[tuple[str, str, str | None], list[str]] = {}
    for image in images:
        grouped.setdefault((image.container, image.image, image.digest), []).append(image.pod)
    out = []
    for (container, reference, digest), pods in grouped.items():
        repository, tag = split_image(reference)
        out.append({"container": container, "image": reference, "repository": repository, "tag": tag,
                    "digest": digest, "pods": sorted(pods)})
    return out


def _pod(pod: PodInfo) -> dict[str, Any]:
    return {
        "name": pod.name, "phase": pod.phase, "ready": pod.ready, "restarts": pod.restarts, "node": pod.node,
        "started": iso(pod.started),
        "containers": [
            {"name": s.name, "ready": s.ready, "restarts": s.restart_count, "waiting_reason": s.waiting_reason,
             "last_terminated_reason": s.last_terminated_reason, "last_exit_code": s.last_exit_code,
             "last_finished_at": iso(s.last_finished_at)}
            for s in pod.containers
        ],
    }


def _group(group: ErrorGroup) -> dict[str, Any]:
    return {"signature": group.signature, "count": group.count, "first_seen": iso(group.first_seen),
            "last_seen": iso(group.last_seen), "sources": sorted(group.sources), "has_stack_trace": group.has_stack,
            "example": list(group.example), "request_ids": list(group.request_ids)}


def _history(c: Collected) -> list[dict[str, Any]]:
    live = c.deployment.revision if c.deployment is not None else None
    return [
        {"revision": r.revision, "live": r.revision == live, "images": list(r.images), "change_cause": r.change_cause,
         "created": iso(r.created), "replicaset": r.replicaset, "replicas": r.replicas}
        for r in sorted(c.history, key=lambda r: -r.revision)
    ]


def _audit(record: AuditRecord) -> dict[str, Any]:
    e = record.entry
    return {"at": iso(record.at), "actor": e.actor, "event": e.event.value, "action": e.action,
            "params": dict(e.params), "detail": e.detail, "request_id": e.request_id}


def _event(event: EventInfo) -> dict[str, Any]:
    return {"type": event.type, "reason": event.reason, "object": f"{event.kind}/{event.name}",
            "message": event.message, "count": event.count, "first_seen": iso(event.first_seen),
            "last_seen": iso(event.last_seen)}


def _latency(stats: LatencyStats | None) -> dict[str, Any] | None:
    if stats is None:
        return None
    return {"period": stats.period, "requests": stats.requests, "p50_ms": stats.p50_ms, "p95_ms": stats.p95_ms,
            "p99_ms": stats.p99_ms}


def _errors(stats: ErrorStats | None) -> dict[str, Any] | None:
    if stats is None:
        return None
    return {
        "period": stats.period, "requests": stats.requests, "errors": stats.errors, "error_rate": stats.error_rate,
        "by_status": {str(k): v for k, v in sorted(stats.by_status.items())},
        "by_endpoint": [{"endpoint": e.endpoint, "requests": e.requests, "errors": e.errors,
                         "by_status": {str(k): v for k, v in sorted(e.by_status.items())}}
                        for e in stats.by_endpoint],
    }


def _health(report: HealthReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {"status": report.status, "version": report.version, "checks": dict(report.checks),
            "dependencies": dict(report.dependencies), "circuit_breaker": report.circuit_breaker}


def _usage(usage: PodUsage) -> dict[str, Any]:
    return {"pod": usage.pod, "timestamp": iso(usage.timestamp), "cpu_cores": round(usage.cpu, 4),
            "memory_bytes": usage.memory,
            "containers": [{"name": c.name, "cpu_cores": round(c.cpu, 4), "memory_bytes": c.memory}
                           for c in usage.containers]}
