"""The pod-health runbooks against the sandbox over real HTTP: each scenario's planted cause ranks first,
for the reason the evidence gives, and a failing source costs one finding, not the diagnosis."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.config import Settings, load_ops_config
from bot.model import Diagnosis, Finding, Status, Symptom
from bot.sandbox.runner import Sandbox
from bot.wiring import build_deps

from .faulty_proxy import FaultyProxy

# Nothing listens here: connections are refused at once.
DEAD_URL = "http://127.0.0.1:9"


async def _diagnose(kubeconfig: Path, metrics_url: str, service: str, symptom: Symptom) -> Diagnosis:
    settings = Settings(_env_file=None, kubeconfig=str(kubeconfig), metrics_api_url=metrics_url,
                        redis_url=None, database_url=None, opsbot_config=None)
    deps = build_deps(settings, load_ops_config(None))
    try:
        return await deps.diagnose(service, symptom)
    finally:
        await deps.aclose()


async def _run(tmp_path: Path, scenario: str, service: str, symptom: Symptom, *,
               metrics_down: bool = False) -> Diagnosis:
    with Sandbox(scenario) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        metrics = DEAD_URL if metrics_down else sandbox.metrics_url
        return await _diagnose(kubeconfig, metrics, service, symptom)


def _finding(diagnosis: Diagnosis, check: str) -> Finding:
    return next(f for f in diagnosis.findings if f.check == check)


async def test_pods_unavailable_ranks_the_unpullable_image_first_with_a_rollback(tmp_path: Path) -> None:
    diagnosis = await _run(tmp_path, "pods-unavailable", "data-processor", Symptom.SERVICE_UNAVAILABLE)
    top = diagnosis.likely_cause
    assert top is not None and top.key == "image_pull"
    assert "data-processor:2.0.0" in top.title
    assert [p.params for p in top.proposals if p.action == "rollback"] == [{"to_revision": "4"}]
    status = _finding(diagnosis, "pod_status")
    assert status.status is Status.CRIT
    assert any(f.label == "ready" and f.value == "0/3" for f in status.facts)
    events = _finding(diagnosis, "pod_events")
    assert any("NotFound" in line and line.startswith("Failed") for line in events.evidence)


async def test_crash_loop_ranks_the_database_connection_first(tmp_path: Path) -> None:
    diagnosis = await _run(tmp_path, "crash-loop", "business-logic", Symptom.CRASH_LOOP)
    top = diagnosis.likely_cause
    assert top is not None and top.key == "missing_dependency"
    assert any("Cannot connect to database" in line for line in top.evidence)
    crash = _finding(diagnosis, "crash_logs")
    assert crash.status is Status.CRIT
    assert any(f.label == "exit" and "exit 1" in f.value for f in crash.facts)
    # The crash loop is explained, not listed as a rival cause; and no deploy is blamed (4.1.0 is 4 days old).
    assert {c.key for c in diagnosis.causes}.isdisjoint({"crash_loop", "deploy"})
    assert _finding(diagnosis, "recent_rollout").status is Status.OK


async def test_failed_health_check_ranks_slow_startup_first(tmp_path: Path) -> None:
    diagnosis = await _run(tmp_path, "failed-health-check", "api-gateway", Symptom.FAILED_HEALTH_CHECK)
    top = diagnosis.likely_cause
    assert top is not None and top.key == "slow_startup"
    timing = _finding(diagnosis, "probe_timing")
    assert timing.status is Status.CRIT
    assert any("ran 40 s" in line and "never logged that it was ready" in line for line in timing.evidence)
    assert any(f.label == "kill window" and f.value == "40 s" for f in timing.facts)
    health = _finding(diagnosis, "health_checks")
    assert health.status is Status.WARN and any(f.value == "2/4" for f in health.facts)


async def test_scenario_noise_does_not_implicate_a_healthy_service(tmp_path: Path) -> None:
    # auth-service has one OOMKilled restart from two days ago in crash-loop: history, not an incident.
    diagnosis = await _run(tmp_path, "crash-loop", "auth-service", Symptom.CRASH_LOOP)
    assert _finding(diagnosis, "pod_status").status is Status.OK
    assert _finding(diagnosis, "crash_logs").status is Status.OK
    assert all(c.confidence < 0.4 for c in diagnosis.causes)


async def test_metrics_api_down_costs_the_health_finding_only(tmp_path: Path) -> None:
    diagnosis = await _run(tmp_path, "failed-health-check", "api-gateway", Symptom.FAILED_HEALTH_CHECK,
                           metrics_down=True)
    assert _finding(diagnosis, "health_checks").status is Status.ERROR
    assert "metrics API" in _finding(diagnosis, "health_checks").summary
    assert _finding(diagnosis, "probe_timing").status is Status.CRIT
    assert diagnosis.likely_cause is not None and diagnosis.likely_cause.key == "slow_startup"


async def test_metrics_api_down_in_service_unavailable(tmp_path: Path) -> None:
    diagnosis = await _run(tmp_path, "pods-unavailable", "data-processor", Symptom.SERVICE_UNAVAILABLE,
                           metrics_down=True)
    assert _finding(diagnosis, "circuit_breaker").status is Status.ERROR
    assert _finding(diagnosis, "pod_status").status is Status.CRIT
    assert diagnosis.likely_cause is not None and diagnosis.likely_cause.key == "image_pull"


async def test_events_api_failing_costs_the_events_finding_only(tmp_path: Path) -> None:
    with Sandbox("crash-loop") as sandbox, FaultyProxy(sandbox.kube_url, r"/events$") as proxy:
        config = sandbox.kubeconfig()
        config["clusters"] = [{"name": "opsbot-sandbox", "cluster": {"server": proxy.url}}]
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump(config), encoding="utf-8")
        diagnosis = await _diagnose(kubeconfig, sandbox.metrics_url, "business-logic", Symptom.CRASH_LOOP)
    assert proxy.refused, "the events read never reached the proxy"
    events = _finding(diagnosis, "pod_events")
    assert events.status is Status.ERROR and "503" in events.summary
    assert _finding(diagnosis, "crash_logs").status is Status.CRIT
    assert diagnosis.likely_cause is not None and diagnosis.likely_cause.key == "missing_dependency"
