"""Container log buffers and the `/log` query options (tailLines, sinceSeconds, limitBytes, ...)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import clock
from .errors import KubeError

LogKey = tuple[str, str, str, bool]  # namespace, pod, container, previous


@dataclass(frozen=True)
class LogLine:
    at: datetime
    text: str


@dataclass(frozen=True)
class LogQuery:
    container: str | None = None
    previous: bool = False
    tail_lines: int | None = None
    since_seconds: int | None = None
    timestamps: bool = False
    limit_bytes: int | None = None


class LogBuffers:
    def __init__(self) -> None:
        self._buffers: dict[LogKey, list[LogLine]] = {}

    def set(self, namespace: str, pod: str, container: str, lines: list[str], *, previous: bool,
            times: Sequence[datetime] | None = None) -> None:
        """Replace a buffer. `times` says when each line was written (the runtime's `--timestamps`);
        without it lines get timestamps one second apart, the last one now."""
        if times is None:
            end = clock.now()
            times = [end - timedelta(seconds=len(lines) - 1 - i) for i in range(len(lines))]
        if len(times) != len(lines):
            raise ValueError(f"{len(lines)} log lines but {len(times)} timestamps")
        self._buffers[(namespace, pod, container, previous)] = [
            LogLine(at, text) for at, text in zip(times, lines, strict=True)
        ]

    def append(self, namespace: str, pod: str, container: str, lines: list[str]) -> None:
        at = clock.now()
        buffer = self._buffers.setdefault((namespace, pod, container, False), [])
        buffer.extend(LogLine(at, text) for text in lines)

    def forget_pod(self, namespace: str, pod: str) -> None:
        for key in [k for k in self._buffers if k[0] == namespace and k[1] == pod]:
            del self._buffers[key]

    def has(self, namespace: str, pod: str, container: str, *, previous: bool) -> bool:
        return (namespace, pod, container, previous) in self._buffers

    def read(self, pod: Mapping[str, Any], query: LogQuery) -> str:
        """The `/log` body for a stored pod, or the apiserver's 400 for an impossible request."""
        namespace = pod["metadata"]["namespace"]
        name = pod["metadata"]["name"]
        container = resolve_container(pod, query.container)
        if query.previous and not self.has(namespace, name, container, previous=True):
            raise KubeError(400, f'previous terminated container "{container}" in pod "{name}" not found')
        _refuse_waiting_container(pod, container, previous=query.previous)
        lines = list(self._buffers.get((namespace, name, container, query.previous), []))
        if query.since_seconds is not None:
            cutoff = clock.now() - timedelta(seconds=query.since_seconds)
            lines = [line for line in lines if line.at >= cutoff]
        if query.tail_lines is not None:
            lines = lines[-query.tail_lines:] if query.tail_lines > 0 else []
        text = "".join(
            (f"{clock.rfc3339_nano(line.at)} {line.text}" if query.timestamps else line.text) + "\n"
            for line in lines
        )
        if query.limit_bytes is not None:
            text = text.encode()[: query.limit_bytes].decode(errors="ignore")
        return text


def _container_names(pod: Mapping[str, Any], field: str) -> list[str]:
    return [str(c.get("name")) for c in (pod.get("spec") or {}).get(field) or []]


def resolve_container(pod: Mapping[str, Any], container: str | None) -> str:
    name = pod["metadata"]["name"]
    containers = _container_names(pod, "containers")
    init_containers = _container_names(pod, "initContainers")
    if container is None:
        if len(containers) == 1:
            return containers[0]
        choices = " ".join(containers)
        message = f"a container name must be specified for pod {name}, choose one of: [{choices}]"
        if init_containers:
            message += f" or one of the init containers: [{' '.join(init_containers)}]"
        raise KubeError(400, message)
    if container not in containers + init_containers:
        raise KubeError(400, f"container {container} is not valid for pod {name}")
    return container


def _refuse_waiting_container(pod: Mapping[str, Any], container: str, *, previous: bool) -> None:
    """A container that never started has no log stream; CrashLoopBackOff ones still serve the last run."""
    if previous:
        return
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = (status.get("state") or {}).get("waiting")
        if status.get("name") == container and waiting and waiting.get("reason") in (
            "ContainerCreating", "PodInitializing", "ImagePullBackOff", "ErrImagePull",
        ):
            raise KubeError(
                400,
                f'container "{container}" in pod "{pod["metadata"]["name"]}" is waiting to start: '
                f"{waiting['reason']}",
            )
