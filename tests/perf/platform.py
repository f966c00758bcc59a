"""Deps wired to an in-process sandbox scenario (Kubernetes API and metrics API over real HTTP)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.config import Settings, load_ops_config
from bot.model import Diagnosis, Symptom
from bot.sandbox.runner import Sandbox
from bot.wiring import build_deps

# Nothing listens on port 1: a metrics API that is down.
UNREACHABLE = "http://127.0.0.1:1"


@asynccontextmanager
async def sandbox(scenario: str) -> AsyncIterator[Sandbox]:
    with Sandbox(scenario) as running:
        yield running


async def diagnose(running: Sandbox, tmp_path: Path, service: str, symptom: Symptom, *,
                   metrics_url: str | None = None) -> Diagnosis:
    kubeconfig = running.write_kubeconfig(tmp_path / "kubeconfig")
    settings = Settings(_env_file=None, kubeconfig=str(kubeconfig), metrics_api_url=metrics_url or running.metrics_url,
                        redis_url=None, database_url=None, opsbot_config=None)
    deps = build_deps(settings, load_ops_config(None))
    try:
        return await deps.diagnose(service, symptom)
    finally:
        await deps.aclose()
