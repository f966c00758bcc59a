"""The pods a ReplicaSet creates: what a scheduler and kubelet would have made of the template."""

from __future__ import annotations

import copy
import hashlib
import random
import string
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from . import clock
from .workloads import owner_reference

NODE_NAME = "sandbox-node-1"


def random_suffix(rng: random.Random, length: int = 5) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=length))


def pod_from_replicaset(rs: Mapping[str, Any], rng: random.Random, pod_index: int,
                        started_at: datetime | None = None) -> dict[str, Any]:
    """A scheduled, Running, Ready pod from the RS's template, owned by the RS (started now by default)."""
    template = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
    template_meta = template.get("metadata") or {}
    spec: dict[str, Any] = template.get("spec") or {}
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("serviceAccountName", "default")
    spec["nodeName"] = NODE_NAME
    rs_name = rs["metadata"]["name"]
    started = clock.rfc3339(started_at or clock.now())
    metadata: dict[str, Any] = {
        "name": f"{rs_name}-{random_suffix(rng)}",
        "generateName": f"{rs_name}-",
        "namespace": rs["metadata"]["namespace"],
        "labels": dict(template_meta.get("labels") or {}),
        "ownerReferences": [owner_reference(rs)],
    }
    if template_meta.get("annotations"):
        metadata["annotations"] = dict(template_meta["annotations"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": spec,
        "status": _running_status(spec, started, pod_index),
    }


def _running_status(spec: Mapping[str, Any], started: str, pod_index: int) -> dict[str, Any]:
    conditions = [
        {"type": kind, "status": "True", "lastProbeTime": None, "lastTransitionTime": started}
        for kind in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
    ]
    return {
        "phase": "Running",
        "conditions": conditions,
        "hostIP": "10.0.0.10",
        "podIP": f"10.244.{(pod_index // 250) % 250}.{pod_index % 250 + 2}",
        "startTime": started,
        "qosClass": "Burstable",
        "containerStatuses": [
            {
                "name": container["name"],
                "ready": True,
                "started": True,
                "restartCount": 0,
                "image": container.get("image", ""),
                "imageID": _image_id(container.get("image", "")),
                "containerID": f"containerd://{pod_index:064x}",
                "state": {"running": {"startedAt": started}},
                "lastState": {},
            }
            for container in spec.get("containers") or []
        ],
    }


def _image_id(image: str) -> str:
    """What kubelet reports for a pulled image: the repository and the digest the tag resolved to.
    The digest here is derived from the image name, so a given tag always resolves to the same one."""
    name, _, tag = image.rpartition(":")
    repository = name if tag and "/" not in tag else image
    return f"docker-pullable://{repository}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"
