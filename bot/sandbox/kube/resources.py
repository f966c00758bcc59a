"""The resource types the fake serves: where each lives in the URL space and how it is validated."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceType:
    kind: str
    plural: str
    group: str  # "" for the core group
    version: str
    model: str | None  # kubernetes.client model that must accept what we store/serve
    subresources: frozenset[str] = frozenset()
    verbs: frozenset[str] = frozenset({"get", "list", "create", "update", "patch", "delete"})
    # The real apiserver echoes the deleted object only for kinds with graceful deletion semantics
    # (pods) or that opted in (services); everything else gets a Status.
    returns_deleted_object: bool = False
    # Kinds whose status may only be changed through /status; PUT/PATCH on the main resource keep it.
    has_status_subresource: bool = False
    # Kinds whose `metadata.generation` tracks spec changes.
    has_spec: bool = True
    # Discovery's abbreviations (`kubectl get deploy`) and groups (`kubectl get all`), as the real
    # apiserver advertises them: kubectl resolves names only through these.
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def group_resource(self) -> str:
        """`deployments.apps` / `pods`: how the apiserver names the resource in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


_READ_ONLY = frozenset({"get", "list"})
_ALL = ("all",)

RESOURCES: tuple[ResourceType, ...] = (
    ResourceType("Deployment", "deployments", "apps", "v1", "V1Deployment",
                 frozenset({"scale", "status"}), has_status_subresource=True,
                 short_names=("deploy",), categories=_ALL),
    ResourceType("ReplicaSet", "replicasets", "apps", "v1", "V1ReplicaSet",
                 frozenset({"scale", "status"}), has_status_subresource=True,
                 short_names=("rs",), categories=_ALL),
    ResourceType("Pod", "pods", "", "v1", "V1Pod", frozenset({"log", "status"}),
                 returns_deleted_object=True, has_status_subresource=True,
                 short_names=("po",), categories=_ALL),
    ResourceType("Event", "events", "", "v1", "CoreV1Event", has_spec=False, short_names=("ev",)),
    ResourceType("Service", "services", "", "v1", "V1Service", frozenset({"status"}),
                 returns_deleted_object=True, has_status_subresource=True,
                 short_names=("svc",), categories=_ALL),
    ResourceType("Endpoints", "endpoints", "", "v1", "V1Endpoints", has_spec=False, short_names=("ep",)),
    ResourceType("ConfigMap", "configmaps", "", "v1", "V1ConfigMap", has_spec=False, short_names=("cm",)),
    ResourceType("HorizontalPodAutoscaler", "horizontalpodautoscalers", "autoscaling", "v2",
                 "V2HorizontalPodAutoscaler", frozenset({"status"}), has_status_subresource=True,
                 short_names=("hpa",), categories=_ALL),
    ResourceType("Lease", "leases", "coordination.k8s.io", "v1", "V1Lease"),
    # Served from the metrics store, never stored as objects.
    ResourceType("PodMetrics", "pods", "metrics.k8s.io", "v1beta1", None, verbs=_READ_ONLY, has_spec=False),
)

_BY_KIND = {r.kind: r for r in RESOURCES}
_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}


def by_kind(kind: str) -> ResourceType | None:
    return _BY_KIND.get(kind)


def by_path(group: str, version: str, plural: str) -> ResourceType | None:
    return _BY_PATH.get((group, version, plural))


def group_versions() -> dict[str, list[str]]:
    """Served API groups (without core) -> versions, for discovery."""
    found: dict[str, list[str]] = {}
    for r in RESOURCES:
        if r.group and r.version not in found.setdefault(r.group, []):
            found[r.group].append(r.version)
    return found
