"""Identical diagnoses asked for at the same time share one run against the platform."""

import asyncio
from pathlib import Path

from bot.config import Settings, load_ops_config
from bot.model import Symptom
from bot.sandbox.runner import Sandbox
from bot.wiring import build_deps


def _reads_of_the_deployment(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.cluster.requests
               if r.method == "GET" and r.path.endswith("/deployments/auth-service"))


async def test_concurrent_identical_diagnoses_share_one_run(tmp_path: Path) -> None:
    with Sandbox("bad-deploy") as sandbox:
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        settings = Settings(_env_file=None, kubeconfig=str(kubeconfig), metrics_api_url=sandbox.metrics_url,
                            redis_url=None, database_url=None, opsbot_config=None)
        deps = build_deps(settings, load_ops_config(None))
        try:
            before = _reads_of_the_deployment(sandbox)
            single = await deps.diagnose("auth-service", Symptom.HIGH_ERROR_RATE)
            per_run = _reads_of_the_deployment(sandbox) - before
            assert per_run > 0
            before = _reads_of_the_deployment(sandbox)
            shared = await asyncio.gather(*(deps.diagnose("auth-service", Symptom.HIGH_ERROR_RATE) for _ in range(5)))
            assert _reads_of_the_deployment(sandbox) - before == per_run
            assert all(d is shared[0] for d in shared)
            assert shared[0].likely_cause is not None and single.likely_cause is not None
            assert shared[0].likely_cause.key == single.likely_cause.key == "deploy"
            assert deps.in_flight == {}
        finally:
            await deps.aclose()
