"""What the apiserver checks before it stores an object.

Two layers: the official client's own models (the same `from_dict` the client runs on every response,
so anything we store is something the bot can deserialize), and the handful of apiserver rules the
models do not express (image required, replicas >= 0, selector matches template, DNS-1123 names).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

import kubernetes.client
import pydantic

from .errors import invalid
from .resources import ResourceType
from .selectors import label_selector_from_object, labels_match

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")

Causes = list[tuple[str, str]]


@functools.cache
def _model(name: str) -> Any:
    return getattr(kubernetes.client, name)


def _mapping(value: Any) -> Mapping[str, Any]:
    """`value` when it is an object, else empty (the model check reports the wrong type)."""
    return value if isinstance(value, Mapping) else {}


def model_errors(model_name: str, obj: Mapping[str, Any]) -> Causes:
    """Deserialize like the client does for a response; every pydantic complaint becomes a cause."""
    try:
        _model(model_name).from_dict(dict(obj))
    except pydantic.ValidationError as exc:
        # Nested models validate separately, so `loc` is relative to the model named in the title.
        return [
            (".".join(str(p) for p in err["loc"]), f"Invalid value: {err['msg']} (in {exc.title})")
            for err in exc.errors()
        ]
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        return [("", f"Invalid value: {exc}")]
    return []


def _name_errors(resource: ResourceType, metadata: Mapping[str, Any]) -> Causes:
    name = metadata.get("name")
    if not name:
        return [("metadata.name", "Required value: name or generateName is required")]
    pattern, what, limit = _DNS1123_SUBDOMAIN, "RFC 1123 subdomain", 253
    if resource.kind == "Service":
        pattern, what, limit = _DNS1035_LABEL, "RFC 1035 label", 63
    if not isinstance(name, str) or len(name) > limit or not pattern.match(name):
        return [("metadata.name", f'Invalid value: "{name}": a lowercase {what} must consist of lower case '
                                  "alphanumeric characters, '-' or '.', and must start and end with an "
                                  "alphanumeric character")]
    return []


def _label_errors(metadata: Mapping[str, Any], path: str) -> Causes:
    labels = metadata.get("labels") or {}
    causes: Causes = []
    if not isinstance(labels, Mapping):
        return causes  # the model check reports the wrong type
    for key, value in labels.items():
        if not _LABEL_NAME.match(str(key)):
            causes.append((f"{path}.labels", f'Invalid value: "{key}": name part must consist of '
                                             "alphanumeric characters, '-', '_' or '.'"))
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            causes.append((f"{path}.labels", f'Invalid value: "{value}": a valid label must be an empty '
                                             "string or consist of alphanumeric characters, '-', '_' or '.'"))
    return causes


def _pod_spec_errors(spec: Mapping[str, Any] | None, path: str) -> Causes:
    if not isinstance(spec, Mapping):
        return [(path, "Required value")]
    causes: Causes = []
    containers = spec.get("containers")
    if not containers:
        causes.append((f"{path}.containers", "Required value"))
    seen: set[str] = set()
    for field in ("initContainers", "containers"):
        for i, container in enumerate(spec.get(field) or []):
            if not isinstance(container, Mapping):
                continue
            where = f"{path}.{field}[{i}]"
            name = container.get("name")
            if not name:
                causes.append((f"{where}.name", "Required value"))
            elif not isinstance(name, str) or not _DNS1123_LABEL.match(name):
                causes.append((f"{where}.name", f'Invalid value: "{name}": a lowercase RFC 1123 label'))
            elif name in seen:
                causes.append((f"{where}.name", f'Duplicate value: "{name}"'))
            else:
                seen.add(name)
            if not container.get("image"):
                causes.append((f"{where}.image", "Required value"))
    return causes


def _replicas_errors(spec: Mapping[str, Any], path: str = "spec.replicas") -> Causes:
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        return [(path, f"Invalid value: {replicas}: must be greater than or equal to 0")]
    return []


def _workload_errors(obj: Mapping[str, Any]) -> Causes:
    """Deployment / ReplicaSet: replicas, selector, template labels, pod spec."""
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return [("spec", "Required value")]
    causes = _replicas_errors(spec)
    selector = spec.get("selector")
    template = _mapping(spec.get("template"))
    template_meta = _mapping(template.get("metadata"))
    if not isinstance(selector, Mapping) or not (
            selector.get("matchLabels") or selector.get("matchExpressions")):
        causes.append(("spec.selector", "Invalid value: empty selector is invalid for deployment"))
    else:
        try:
            requirements = label_selector_from_object(selector)
        except (KeyError, TypeError):
            requirements = []
            causes.append(("spec.selector", "Invalid value: malformed selector"))
        template_labels = template_meta.get("labels") or {}
        if requirements and not labels_match(requirements, template_labels):
            causes.append(("spec.template.metadata.labels",
                           f"Invalid value: {dict(template_labels)!r}: `selector` does not match template "
                           "`labels`"))
    causes += _label_errors(template_meta, "spec.template.metadata")
    causes += _pod_spec_errors(template.get("spec"), "spec.template.spec")
    return causes


def _hpa_errors(obj: Mapping[str, Any]) -> Causes:
    spec = obj.get("spec") or {}
    low, high = spec.get("minReplicas", 1), spec.get("maxReplicas")
    causes: Causes = []
    if isinstance(low, int) and low < 1:
        causes.append(("spec.minReplicas", f"Invalid value: {low}: must be greater than or equal to 1"))
    if isinstance(high, int) and isinstance(low, int) and high < low:
        causes.append(("spec.maxReplicas", f"Invalid value: {high}: must be greater than or equal to "
                                           "`minReplicas`"))
    return causes


_KIND_CHECKS: dict[str, Callable[[Mapping[str, Any]], Causes]] = {
    "Deployment": _workload_errors,
    "ReplicaSet": _workload_errors,
    "Pod": lambda obj: _pod_spec_errors(obj.get("spec"), "spec"),
    "HorizontalPodAutoscaler": _hpa_errors,
}


def validate(resource: ResourceType, obj: Mapping[str, Any]) -> None:
    """Raise 422 Invalid listing every problem, or return quietly."""
    metadata = _mapping(obj.get("metadata"))
    causes = _name_errors(resource, metadata) + _label_errors(metadata, "metadata")
    if resource.model:
        causes += model_errors(resource.model, obj)
    check = _KIND_CHECKS.get(resource.kind)
    if check:
        causes += check(obj)
    if causes:
        raise invalid(resource.kind, resource.group, str(metadata.get("name", "")), causes)


def validate_scale(obj: Mapping[str, Any]) -> None:
    causes = model_errors("V1Scale", obj)
    spec = _mapping(obj.get("spec"))
    causes += _replicas_errors(spec)
    if causes:
        name = str((obj.get("metadata") or {}).get("name", ""))
        raise invalid("Scale", "autoscaling", name, causes)


def check_immutable_selector(resource: ResourceType, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """apps/v1 selectors cannot change after creation."""
    if resource.kind not in ("Deployment", "ReplicaSet"):
        return
    before, after = (old.get("spec") or {}).get("selector"), (new.get("spec") or {}).get("selector")
    if before != after:
        name = str(new.get("metadata", {}).get("name", ""))
        raise invalid(resource.kind, resource.group, name,
                      [("spec.selector", f"Invalid value: {after!r}: field is immutable")])
