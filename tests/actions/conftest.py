"""Fixtures for the remediation actions: the sandbox platform over real HTTP and an ActionEnv on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest

from bot.actions.base import ActionEnv
from bot.config import OpsConfig, load_ops_config
from bot.model import Target
from bot.sandbox.kube import FakeCluster
from bot.sandbox.runner import NAMESPACE, Sandbox
from bot.sources.kube import build_api_client
from bot.sources.kube_writes import KubeWriter


class HasCluster(Protocol):
    """A Sandbox, or the sandbox tests' KubeSandbox: anything holding the fake apiserver's store."""

    @property
    def cluster(self) -> FakeCluster: ...


@dataclass
class Clock:
    """A clock tests move by hand, so timed reverts and restart stamps are predictable."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def config() -> OpsConfig:
    return load_ops_config(None)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox("bad-deploy") as running:
        yield running


@pytest.fixture
async def env(sandbox: Sandbox, tmp_path: Path, config: OpsConfig, clock: Clock) -> AsyncIterator[ActionEnv]:
    kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    api = build_api_client(str(kubeconfig))
    try:
        yield ActionEnv(kube=KubeWriter(api), config=config, clock=clock)
    finally:
        api.close()  # type: ignore[no-untyped-call]


@pytest.fixture
def dry_env(env: ActionEnv) -> ActionEnv:
    """The same platform with OPSBOT_DRY_RUN on."""
    return replace(env, dry_run=True)


def target(config: OpsConfig, service: str) -> Target:
    return config.target(service)


def deployment(sandbox: HasCluster, name: str) -> dict[str, Any]:
    """The deployment as stored by the fake apiserver (not through the code under test)."""
    found = sandbox.cluster.get("Deployment", NAMESPACE, name)
    assert found is not None
    return found


def app_container(sandbox: HasCluster, name: str) -> dict[str, Any]:
    containers = deployment(sandbox, name)["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == name)


def env_value(sandbox: HasCluster, name: str, variable: str) -> str | None:
    env = app_container(sandbox, name).get("env") or []
    return next((e.get("value") for e in env if e["name"] == variable), None)


def pods(sandbox: HasCluster, service: str) -> set[str]:
    return {p["metadata"]["name"] for p in sandbox.cluster.list("Pod", NAMESPACE, f"app={service}")}


def revisions(sandbox: HasCluster, name: str) -> dict[int, dict[str, Any]]:
    """kubectl rollout history from the store: owned ReplicaSets by revision number."""
    uid = deployment(sandbox, name)["metadata"]["uid"]
    owned = [rs for rs in sandbox.cluster.list("ReplicaSet", NAMESPACE, f"app={name}")
             if any(o.get("uid") == uid for o in rs["metadata"].get("ownerReferences", []))]
    return {int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]): rs for rs in owned}


def snapshot(sandbox: HasCluster, service: str) -> tuple[Any, ...]:
    """Everything an action could change for a service: deployment, pods, ReplicaSets, config maps."""
    config_maps = {c["metadata"]["name"]: c.get("data") for c in sandbox.cluster.list("ConfigMap", NAMESPACE)}
    return (deployment(sandbox, service), pods(sandbox, service), sorted(revisions(sandbox, service)), config_maps)


def dry_run_writes(sandbox: HasCluster) -> list[str]:
    """Paths of the write requests sent as server-side dry runs."""
    return [r.path for r in sandbox.cluster.requests
            if r.method in ("PATCH", "DELETE", "POST", "PUT") and r.query.get("dryRun") == "All"]
