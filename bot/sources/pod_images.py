"""Which image each container of a service really runs: the tag the spec asks for and the digest the node
pulled (`status.containerStatuses[].imageID`). Support needs the digest: a tag can be re-pushed, a digest
cannot. Derived from the pods the Kubernetes source already read, so the bundle lists the pods once."""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def images_of(pods: list[PodInfo]) -> list[ContainerImage]:
    """Every container's image as its spec names it and the imageID its status reports (`kubectl get pods -o
    yaml`), from the pods already read: no second list call."""
    found = []
    for pod in pods:
        states = {c.name: c for c in pod.containers}
        for spec in pod.specs:
            state = states.get(spec.name)
            found.append(ContainerImage(pod=pod.name, container=spec.name, image=spec.image,
                                        image_id=state.image_id if state is not None else ""))
    return found
