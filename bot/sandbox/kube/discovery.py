"""`/version`, `/api`, `/apis` and the per-group resource lists, enough for clients that discover first."""

from __future__ import annotations

from typing import Any

from .resources import RESOURCES, ResourceType, group_versions

_VERB_NAMES = {"get": "get", "list": "list", "create": "create", "update": "update", "patch": "patch",
               "delete": "delete"}

# Subresource -> (kind, group, version, verbs) as the real apiserver advertises them.
_SUBRESOURCES: dict[str, tuple[str, str, str, list[str]]] = {
    "scale": ("Scale", "autoscaling", "v1", ["get", "patch", "update"]),
    "status": ("", "", "", ["get", "patch", "update"]),
    "log": ("Pod", "", "v1", ["get"]),
}


def version_info() -> dict[str, Any]:
    return {
        "major": "1",
        "minor": "31",
        "gitVersion": "v1.31.0-sandbox",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-08-13T07:28:49Z",
        "goVersion": "go1.22.5",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def core_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def group_list(*, with_metrics: bool) -> dict[str, Any]:
    groups = [
        _group(name, versions) for name, versions in group_versions().items()
        if with_metrics or name != "metrics.k8s.io"
    ]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(name: str) -> dict[str, Any] | None:
    versions = group_versions().get(name)
    if versions is None:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def _resource_entry(resource: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": resource.plural,
        "singularName": resource.kind.lower(),
        "namespaced": True,
        "kind": resource.kind,
        "verbs": sorted(_verbs(resource)),
    }
    # Omitted when empty, as the apiserver's JSON does (omitempty).
    if resource.short_names:
        entry["shortNames"] = list(resource.short_names)
    if resource.categories:
        entry["categories"] = list(resource.categories)
    return entry


def _verbs(resource: ResourceType) -> list[str]:
    verbs = [_VERB_NAMES[v] for v in resource.verbs]
    if "list" in resource.verbs and resource.model is not None:
        verbs.append("watch")  # lists of stored kinds can be watched (server.py); the metrics API cannot
    return verbs


def _subresource_entry(resource: ResourceType, sub: str) -> dict[str, Any]:
    kind, group, version, verbs = _SUBRESOURCES[sub]
    entry: dict[str, Any] = {"name": f"{resource.plural}/{sub}", "singularName": "", "namespaced": True,
                             "kind": kind or resource.kind, "verbs": verbs}
    if group:
        entry.update(group=group, version=version)
    return entry


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    served = [r for r in RESOURCES if (r.group, r.version) == (group, version)]
    if not served:
        return None
    entries: list[dict[str, Any]] = []
    for resource in served:
        entries.append(_resource_entry(resource))
        entries += [_subresource_entry(resource, sub) for sub in sorted(resource.subresources)]
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": entries,
    }
