"""`/diagnose SERVICE` with no symptom: the quick sweep over the cheap checks of every runbook."""

from pathlib import Path

import pytest

from bot.config import Settings, load_ops_config
from bot.model import Status, Symptom
from bot.runbooks import load_runbooks
from bot.sandbox.runner import Sandbox
from bot.wiring import build_deps

# Checks that read many log lines or sample repeatedly are not cheap and stay out of the sweep.
EXPENSIVE = {"error_logs", "jwt_reasons", "crash_logs", "clock_skew", "memory_trend", "dns_resolution",
             "too_many_clients", "missing_indexes", "slow_statements"}


def test_the_sweep_covers_every_runbook_family_cheaply() -> None:
    sweep = load_runbooks()[Symptom.UNKNOWN]
    assert sweep.sweep and sweep.symptom_check is None
    assert not EXPENSIVE & set(sweep.checks)
    assert {"error_rate", "latency", "pod_status", "resource_usage", "db_pool"} <= set(sweep.checks)


async def test_the_sweep_puts_the_worst_finding_first_and_names_the_deploy(tmp_path: Path) -> None:
    with Sandbox("bad-deploy") as sandbox:
        settings = Settings(_env_file=None, kubeconfig=str(sandbox.write_kubeconfig(tmp_path / "kubeconfig")),
                            metrics_api_url=sandbox.metrics_url, redis_url=None, database_url=None,
                            opsbot_config=None)
        deps = build_deps(settings, load_ops_config(None))
        try:
            diag = await deps.diagnose("auth-service", Symptom.UNKNOWN)
        finally:
            await deps.aclose()
    assert diag.findings[0].check == "error_rate" and diag.findings[0].status is Status.CRIT
    ranks = [f.status.rank for f in diag.findings]
    assert ranks == sorted(ranks, reverse=True)
    assert diag.likely_cause is not None and diag.likely_cause.key == "deploy"
    assert {f.check for f in diag.findings} == set(load_runbooks()[Symptom.UNKNOWN].checks)


# Every packaged scenario and the service its story is about.
STORY_SERVICE = {
    "bad-deploy": "auth-service",
    "cpu-saturation": "data-processor",
    "crash-loop": "business-logic",
    "dns-failure": "api-gateway",
    "expired-tokens": "auth-service",
    "failed-health-check": "api-gateway",
    "healthy": "auth-service",
    "memory-leak": "business-logic",
    "permission-denied": "business-logic",
    "pods-unavailable": "data-processor",
    "slow-dependency": "api-gateway",
    "upstream-timeouts": "data-processor",
}
# Where the story is not a bad rollout, rolling back is a wrong, destructive first suggestion.
NOT_A_DEPLOY = {"expired-tokens", "permission-denied", "cpu-saturation", "dns-failure", "healthy",
                "slow-dependency", "upstream-timeouts", "crash-loop"}


def test_every_packaged_scenario_has_a_story_service() -> None:
    packaged = {p.stem for p in (Path(__file__).parents[2] / "bot" / "sandbox" / "scenarios").glob("*.yaml")}
    assert packaged == set(STORY_SERVICE)


@pytest.mark.parametrize("scenario", sorted(STORY_SERVICE))
async def test_the_sweep_does_not_lead_with_a_rollback_where_no_deploy_is_to_blame(
        scenario: str, tmp_path: Path) -> None:
    with Sandbox(scenario) as sandbox:
        settings = Settings(_env_file=None, kubeconfig=str(sandbox.write_kubeconfig(tmp_path / "kubeconfig")),
                            metrics_api_url=sandbox.metrics_url, redis_url=None, database_url=None,
                            opsbot_config=None)
        deps = build_deps(settings, load_ops_config(None))
        try:
            diag = await deps.diagnose(STORY_SERVICE[scenario], Symptom.UNKNOWN)
        finally:
            await deps.aclose()
    top = diag.likely_cause
    if scenario in NOT_A_DEPLOY and top is not None:
        assert "rollback" not in {p.action for p in top.proposals}, (top.key, top.confidence)
    if scenario == "permission-denied":
        assert top is not None and top.key == "permission_refused"
    if scenario == "expired-tokens":
        assert top is not None and top.key.startswith("jwt_")
    if scenario == "bad-deploy":
        assert top is not None and top.key == "deploy"
