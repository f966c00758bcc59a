"""Deps wired to an in-process sandbox (Kubernetes API, metrics API, cluster DNS over real sockets)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.config import Settings, load_ops_config
from bot.model import Diagnosis, Finding
from bot.sandbox.runner import Sandbox
from bot.wiring import Deps, build_deps


def finding(diag: Diagnosis, check: str) -> Finding:
    return next(f for f in diag.findings if f.check == check)


@asynccontextmanager
async def platform(sandbox: Sandbox, tmp_path: Path, *, kubeconfig: Path | None = None,
                   metrics_url: str | None = None, ops_config: Path | None = None) -> AsyncIterator[Deps]:
    """The bot as `opsbot sandbox` tells it to run: the sandbox's kubeconfig, metrics URL and ops config.

    Each may be replaced, to point one source at something broken while the others stay healthy."""
    kubeconfig = kubeconfig or sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    ops_config = ops_config or sandbox.write_ops_config(tmp_path / "opsbot-sandbox.yaml")
    settings = Settings(_env_file=None, kubeconfig=str(kubeconfig), metrics_api_url=metrics_url or sandbox.metrics_url,
                        redis_url=None, database_url=None, opsbot_config=ops_config)
    deps = build_deps(settings, load_ops_config(ops_config))
    try:
        yield deps
    finally:
        await deps.aclose()
