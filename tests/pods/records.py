"""Hand-made source records for the pod checks' `assess` tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.checks.base import CheckContext
from bot.config import load_ops_config
from bot.engine import context_for
from bot.sources.records import ContainerSpec, ContainerState, DeploymentInfo, PodInfo, ProbeSpec, RevisionInfo

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CONFIG = load_ops_config(None)
CTX: CheckContext = context_for(CONFIG, CONFIG.target("data-processor"), NOW)
GI = 1024**3
IMAGE = "registry.example.com/data-processor:2.0.0"
OLD_IMAGE = "registry.example.com/data-processor:1.9.0"
LIVENESS = ProbeSpec("liveness", "GET /health :8080", 10, 10, 5, 3)
READINESS = ProbeSpec("readiness", "GET /ready :8080", 5, 5, 3, 3)


def ago(**kwargs: float) -> datetime:
    return NOW - timedelta(**kwargs)


def container(**kwargs: Any) -> ContainerState:
    values: dict[str, Any] = {"name": "app", "ready": True, "restart_count": 0, "started_at": ago(days=2)}
    values.update(kwargs)
    return ContainerState(**values)


def spec(*, memory_limit: int | None = 2 * GI, probes: tuple[ProbeSpec, ...] = (LIVENESS, READINESS),
         env: dict[str, str] | None = None) -> ContainerSpec:
    return ContainerSpec("app", IMAGE, memory_limit=memory_limit, probes=probes, env=env or {})


def pod(name: str, state: ContainerState | None = None, *, phase: str = "Running", created: datetime | None = None,
        container_spec: ContainerSpec | None = None, image: str = IMAGE) -> PodInfo:
    state = state or container()
    return PodInfo(name=name, phase=phase, ready=state.ready, created=created or ago(days=2), images=(image,),
                   containers=(state,), namespace="default", specs=(container_spec or spec(),))


def deployment(replicas: int, ready: int, revision: int = 5) -> DeploymentInfo:
    return DeploymentInfo("data-processor", "default", "uid-1", 2, 2, revision, replicas, ready, ready, replicas,
                          (IMAGE,), False, "2.0.0", (), {"app": "data-processor"})


def history(live_ago: timedelta) -> tuple[RevisionInfo, ...]:
    return (
        RevisionInfo(4, "data-processor-4", (OLD_IMAGE,), "deploy 1.9.0", NOW - timedelta(days=12), 0),
        RevisionInfo(5, "data-processor-5", (IMAGE,), "deploy 2.0.0", NOW - live_ago, 3),
    )
