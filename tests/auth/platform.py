"""Deps wired to an in-process sandbox scenario (Kubernetes API and metrics API over real HTTP)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.config import Settings, load_ops_config
from bot.sandbox.runner import Sandbox
from bot.wiring import Deps, build_deps


def sandbox_settings(sandbox: Sandbox, kubeconfig: Path, **extra: object) -> Settings:
    return Settings(_env_file=None, kubeconfig=str(kubeconfig), metrics_api_url=sandbox.metrics_url,
                    redis_url=None, database_url=None, opsbot_config=None, **extra)  # type: ignore[arg-type]


@asynccontextmanager
async def platform(scenario: str, tmp_path: Path, **settings: object) -> AsyncIterator[Deps]:
    with Sandbox(scenario) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        deps = build_deps(sandbox_settings(sandbox, kubeconfig, **settings), load_ops_config(None))
        try:
            yield deps
        finally:
            await deps.aclose()
