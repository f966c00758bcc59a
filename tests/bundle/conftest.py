"""Bundle fixtures: the sandbox's bad deploy with one credential of every kind planted in auth-service's logs,
and deps wired to it the way the CLI wires them (in-memory approvals, no Slack)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import AsyncIterator, Iterator
from importlib import resources
from pathlib import Path

import pytest
import yaml

from bot.config import Settings, load_ops_config
from bot.sandbox.runner import Sandbox
from bot.wiring import Deps, build_deps


def leaky_bad_deploy(folder: Path) -> Path:
    """bad-deploy.yaml as shipped, with `plant_secrets` switched on for the live auth-service image."""
    text = (resources.files("bot.sandbox") / "scenarios" / "bad-deploy.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["profiles"]["auth-2.5.0"]["logs"]["plant_secrets"] = True
    path = folder / "bad-deploy-leaky.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def leaky_sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(str(leaky_bad_deploy(tmp_path))) as sandbox:
        sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        yield sandbox


def sandbox_settings(sandbox: Sandbox, kubeconfig: Path, metrics_url: str | None = None) -> Settings:
    return Settings(_env_file=None, kubeconfig=str(kubeconfig), metrics_api_url=metrics_url or sandbox.metrics_url,
                    metrics_api_key=None, redis_url=None, database_url=None, opsbot_config=None)


@pytest.fixture
async def leaky_deps(leaky_sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Deps]:
    deps = build_deps(sandbox_settings(leaky_sandbox, tmp_path / "kubeconfig"), load_ops_config(None))
    await deps.approvals.store.open()
    try:
        yield deps
    finally:
        await deps.aclose()


def archive_members(archive: bytes) -> dict[str, bytes]:
    """Every file in a bundle archive by its base name."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            assert handle is not None
            out[member.name.rsplit("/", 1)[-1]] = handle.read()
    return out
