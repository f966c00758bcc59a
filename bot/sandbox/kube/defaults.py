"""Defaults the apiserver fills on every write, so readers never see fields a real server would set."""

from __future__ import annotations

from typing import Any


def apply_defaults(obj: dict[str, Any]) -> None:
    kind = obj.get("kind")
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    if kind in ("Deployment", "ReplicaSet"):
        spec.setdefault("replicas", 1)
        _decode_template_metadata(spec)
    if kind == "Deployment":
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        if isinstance(strategy, dict) and strategy.get("type", "RollingUpdate") == "RollingUpdate":
            strategy.setdefault("type", "RollingUpdate")
            rolling = strategy.setdefault("rollingUpdate", {})
            if isinstance(rolling, dict):
                rolling.setdefault("maxUnavailable", "25%")
                rolling.setdefault("maxSurge", "25%")


def _decode_template_metadata(spec: dict[str, Any]) -> None:
    """Go clients (kubectl rollout undo) send a pod template's zero `creationTimestamp` as null; the real
    apiserver decodes it into the same struct as an absent one, so the template (and its hash, and which
    ReplicaSet the controller adopts) must not differ because of it."""
    metadata = (spec.get("template") or {}).get("metadata")
    if isinstance(metadata, dict) and "creationTimestamp" in metadata and metadata["creationTimestamp"] is None:
        del metadata["creationTimestamp"]
