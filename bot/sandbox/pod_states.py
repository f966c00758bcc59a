"""What pods look like and report beyond their spec: scenario pod states (CrashLoopBackOff, OOMKilled),
usage as metrics-server reports it, and the events the story left behind."""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime, timedelta
from typing import Any

from .kube import clock as kube_clock
from .kube.metrics import MemoryGrowth
from .scenario import EventSpec, PodState, Profile, ServiceSpec, parse_duration

Obj = dict[str, Any]
# Real clusters drop events after an hour; rollouts older than that leave no events.
_EVENT_TTL = timedelta(hours=1)


def wiggle(key: str, spread: float) -> float:
    """A deterministic factor in [1 - spread, 1 + spread] for `key`."""
    digest = hashlib.sha256(key.encode()).digest()
    return 1.0 + spread * (int.from_bytes(digest[:4], "big") / 0xFFFFFFFF * 2 - 1)


def state_for(profile: Profile, index: int) -> PodState | None:
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
