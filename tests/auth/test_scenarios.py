"""Each authentication scenario, diagnosed through its runbook against the in-process sandbox over real
HTTP, ranks its planted root cause first; the healthy platform claims none."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import load_ops_config
from bot.model import Diagnosis, Finding, Status, Symptom
from bot.sandbox.runner import Sandbox
from bot.sandbox.scenario import list_scenarios
from bot.wiring import build_deps
from tests.auth.platform import platform, sandbox_settings


def finding(diag: Diagnosis, check: str) -> Finding:
    return next(f for f in diag.findings if f.check == check)


def test_both_scenarios_are_listed() -> None:
    names = {name for name, _ in list_scenarios()}
    assert {"expired-tokens", "permission-denied"} <= names


async def test_expired_tokens_ranks_expired_tokens_first(tmp_path: Path) -> None:
    async with platform("expired-tokens", tmp_path) as deps:
        diag = await deps.diagnose("auth-service", Symptom.INVALID_JWT)
    assert diag.likely_cause is not None and diag.likely_cause.key == "jwt_expired"
    assert finding(diag, "unauthorized_share").status is Status.CRIT
    assert "POST /auth/validate" in finding(diag, "unauthorized_share").summary
    reasons = finding(diag, "jwt_reasons")
    assert "most common: expired" in reasons.summary
    # The noise: pod 2's clock runs 18 s ahead, measured from app vs runtime log timestamps over HTTP;
    # inside the 30 s leeway it warns but is not offered as a cause.
    clock = finding(diag, "clock_skew")
    assert clock.status is Status.WARN
    worst = {f.label: f.value for f in clock.facts}["worst skew"]
    assert worst.startswith("+18.0 s")
    assert sum(1 for line in clock.evidence if "+0.0 s" in line or "-0.0 s" in line) == 2
    assert "clock_skew" not in {c.key for c in diag.causes}
    assert finding(diag, "recent_rollout").status is Status.OK


async def test_permission_denied_names_the_missing_permission_over_a_recent_deploy(tmp_path: Path) -> None:
    async with platform("permission-denied", tmp_path) as deps:
        diag = await deps.diagnose("business-logic", Symptom.PERMISSION_DENIED)
    top = diag.likely_cause
    assert top is not None and top.key == "missing_permission"
    assert "viewer lacks write:orders" in top.title and "editor" in top.title
    assert "POST /orders" in top.title
    # The red herring: a rollout 35 minutes ago is a suspect, ranked below the denials' explanation.
    keys = [c.key for c in diag.causes]
    assert "deploy" in keys and keys.index("deploy") > keys.index("missing_permission")
    forbidden = finding(diag, "forbidden_share")
    assert forbidden.status is Status.CRIT and forbidden.evidence[0].startswith("POST /orders")


async def test_the_healthy_platform_claims_no_auth_cause(tmp_path: Path) -> None:
    async with platform("healthy", tmp_path) as deps:
        jwt_diag = await deps.diagnose("auth-service", Symptom.INVALID_JWT)
        denied_diag = await deps.diagnose("business-logic", Symptom.PERMISSION_DENIED)
    assert finding(jwt_diag, "unauthorized_share").status is Status.OK
    assert finding(jwt_diag, "clock_skew").status is Status.OK
    assert finding(jwt_diag, "jwt_reasons").status is Status.OK  # a few stale tokens, a fraction of a percent
    assert finding(denied_diag, "forbidden_share").status is Status.OK
    for diag in (jwt_diag, denied_diag):
        assert all(c.confidence < 0.4 for c in diag.causes), diag.causes


async def test_a_node_clock_ahead_is_found_though_its_pods_agree_with_it(tmp_path: Path) -> None:
    """Every auth-service pod runs on a node whose clock is 90 s fast: the application and the runtime read
    the same clock, so their timestamps agree; the lines read from the API server are stamped in its future."""
    with Sandbox("healthy") as sandbox:
        ahead = datetime.now(UTC) + timedelta(seconds=90)
        times = [ahead - timedelta(milliseconds=100 * k) for k in range(30, 0, -1)]
        lines = [f"{t.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z INFO [auth-service] GET /health 200 2ms" for t in times]
        for pod in sandbox.cluster.list("Pod", "default", "app=auth-service"):
            sandbox.cluster.set_logs("default", pod["metadata"]["name"], "auth-service", lines, times=times)
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        deps = build_deps(sandbox_settings(sandbox, kubeconfig), load_ops_config(None))
        try:
            diag = await deps.diagnose("auth-service", Symptom.INVALID_JWT)
        finally:
            await deps.aclose()
    clock = finding(diag, "clock_skew")
    facts = {f.label: f for f in clock.facts}
    assert facts["worst skew"].status is Status.OK  # app vs runtime: the same wrong clock agrees with itself
    assert facts["node clock ahead (at least)"].status is Status.CRIT
    assert clock.status is Status.CRIT
    assert "Node sandbox-node-1's clock is at least" in clock.summary
    assert any(c.key == "clock_skew" and "node sandbox-node-1" in c.title for c in clock.causes)
