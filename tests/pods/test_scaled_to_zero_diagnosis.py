"""A deployment scaled to zero, diagnosed for a 503 against the sandbox over real HTTP: the pod check says that
nothing can serve and the diagnosis offers restore-replicas, which brings back the count scale-to-zero recorded."""

from __future__ import annotations

from pathlib import Path

from bot.actions import ACTIONS
from bot.actions.base import ActionEnv
from bot.config import Settings, load_ops_config
from bot.model import Status, Symptom
from bot.sandbox.runner import Sandbox
from bot.sources.kube import build_api_client
from bot.sources.kube_writes import KubeWriter
from bot.wiring import build_deps


async def test_a_503_on_a_deployment_scaled_to_zero_is_explained_and_offers_restore_replicas(tmp_path: Path) -> None:
    config = load_ops_config(None)
    with Sandbox("healthy") as sandbox:
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        api = build_api_client(str(kubeconfig))
        try:
            down = ACTIONS["scale-to-zero"]
            env = ActionEnv(kube=KubeWriter(api), config=config)
            await down.execute(env, config.target("data-processor"), down.parse({}, config))
        finally:
            api.close()  # type: ignore[no-untyped-call]
        settings = Settings(_env_file=None, kubeconfig=str(kubeconfig), metrics_api_url=sandbox.metrics_url,
                            redis_url=None, database_url=None, opsbot_config=None)
        deps = build_deps(settings, config)
        try:
            diagnosis = await deps.diagnose("data-processor", Symptom.SERVICE_UNAVAILABLE)
        finally:
            await deps.aclose()
    pods = next(f for f in diagnosis.findings if f.check == "pod_status")
    assert pods.status is Status.WARN and "scaled to 0 replicas" in pods.summary
    top = diagnosis.likely_cause
    assert top is not None and top.key == "scaled_to_zero"
    assert [p.action for p in top.proposals] == ["restore-replicas"]
