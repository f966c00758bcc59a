"""Which image each container of a service really runs: the tag the spec asks for and the digest the node
pulled (`status.containerStatuses[].imageID`). Support needs the digest: a tag can be re-pushed, a digest
cannot. One pod list answers both the pods and their images, so the bundle reads the pods once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.model import Target
from bot.sources.kube import KubeSource
from bot.sources.kube_parse import pod_info
from bot.sources.records import PodInfo

# `docker-pullable://repo@sha256:...`, `repo@sha256:...` or a bare `sha256:...` (containerd, CRI-O).
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class ContainerImage:
    pod: str
    container: str
    image: str  # as the pod spec names it, usually with a tag
    image_id: str  # as the runtime reports it; empty until the image is pulled

    @property
    def digest(self) -> str | None:
        found = DIGEST.search(self.image_id)
        return found.group(0) if found else None


async def pods_with_images(kube: KubeSource, target: Target) -> tuple[list[PodInfo], list[ContainerImage]]:
    """`kubectl get pods -l SELECTOR -o yaml`, kept as the parsed pods plus every container's image and imageID."""
    # The KubeSource's call wrapper gives this read the same timeout, concurrency bound and SourceError mapping.
    result: Any = await kube._call(
        f"list pods {target.selector}",
        kube._core.list_namespaced_pod,
        target.namespace,
        label_selector=target.selector,
    )
    pods = [pod_info(pod) for pod in result.items]
    images = [image for pod in result.items for image in _images(pod)]
    return pods, images


def _images(pod: Any) -> list[ContainerImage]:
    statuses = {s.name: s for s in (pod.status.container_statuses or [])} if pod.status else {}
    found = []
    for container in pod.spec.containers:
        status = statuses.get(container.name)
        found.append(
            ContainerImage(
                pod=pod.metadata.name,
                container=container.name,
                image=container.image or "",
                image_id=(status.image_id or "") if status is not None else "",
            )
        )
    return found
