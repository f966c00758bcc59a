"""labelSelector / fieldSelector parsing and matching, with the apiserver's 400s for what it refuses."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import KubeError

_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_SET_OP = re.compile(r"^(?P<key>\S+)\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)$")
_EQ_OP = re.compile(r"^(?P<key>[^!=\s]+)\s*(?P<op>==|=|!=)\s*(?P<value>\S*)$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "in", "notin", "exists", "!exists"
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.op == "exists":
            return self.key in labels
        if self.op == "!exists":
            return self.key not in labels
        if self.op == "in":
            return self.key in labels and labels[self.key] in self.values
        # notin (and !=) also match objects without the key, as in Kubernetes.
        return labels.get(self.key) not in self.values


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside `in (a,b)` parentheses."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _bad_selector(selector: str, why: str) -> KubeError:
    return KubeError(400, f"unable to parse requirement: {why}: {selector!r}")


def _check_key(key: str, selector: str) -> str:
    if not _LABEL_KEY.match(key):
        raise _bad_selector(selector, f"invalid label key {key!r}")
    return key


def _check_value(value: str, selector: str) -> str:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise _bad_selector(selector, f"invalid label value {value!r}")
    return value


def _parse_requirement(part: str, selector: str) -> Requirement:
    if match := _SET_OP.match(part):
        values = [v.strip() for v in match["values"].split(",") if v.strip()]
        key = _check_key(match["key"], selector)
        return Requirement(key, match["op"], frozenset(_check_value(v, selector) for v in values))
    if match := _EQ_OP.match(part):
        key = _check_key(match["key"], selector)
        value = _check_value(match["value"], selector)
        return Requirement(key, "notin" if match["op"] == "!=" else "in", frozenset({value}))
    if part.startswith("!"):
        return Requirement(_check_key(part[1:].strip(), selector), "!exists")
    return Requirement(_check_key(part, selector), "exists")


def parse_label_selector(selector: str | None) -> list[Requirement]:
    """Equality (`a=b`, `a==b`, `a!=b`) and set-based (`a in (x,y)`, `a notin (x)`, `a`, `!a`)."""
    if not selector:
        return []
    return [_parse_requirement(part, selector) for part in _split_top_level(selector)]


def labels_match(requirements: list[Requirement], labels: Mapping[str, str] | None) -> bool:
    present = labels or {}
    return all(r.matches(present) for r in requirements)


def label_selector_from_object(selector: Mapping[str, Any] | None) -> list[Requirement]:
    """A LabelSelector object (`matchLabels` + `matchExpressions`) as requirements."""
    if not selector:
        return []
    requirements = [
        Requirement(k, "in", frozenset({str(v)})) for k, v in (selector.get("matchLabels") or {}).items()
    ]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}
    for expr in selector.get("matchExpressions") or []:
        op = ops.get(expr.get("operator", ""), "in")
        requirements.append(Requirement(expr["key"], op, frozenset(expr.get("values") or [])))
    return requirements


def selector_to_string(selector: Mapping[str, Any] | None) -> str:
    """The string form `Scale.status.selector` carries (`app=web,tier in (a,b)`)."""
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op = expr.get("operator")
        values = ",".join(sorted(expr.get("values") or []))
        if op == "In":
            parts.append(f"{expr['key']} in ({values})")
        elif op == "NotIn":
            parts.append(f"{expr['key']} notin ({values})")
        elif op == "Exists":
            parts.append(expr["key"])
        elif op == "DoesNotExist":
            parts.append(f"!{expr['key']}")
    return ",".join(parts)


# Field selectors the real apiserver supports per kind (beyond metadata.name/namespace).
_FIELD_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("status.phase", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
            "spec.serviceAccountName", "status.podIP", "status.nominatedNodeName"),
    "Event": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
              "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
              "reason", "reportingComponent", "source", "type"),
    "ReplicaSet": ("status.replicas",),
}


@dataclass(frozen=True)
class FieldRequirement:
    path: str
    value: str
    negate: bool

    def matches(self, obj: Mapping[str, Any]) -> bool:
        actual = _field_value(obj, self.path)
        return (actual != self.value) if self.negate else (actual == self.value)


def _field_value(obj: Mapping[str, Any], path: str) -> str:
    if path == "source":  # events: `source` means source.component
        path = "source.component"
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return "" if node is None else str(node)


def parse_field_selector(selector: str | None, kind: str) -> list[FieldRequirement]:
    if not selector:
        return []
    allowed = {"metadata.name", "metadata.namespace", *_FIELD_PATHS.get(kind, ())}
    requirements = []
    for part in _split_top_level(selector):
        match = re.match(r"^([^!=]+)(==|=|!=)(.*)$", part)
        if not match:
            raise KubeError(400, f"invalid selector: '{selector}'; can't understand '{part}'")
        path, op, value = match[1].strip(), match[2], match[3].strip()
        if path not in allowed:
            raise KubeError(400, f'field label not supported: {path}')
        requirements.append(FieldRequirement(path, value, op == "!="))
    return requirements


def fields_match(requirements: list[FieldRequirement], obj: Mapping[str, Any]) -> bool:
    return all(r.matches(obj) for r in requirements)


ObjectFilter = Callable[[Mapping[str, Any]], bool]


def build_filter(kind: str, label_selector: str | None, field_selector: str | None) -> ObjectFilter:
    """One predicate for both selectors; parsing errors surface before any object is looked at."""
    labels = parse_label_selector(label_selector)
    fields = parse_field_selector(field_selector, kind)

    def accept(obj: Mapping[str, Any]) -> bool:
        return labels_match(labels, obj.get("metadata", {}).get("labels")) and fields_match(fields, obj)

    return accept
