"""URL grammar of the apiserver: `/api/v1` or `/apis/{group}/{version}`, then
`[/namespaces/{ns}]/{plural}[/{name}[/{subresource}]]`."""

from __future__ import annotations

from dataclasses import dataclass

from .resources import ResourceType, by_path


@dataclass(frozen=True)
class ResourceRoute:
    resource: ResourceType
    namespace: str | None  # None: across all namespaces (lists only)
    name: str | None = None
    subresource: str | None = None


@dataclass(frozen=True)
class DiscoveryRoute:
    what: str  # "version", "api", "apis", "group", "resources"
    group: str = ""
    version: str = ""


Route = ResourceRoute | DiscoveryRoute


def parse_path(path: str) -> Route | None:
    """The route a request path names, or None for anything the fake does not serve (-> 404)."""
    parts = [p for p in path.split("/") if p]
    if parts == ["version"]:
        return DiscoveryRoute("version")
    if parts == ["api"]:
        return DiscoveryRoute("api")
    if parts == ["apis"]:
        return DiscoveryRoute("apis")
    if len(parts) == 2 and parts[0] == "apis":
        return DiscoveryRoute("group", group=parts[1])
    if parts[:1] == ["api"] and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return DiscoveryRoute("resources", group=group, version=version)
    return _resource_route(group, version, rest)


def _resource_route(group: str, version: str, rest: list[str]) -> ResourceRoute | None:
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource = by_path(group, version, rest[0])
    if resource is None or len(rest) > 3:
        return None
    if namespace is None and len(rest) > 1:
        return None  # every served kind is namespaced: only cluster-wide lists exist
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if sub is not None and sub not in resource.subresources:
        return None
    return ResourceRoute(resource, namespace, name, sub)
