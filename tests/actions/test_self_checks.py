"""Actions that check themselves (scale-to-zero, restore-replicas, maintenance, debug-logging): their own check
against the sandbox over real HTTP, the verdict the remediation flow gives from it (before and after approval),
and scale-to-zero's record surviving opsbot's own rollback so the guide's emergency sequence can restore."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.actions import ACTIONS
from bot.actions.base import Action, ActionEnv, ChecksItself
from bot.actions.debug_logging import DEBUG_UNTIL, LEVEL_BEFORE
from bot.approvals import Approver, DecisionKind
from bot.approvals.decision import NothingToChange
from bot.config import OpsConfig, Settings
from bot.model import Fact, Finding, Status
from bot.remediation import Remediation, build_remediation
from bot.render.approval_text import verification_lines
from bot.sandbox.runner import Sandbox
from bot.sources.kube_undo import REPLICAS_BEFORE, undo_annotations
from bot.verification import Trend, compare_reached
from bot.wiring import Deps, build_deps
from tests.approvals.conftest import ADMIN, ADMIN_2, EDITOR, EDITOR_2, role_config

from .conftest import deployment, env_value, pods

SELF_CHECKED = {"scale-to-zero", "restore-replicas", "maintenance", "debug-logging"}


def checker(name: str) -> Any:
    action: Action[Any] = ACTIONS[name]
    assert isinstance(action, ChecksItself)
    return action


def test_only_the_actions_without_a_runbook_check_themselves() -> None:
    assert {name for name, action in ACTIONS.items() if isinstance(action, ChecksItself)} == SELF_CHECKED
    assert all(ACTIONS[name].verify_symptom is None for name in SELF_CHECKED)


async def test_scale_to_zero_counts_the_pods_left(env: ActionEnv, config: OpsConfig, sandbox: Sandbox) -> None:
    action, target = checker("scale-to-zero"), config.target("data-processor")
    params = action.parse({}, config)
    before = await action.check(env, target, params)
    assert before.status is Status.WARN and before.facts[0].value == "3 (3 running, 3 ready)"
    await action.execute(env, target, params)
    after = await action.check(env, target, params)
    assert after.status is Status.OK and after.facts[0].value == "0 (0 running, 0 ready)"
    assert after.summary == "no pods of data-processor remain"
    assert compare_reached(before, after) == (Trend.BETTER, "no pods of data-processor remain")


async def test_maintenance_reads_the_switch_back(env: ActionEnv, config: OpsConfig, sandbox: Sandbox) -> None:
    action, target = checker("maintenance"), config.target("api-gateway")
    on, off = action.parse({"mode": "on"}, config), action.parse({"mode": "off"}, config)
    before_on = await action.check(env, target, on)
    assert before_on.status is Status.WARN and before_on.facts[0].value == "0 of 1 present"
    await action.execute(env, target, on)
    after_on = await action.check(env, target, on)
    assert after_on.status is Status.OK and after_on.facts[0].value == "1 of 1 present (enabled, answers 503)"
    assert "the load balancer answers 503" in after_on.summary
    assert compare_reached(before_on, after_on)[0] is Trend.BETTER

    before_off = await action.check(env, target, off)
    assert before_off.status is Status.WARN and before_off.facts[0].threshold == "0"
    await action.execute(env, target, off)
    after_off = await action.check(env, target, off)
    assert after_off.status is Status.OK and after_off.facts[0].value == "0 of 1 present"
    assert sandbox.cluster.get("ConfigMap", "default", "maintenance-mode") is None
    trend, why = compare_reached(before_off, after_off)
    assert trend is Trend.BETTER and "traffic is routed to the services" in why


async def test_maintenance_switched_on_but_disabled_is_not_on(env: ActionEnv, config: OpsConfig,
                                                              sandbox: Sandbox) -> None:
    action, target = checker("maintenance"), config.target("api-gateway")
    await action.execute(env, target, action.parse({"mode": "on"}, config))
    stored = sandbox.cluster.get("ConfigMap", "default", "maintenance-mode")
    assert stored is not None
    stored["data"]["enabled"] = "false"  # someone disabled the switch by hand: the load balancer routes again
    sandbox.cluster.update(stored)
    found = await action.check(env, target, action.parse({"mode": "on"}, config))
    assert found.status is Status.WARN and "not enabled" in found.summary


async def test_debug_logging_counts_pods_running_with_debug(env: ActionEnv, config: OpsConfig,
                                                            sandbox: Sandbox) -> None:
    action, target = checker("debug-logging"), config.target("auth-service")
    on, revert = action.parse({"minutes": "15"}, config), action.parse({"revert": "true"}, config)
    before = await action.check(env, target, on)
    assert before.status is Status.WARN and before.facts[0].value == "0 of 3 ready (3 without)"
    await action.execute(env, target, on)
    after = await action.check(env, target, on)
    assert after.status is Status.OK and after.facts[0].value == "3 of 3 ready (0 without)"
    assert compare_reached(before, after)[0] is Trend.BETTER
    assert compare_reached(after, after)[0] is Trend.UNCHANGED  # already on before: nothing changed

    before_revert = await action.check(env, target, revert)
    assert before_revert.status is Status.WARN and before_revert.facts[0].value == "3 of 3"
    await action.execute(env, target, revert)
    assert env_value(sandbox, "auth-service", "LOG_LEVEL") == "INFO"
    after_revert = await action.check(env, target, revert)
    assert after_revert.status is Status.OK and after_revert.facts[0].value == "0 of 3"


def test_a_target_not_reached_names_both_states() -> None:
    def found(status: Status, left: str) -> Finding:
        return Finding("scale-to-zero", "Pods", status, f"{left} pod(s) left", (Fact("pods", left, "0", status),))

    trend, why = compare_reached(found(Status.WARN, "3"), found(Status.WARN, "3"))
    assert trend is Trend.UNCHANGED and why.startswith("3 pod(s) left (before: 3 pod(s) left")
    assert compare_reached(found(Status.OK, "0"), found(Status.WARN, "2"))[0] is Trend.WORSE
    assert compare_reached(None, found(Status.OK, "0"))[0] is Trend.UNKNOWN
    failed = Finding("scale-to-zero", "Pods", Status.ERROR, "HTTP 503")
    assert compare_reached(found(Status.WARN, "3"), failed)[0] is Trend.UNKNOWN


# -- the remediation flow's verdict -----------------------------------------------------------------------------


@pytest.fixture
async def flow(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[tuple[Deps, Remediation]]:
    settings = Settings(_env_file=None, kubeconfig=str(sandbox.write_kubeconfig(tmp_path / "kubeconfig")),
                        metrics_api_url=sandbox.metrics_url, redis_url=None, database_url=None, opsbot_config=None)
    base = role_config()
    config = base.model_copy(update={"action_limits": base.action_limits.model_copy(update={"verify_delay_s": 0})})
    deps = build_deps(settings, config)
    remediation = build_remediation(deps)
    yield deps, remediation
    await remediation.cancel_pending()
    await deps.aclose()


async def run(flow: tuple[Deps, Remediation], action: str, service: str, params: dict[str, str],
              requester: str, approvers: tuple[str, ...]) -> Any:
    deps, remediation = flow
    proposed = await deps.approvals.propose(action, service, params, requester)
    for approver in approvers:
        decision = await remediation.approve(proposed.request.id, Approver.slack_user(approver))
    assert decision.kind is DecisionKind.SUCCEEDED and decision.request is not None and decision.outcome is not None
    return await remediation.verify(decision.request, decision.outcome)


async def test_scale_to_zero_is_verified_by_its_pods_and_offers_restore(
    flow: tuple[Deps, Remediation], sandbox: Sandbox
) -> None:
    verdict = await run(flow, "scale-to-zero", "data-processor", {}, ADMIN, (ADMIN, ADMIN_2))
    assert verdict.trend is Trend.BETTER and verdict.settled and verdict.symptom is None
    assert verdict.key_fact_before.value == "3 (3 running, 3 ready)"
    assert verdict.key_fact_after.value == "0 (0 running, 0 ready)"
    assert verdict.revert is not None and verdict.revert.action == "restore-replicas"
    lines = verification_lines(verdict)
    assert lines[0] == "Verification of data-processor: better"
    assert lines[1] == "Before: pods: 3 (3 running, 3 ready) → after: pods: 0 (0 running, 0 ready) (threshold 0)"
    assert "no runbook" not in "\n".join(lines)


async def test_restore_replicas_is_verified_by_its_ready_pods_not_by_a_runbook(
    flow: tuple[Deps, Remediation], sandbox: Sandbox
) -> None:
    await run(flow, "scale-to-zero", "data-processor", {}, ADMIN, (ADMIN, ADMIN_2))
    verdict = await run(flow, "restore-replicas", "data-processor", {}, ADMIN, (ADMIN_2,))
    assert verdict.trend is Trend.BETTER and verdict.settled and verdict.symptom is None
    assert verdict.key_fact_before.value == "0 of 3" and verdict.key_fact_after.value == "3 of 3"
    assert verdict.note == "all 3 replica(s) of data-processor are ready again"
    assert verification_lines(verdict)[1] == "Before: ready pods: 0 of 3 → after: ready pods: 3 of 3 (threshold 3)"


async def test_restore_replicas_check_before_and_after(env: ActionEnv, config: OpsConfig, sandbox: Sandbox) -> None:
    restore, target = checker("restore-replicas"), config.target("data-processor")
    params = restore.parse({}, config)
    down = ACTIONS["scale-to-zero"]
    await down.execute(env, target, down.parse({}, config))
    before = await restore.check(env, target, params)
    assert before.status is Status.WARN and before.facts[0].value == "0 of 3" and before.facts[0].threshold == "3"
    await restore.execute(env, target, params)
    after = await restore.check(env, target, params)
    assert after.status is Status.OK and after.facts[0].value == "3 of 3"
    assert compare_reached(before, after)[0] is Trend.BETTER


async def test_maintenance_on_then_off_are_verified(flow: tuple[Deps, Remediation]) -> None:
    on = await run(flow, "maintenance", "api-gateway", {"mode": "on"}, ADMIN, (ADMIN, ADMIN_2))
    assert on.trend is Trend.BETTER and on.key_fact_after.value == "1 of 1 present (enabled, answers 503)"
    assert on.revert is not None and dict(on.revert.params) == {"mode": "off"}
    off = await run(flow, "maintenance", "api-gateway", {"mode": "off"}, ADMIN, (ADMIN, ADMIN_2))
    assert off.trend is Trend.BETTER and off.key_fact_before.value == "1 of 1 present (enabled, answers 503)"
    assert off.key_fact_after.value == "0 of 1 present" and off.revert is None
    # Off again changes nothing: not offered at all (no four-eyes approval of a no-op).
    with pytest.raises(NothingToChange, match="maintenance mode is already off"):
        await run(flow, "maintenance", "api-gateway", {"mode": "off"}, ADMIN, (ADMIN, ADMIN_2))
    await run(flow, "maintenance", "api-gateway", {"mode": "on"}, ADMIN, (ADMIN, ADMIN_2))
    again = await run(flow, "maintenance", "api-gateway", {"mode": "on"}, ADMIN, (ADMIN, ADMIN_2))  # re-applied
    assert again.trend is Trend.UNCHANGED and again.note.startswith("already so before the action")


async def test_debug_logging_is_verified_by_the_pods_running_with_it(flow: tuple[Deps, Remediation]) -> None:
    verdict = await run(flow, "debug-logging", "auth-service", {"minutes": "15"}, EDITOR, (EDITOR_2,))
    assert verdict.trend is Trend.BETTER
    assert verdict.key_fact_before.value == "0 of 3 ready (3 without)"
    assert verdict.key_fact_after.value == "3 of 3 ready (0 without)"
    assert verdict.revert is None, "a timed change reverts on its own; no revert button"
    reverted = await run(flow, "debug-logging", "auth-service", {"revert": "true"}, EDITOR, (EDITOR_2,))
    assert reverted.trend is Trend.BETTER and reverted.key_fact_after.value == "0 of 3"


# -- the emergency sequence across opsbot's own rollback ---------------------------------------------------------


async def test_scale_to_zero_then_rollback_then_restore_brings_the_count_back(
    env: ActionEnv, config: OpsConfig, sandbox: Sandbox
) -> None:
    target = config.target("auth-service")
    replicas = deployment(sandbox, "auth-service")["spec"]["replicas"]
    assert replicas > 0
    down = ACTIONS["scale-to-zero"]
    await down.execute(env, target, down.parse({}, config))
    rollback = ACTIONS["rollback"]
    undone = await rollback.execute(env, target, rollback.parse({}, config))
    stored = deployment(sandbox, "auth-service")
    assert undone.ok and stored["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2.4.1")
    assert stored["spec"]["replicas"] == 0 and stored["metadata"]["annotations"][REPLICAS_BEFORE] == str(replicas)

    restore = ACTIONS["restore-replicas"]
    params = restore.parse({}, config)
    assert (await restore.preview(env, target, params)).blocked is None
    await restore.execute(env, target, params)
    stored = deployment(sandbox, "auth-service")
    assert stored["spec"]["replicas"] == replicas and REPLICAS_BEFORE not in stored["metadata"]["annotations"]
    assert len(pods(sandbox, "auth-service")) == replicas
    assert stored["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2.4.1")


def test_undo_keeps_the_deployments_replica_record_and_lets_template_records_follow_the_template() -> None:
    deployment_now = {"deployment.kubernetes.io/revision": "9", REPLICAS_BEFORE: "4",
                      LEVEL_BEFORE: "INFO", DEBUG_UNTIL: "2026-01-01T10:00:00Z"}
    older = {"deployment.kubernetes.io/revision": "7", "kubernetes.io/change-cause": "deploy 7"}
    assert undo_annotations(deployment_now, older) == {
        "deployment.kubernetes.io/revision": "9", REPLICAS_BEFORE: "4", "kubernetes.io/change-cause": "deploy 7",
    }  # debug logging went with the newer template: its records too
    stale = {**older, REPLICAS_BEFORE: "2", LEVEL_BEFORE: "WARN", DEBUG_UNTIL: "2025-12-01T10:00:00Z"}
    restored = {"deployment.kubernetes.io/revision": "9"}
    assert undo_annotations(restored, stale) == {
        "deployment.kubernetes.io/revision": "9", "kubernetes.io/change-cause": "deploy 7",
        LEVEL_BEFORE: "WARN", DEBUG_UNTIL: "2025-12-01T10:00:00Z",
    }  # a count restored long ago never comes back; a template made with debug logging brings its revert
