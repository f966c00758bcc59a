"""Kubernetes RBAC for the RBAC test: requests recorded by the sandbox -> what the authorizer checks, and
whether `manifests/k8s/rbac.yaml`'s Role allows it.

Which requests count: only the bot's. The bot's client announces itself with the User-Agent
`opsbot/<version>` (`bot.sources.kube.build_api_client`, the client `opsbot run` uses); tests that set up or
inspect the sandbox through a raw `kubernetes.client.ApiClient` send the client's default
`OpenAPI-Generator/...` and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.sandbox.kube.recording import RecordedRequest
from bot.sources.kube import USER_AGENT

ROOT = Path(__file__).resolve().parents[2]
RBAC_MANIFEST = ROOT / "manifests" / "k8s" / "rbac.yaml"
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"


@dataclass(frozen=True, order=True)
class Access:
    """One authorization check: what RBAC sees of a request (SubjectAccessReview resourceAttributes)."""

    verb: str
    group: str
    resource: str  # with the subresource: "deployments/scale", "pods/log"
    name: str = ""  # "" for collections

    def __str__(self) -> str:
        group = self.group or "core"
        return f"{self.verb} {group}/{self.resource}" + (f" {self.name}" if self.name else "")


@dataclass(frozen=True)
class Rule:
    groups: frozenset[str]
    resources: frozenset[str]
    verbs: frozenset[str]
    names: frozenset[str]  # empty: any name

    def allows(self, access: Access) -> bool:
        return (_matches(self.groups, access.group) and _matches(self.resources, access.resource)
                and _matches(self.verbs, access.verb) and (not self.names or access.name in self.names))

    def grants(self) -> set[tuple[str, str, str]]:
        """Every (verb, group, resource) this rule spells out."""
        return {(v, g, r) for v in self.verbs for g in self.groups for r in self.resources}


def _matches(allowed: frozenset[str], value: str) -> bool:
    return "*" in allowed or value in allowed


def is_bot_request(request: RecordedRequest) -> bool:
    return request.user_agent == USER_AGENT


def load_role(path: Path = RBAC_MANIFEST) -> list[Rule]:
    docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    role = next(doc for doc in docs if doc["kind"] == "Role")
    return [
        Rule(frozenset(r["apiGroups"]), frozenset(r["resources"]), frozenset(r["verbs"]),
             frozenset(r.get("resourceNames") or ()))
        for r in role["rules"]
    ]


def accesses(request: RecordedRequest) -> list[Access]:
    """The checks the apiserver makes for one request; [] for non-resource URLs (discovery, /version),
    which every authenticated user may read through the built-in ClusterRoles."""
    parsed = _resource_path(request.path)
    if parsed is None:
        return []
    group, resource, name, sub = parsed
    full = f"{resource}/{sub}" if sub else resource
    verb = _verb(request, bool(name))
    checks = [Access(verb, group, full, name)]
    # Server-side apply of an object that did not exist is authorized as create as well (201 Created).
    if request.method == "PATCH" and (request.content_type or "").startswith(APPLY_CONTENT_TYPE) \
            and request.status == 201:
        checks.append(Access("create", group, full, name))
    return checks


def _verb(request: RecordedRequest, named: bool) -> str:
    method = request.method.upper()
    if method == "GET":
        if request.query.get("watch") in ("true", "1"):
            return "watch"
        return "get" if named else "list"
    if method == "DELETE":
        return "delete" if named else "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())


def _resource_path(path: str) -> tuple[str, str, str, str] | None:
    """(group, resource, name, subresource) of a namespaced resource URL, None for anything else."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, rest = parts[1], parts[3:]
    else:
        return None
    if len(rest) < 3 or rest[0] != "namespaces":
        # Cluster-scoped resources cannot be granted by a Role: report them as their own resource.
        return (group, rest[0], rest[1] if len(rest) > 1 else "", "") if rest else None
    resource = rest[2]
    name = rest[3] if len(rest) > 3 else ""
    sub = "/".join(rest[4:])
    return group, resource, name, sub


def not_allowed(role: list[Rule], seen: Iterable[Access]) -> list[Access]:
    return sorted({a for a in seen if not any(rule.allows(a) for rule in role)})


def unused(role: list[Rule], seen: Iterable[Access]) -> list[tuple[str, str, str]]:
    """Grants of the Role (verb, group, resource) that no recorded access exercised."""
    used = {(a.verb, a.group, a.resource) for a in seen}
    granted: set[tuple[str, str, str]] = set()
    for rule in role:
        granted |= rule.grants()
    return sorted(granted - used)


def describe(items: Iterable[Any]) -> str:
    return "\n".join(f"  {item}" for item in items)
