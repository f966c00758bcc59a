"""The Kubernetes actions against the sandbox over real HTTP: previews change nothing (server dry run),
executes change exactly what kubectl would, twice is the same as once, and stale proposals are visible."""

from __future__ import annotations

from typing import Any

import pytest

from bot.actions import ACTIONS
from bot.actions.base import REVERT_PARAM, Action, ActionEnv, ActionError, changed_keys
from bot.actions.debug_logging import DEBUG_UNTIL, LEVEL_BEFORE
from bot.actions.memory_bump import LIMIT_BEFORE
from bot.config import OpsConfig
from bot.model import Proposal, Target
from bot.sandbox.runner import NAMESPACE, Sandbox
from bot.sources.errors import SourceError
from bot.sources.kube_undo import REPLICAS_BEFORE, RESTARTED_AT

from .conftest import Clock, app_container, deployment, dry_run_writes, env_value, pods, snapshot


def prepared(config: OpsConfig, name: str, service: str,
             raw: dict[str, str] | None = None) -> tuple[Action[Any], Any, Target]:
    """The action, its parsed params and the service's target, as the approvals layer would hold them."""
    action = ACTIONS[name]
    return action, action.parse(raw or {}, config), config.target(service)


async def test_registry_holds_the_stable_names() -> None:
    assert set(ACTIONS) == {"scale", "restart", "rollback", "delete-pod", "flush-cache", "terminate-idle",
                            "cancel-query", "debug-logging", "memory-bump", "scale-to-zero", "restore-replicas",
                            "maintenance"}
    assert all(name == action.name for name, action in ACTIONS.items())
    admin_only = {n for n, a in ACTIONS.items() if a.default_role == "admin"}
    assert admin_only == {"flush-cache", "scale-to-zero", "restore-replicas", "maintenance", "terminate-idle",
                          "cancel-query"}


async def test_scale_preview_is_a_dry_run_and_execute_scales(env: ActionEnv, config: OpsConfig,
                                                             sandbox: Sandbox) -> None:
    action, params, target = prepared(config, "scale", "api-gateway", {"replicas": "8"})
    before = snapshot(sandbox, "api-gateway")
    preview = await action.preview(env, target, params)
    assert snapshot(sandbox, "api-gateway") == before
    assert any(path.endswith("/deployments/api-gateway/scale") for path in dry_run_writes(sandbox))
    assert "4 -> 8" in preview.changes[0] and preview.blocked is None
    assert "HPA api-gateway (3..12)" in preview.changes[1]

    outcome = await action.execute(env, target, params)
    assert outcome.ok and deployment(sandbox, "api-gateway")["spec"]["replicas"] == 8
    assert len(pods(sandbox, "api-gateway")) == 8
    assert outcome.revert == Proposal("scale", {"replicas": "4"}, reason="back to 4 replicas")
    assert await action.settled(env, target, params)

    generation = deployment(sandbox, "api-gateway")["metadata"]["generation"]
    again = await action.execute(env, target, params)
    assert again.ok and deployment(sandbox, "api-gateway")["metadata"]["generation"] == generation


@pytest.mark.parametrize(("raw", "message"), [
    ({"replicas": "21"}, r"scale: replicas must be at most 20, got 21 \(allowed 1..20"),
    ({"replicas": "0"}, "replicas must be at least 1, got 0"),
    ({"replicas": "-3"}, "replicas must be at least 1, got -3"),  # a whole number, below the bound
    ({"replicas": "2.5"}, "replicas must be a whole number, got '2.5'"),
    ({"replicas": "8", "force": "yes"}, "unknown parameter force"),
    ({}, "must be a whole number"),
])
def test_scale_bounds_are_refused_with_a_clear_message(config: OpsConfig, raw: dict[str, str],
                                                       message: str) -> None:
    with pytest.raises(ActionError, match=message):
        ACTIONS["scale"].parse(raw, config)


async def test_scale_beyond_the_autoscaler_says_it_will_not_last(env: ActionEnv, config: OpsConfig) -> None:
    action, params, target = prepared(config, "scale", "data-processor", {"replicas": "20"})
    preview = await action.preview(env, target, params)
    assert "keeps replicas within 2..15" in preview.changes[1] and "scale back from 20" in preview.changes[1]


def test_scale_bounds_follow_the_ops_config(config: OpsConfig) -> None:
    tight = config.model_copy(update={"action_limits": config.action_limits.model_copy(update={"max_replicas": 6})})
    with pytest.raises(ActionError, match=r"1\.\.6"):
        ACTIONS["scale"].parse({"replicas": "8"}, tight)
    assert ACTIONS["scale"].parse({"replicas": "20"}, config).replicas == 20  # the guide's biggest scale-up


async def test_restart_stamps_the_template_once(env: ActionEnv, config: OpsConfig, sandbox: Sandbox,
                                                clock: Clock) -> None:
    action, params, target = prepared(config, "restart", "auth-service")
    old_pods = pods(sandbox, "auth-service")
    before = snapshot(sandbox, "auth-service")
    preview = await action.preview(env, target, params)
    assert snapshot(sandbox, "auth-service") == before and RESTARTED_AT in preview.changes[0]

    outcome = await action.execute(env, target, params)
    assert outcome.ok
    stamp = deployment(sandbox, "auth-service")["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT]
    assert stamp == clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert pods(sandbox, "auth-service").isdisjoint(old_pods)  # every pod replaced
    assert outcome.revert is None

    generation = deployment(sandbox, "auth-service")["metadata"]["generation"]
    clock.advance(seconds=5)  # a retried execute moments later must not roll the pods again
    await action.execute(env, target, params)
    assert deployment(sandbox, "auth-service")["metadata"]["generation"] == generation

    clock.advance(minutes=5)  # a deliberate restart later does
    await action.execute(env, target, params)
    assert deployment(sandbox, "auth-service")["metadata"]["generation"] == generation + 1


async def test_fingerprint_changes_after_a_new_rollout(env: ActionEnv, config: OpsConfig, sandbox: Sandbox) -> None:
    action, params, target = prepared(config, "scale", "auth-service", {"replicas": "5"})
    preview = await action.preview(env, target, params)
    assert changed_keys(preview.state, await action.fingerprint(env, target, params)) == []

    await ACTIONS["restart"].execute(env, target, ACTIONS["restart"].parse({}, config))
    stale = changed_keys(preview.state, await action.fingerprint(env, target, params))
    assert "template" in stale and "revision" in stale


async def test_an_autoscaler_does_not_make_template_proposals_stale(env: ActionEnv, config: OpsConfig,
                                                                     sandbox: Sandbox) -> None:
    restart, restart_params, target = prepared(config, "restart", "auth-service")
    scale, scale_params, _ = prepared(config, "scale", "auth-service", {"replicas": "9"})
    restart_preview = await restart.preview(env, target, restart_params)
    scale_preview = await scale.preview(env, target, scale_params)
    with sandbox.cluster.lock:  # what an HPA does: spec.replicas moves (and with it the generation)
        current = deployment(sandbox, "auth-service")
        current["spec"]["replicas"] = int(current["spec"]["replicas"]) + 2
        sandbox.cluster.update(current)
    assert changed_keys(restart_preview.state, await restart.fingerprint(env, target, restart_params)) == []
    assert changed_keys(scale_preview.state, await scale.fingerprint(env, target, scale_params)) == ["replicas"]


async def test_delete_pod_only_deletes_a_pod_of_the_service(env: ActionEnv, config: OpsConfig,
                                                            sandbox: Sandbox) -> None:
    victim = sorted(pods(sandbox, "business-logic"))[0]
    action, params, target = prepared(config, "delete-pod", "business-logic", {"pod": victim})
    before = snapshot(sandbox, "business-logic")
    preview = await action.preview(env, target, params)
    assert snapshot(sandbox, "business-logic") == before and preview.blocked is None
    assert preview.state["pod_uid"] == pod_uid(sandbox, victim)

    outcome = await action.execute(env, target, params)
    assert outcome.ok
    after = pods(sandbox, "business-logic")
    assert victim not in after and len(after) == 3  # replaced by its ReplicaSet
    assert changed_keys(preview.state, await action.fingerprint(env, target, params)) == ["pod_uid"]

    again = await action.execute(env, target, params)
    assert again.ok and pods(sandbox, "business-logic") == after

    other = sorted(pods(sandbox, "api-gateway"))[0]
    foreign = action.parse({"pod": other}, config)
    blocked = await action.preview(env, target, foreign)
    assert blocked.blocked and "not one of business-logic's pods" in blocked.blocked
    await action.execute(env, target, foreign)
    assert other in pods(sandbox, "api-gateway")


def pod_uid(sandbox: Sandbox, name: str) -> str:
    pod = sandbox.cluster.get("Pod", NAMESPACE, name)
    assert pod is not None
    return str(pod["metadata"]["uid"])


def scale_up(sandbox: Sandbox, service: str, more: int) -> None:
    """What an autoscaler does: more replicas, so new pods appear next to the existing ones."""
    with sandbox.cluster.lock:
        current = deployment(sandbox, service)
        current["spec"]["replicas"] = int(current["spec"]["replicas"]) + more
        sandbox.cluster.update(current)
        sandbox.cluster.reconcile()


def recreate_pod(sandbox: Sandbox, name: str) -> None:
    """The pod deleted and a new one created under the same name (same owner): only its UID tells them apart."""
    with sandbox.cluster.lock:
        pod = sandbox.cluster.get("Pod", NAMESPACE, name)
        assert pod is not None
        sandbox.cluster.delete("Pod", NAMESPACE, name)
        meta = {k: v for k, v in pod["metadata"].items() if k not in ("uid", "resourceVersion", "creationTimestamp")}
        sandbox.cluster.create({**pod, "metadata": meta})


async def test_the_pod_delete_is_conditional_on_the_pods_uid(env: ActionEnv, sandbox: Sandbox) -> None:
    # A pod replaced under the same name between the check under the lock and the delete call is not deleted.
    victim = sorted(pods(sandbox, "business-logic"))[0]
    approved_uid = pod_uid(sandbox, victim)
    recreate_pod(sandbox, victim)
    with pytest.raises(SourceError, match="409"):
        await env.kube.delete_pod(NAMESPACE, victim, uid=approved_uid, dry_run=False)
    assert victim in pods(sandbox, "business-logic")
    await env.kube.delete_pod(NAMESPACE, victim, uid=pod_uid(sandbox, victim), dry_run=False)
    assert victim not in pods(sandbox, "business-logic")


async def test_delete_pod_is_not_made_stale_by_other_pods_coming_and_going(env: ActionEnv, config: OpsConfig,
                                                                          sandbox: Sandbox) -> None:
    victim = sorted(pods(sandbox, "business-logic"))[0]
    action, params, target = prepared(config, "delete-pod", "business-logic", {"pod": victim})
    preview = await action.preview(env, target, params)
    scale_up(sandbox, "business-logic", 2)
    assert len(pods(sandbox, "business-logic")) == 5
    assert changed_keys(preview.state, await action.fingerprint(env, target, params)) == []
    others = sorted(pods(sandbox, "business-logic") - {victim})
    sandbox.cluster.delete("Pod", NAMESPACE, others[0])  # another pod goes away (and is replaced)
    sandbox.cluster.reconcile()
    assert changed_keys(preview.state, await action.fingerprint(env, target, params)) == []


async def test_delete_pod_is_stale_when_its_pod_was_replaced_or_left_the_deployment(
    env: ActionEnv, config: OpsConfig, sandbox: Sandbox
) -> None:
    first, second = sorted(pods(sandbox, "business-logic"))[:2]
    action, params, target = prepared(config, "delete-pod", "business-logic", {"pod": first})
    preview = await action.preview(env, target, params)
    recreate_pod(sandbox, first)
    assert first in pods(sandbox, "business-logic")
    assert changed_keys(preview.state, await action.fingerprint(env, target, params)) == ["pod_uid"]

    params = action.parse({"pod": second}, config)
    preview = await action.preview(env, target, params)
    with sandbox.cluster.lock:  # orphaned: it still matches the selector, but no ReplicaSet controls it
        orphan = sandbox.cluster.get("Pod", NAMESPACE, second)
        assert orphan is not None
        orphan["metadata"]["ownerReferences"] = []
        sandbox.cluster.update(orphan)
    assert changed_keys(preview.state, await action.fingerprint(env, target, params)) == ["pod_uid"]
    blocked = await action.preview(env, target, params)
    assert blocked.blocked and "not one of business-logic's pods" in blocked.blocked
    outcome = await action.execute(env, target, params)
    assert outcome.ok and "nothing deleted" in outcome.summary and second in pods(sandbox, "business-logic")


async def test_scale_to_zero_and_restore_round_trip(env: ActionEnv, config: OpsConfig, sandbox: Sandbox) -> None:
    down, none, target = prepared(config, "scale-to-zero", "data-processor")
    before = snapshot(sandbox, "data-processor")
    preview = await down.preview(env, target, none)
    assert snapshot(sandbox, "data-processor") == before and "3 -> 0" in preview.changes[0]

    outcome = await down.execute(env, target, none)
    stored = deployment(sandbox, "data-processor")
    assert stored["spec"]["replicas"] == 0 and stored["metadata"]["annotations"][REPLICAS_BEFORE] == "3"
    assert pods(sandbox, "data-processor") == set()
    assert outcome.revert is not None and outcome.revert.action == "restore-replicas"
    await down.execute(env, target, none)  # twice: the recorded count survives
    assert deployment(sandbox, "data-processor")["metadata"]["annotations"][REPLICAS_BEFORE] == "3"

    restore = ACTIONS["restore-replicas"]
    params = restore.parse({}, config)
    assert (await restore.preview(env, target, params)).blocked is None
    await restore.execute(env, target, params)
    stored = deployment(sandbox, "data-processor")
    assert stored["spec"]["replicas"] == 3 and REPLICAS_BEFORE not in stored["metadata"]["annotations"]
    assert len(pods(sandbox, "data-processor")) == 3
    again = await restore.execute(env, target, params)
    assert again.ok and deployment(sandbox, "data-processor")["spec"]["replicas"] == 3
    assert (await restore.preview(env, target, params)).blocked is not None  # nothing left to restore


async def test_debug_logging_and_its_revert(env: ActionEnv, config: OpsConfig, sandbox: Sandbox,
                                            clock: Clock) -> None:
    action, params, target = prepared(config, "debug-logging", "auth-service",
                                                       {"minutes": "45"})
    before = snapshot(sandbox, "auth-service")
    preview = await action.preview(env, target, params)
    assert snapshot(sandbox, "auth-service") == before and "INFO -> DEBUG" in preview.changes[0]

    outcome = await action.execute(env, target, params)
    assert env_value(sandbox, "auth-service", "LOG_LEVEL") == "DEBUG"
    assert app_container(sandbox, "auth-service")["image"]  # strategic merge kept the rest of the container
    annotations = deployment(sandbox, "auth-service")["metadata"]["annotations"]
    assert annotations[LEVEL_BEFORE] == "INFO"
    assert outcome.reverts_at is not None and (outcome.reverts_at - clock.now).total_seconds() == 45 * 60
    assert annotations[DEBUG_UNTIL] == outcome.reverts_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert outcome.revert is not None
    assert (outcome.revert.action, dict(outcome.revert.params)) == ("debug-logging", {REVERT_PARAM: "true"})

    await action.execute(env, target, params)  # twice: INFO stays the value to return to
    assert deployment(sandbox, "auth-service")["metadata"]["annotations"][LEVEL_BEFORE] == "INFO"

    # The revert as another replica would run it later: from the proposal and the cluster alone.
    revert = action.parse(outcome.revert.params, config)
    await action.execute(env, target, revert)
    assert env_value(sandbox, "auth-service", "LOG_LEVEL") == "INFO"
    annotations = deployment(sandbox, "auth-service")["metadata"]["annotations"]
    assert LEVEL_BEFORE not in annotations and DEBUG_UNTIL not in annotations
    await action.execute(env, target, revert)
    assert env_value(sandbox, "auth-service", "LOG_LEVEL") == "INFO"


async def test_debug_logging_revert_removes_a_variable_that_was_unset(env: ActionEnv, config: OpsConfig,
                                                                      sandbox: Sandbox) -> None:
    action, params, target = prepared(config, "debug-logging", "api-gateway")
    stored = deployment(sandbox, "api-gateway")  # a deployment that never set LOG_LEVEL
    stored["spec"]["template"]["spec"]["containers"][0]["env"] = []
    sandbox.cluster.update(stored)
    assert env_value(sandbox, "api-gateway", "LOG_LEVEL") is None
    await action.execute(env, target, params)
    assert env_value(sandbox, "api-gateway", "LOG_LEVEL") == "DEBUG"
    await action.execute(env, target, action.parse({REVERT_PARAM: "true"}, config))
    assert env_value(sandbox, "api-gateway", "LOG_LEVEL") is None


async def test_debug_logging_refuses_a_level_set_by_reference(env: ActionEnv, config: OpsConfig,
                                                              sandbox: Sandbox) -> None:
    stored = deployment(sandbox, "data-processor")
    stored["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {"name": "logging", "key": "level"}}}]
    sandbox.cluster.update(stored)
    action, params, target = prepared(config, "debug-logging", "data-processor")
    preview = await action.preview(env, target, params)
    assert preview.blocked and "ConfigMap/Secret reference" in preview.blocked
    with pytest.raises(ActionError, match="reference"):
        await action.execute(env, target, params)
    assert app_container(sandbox, "data-processor")["env"] == stored["spec"]["template"]["spec"]["containers"][0]["env"]


def test_debug_logging_minutes_are_bounded(config: OpsConfig) -> None:
    with pytest.raises(ActionError, match=r"1\.\.240"):
        ACTIONS["debug-logging"].parse({"minutes": "600"}, config)
    assert ACTIONS["debug-logging"].parse({}, config).minutes == 30


async def test_memory_bump_and_its_revert(env: ActionEnv, config: OpsConfig, sandbox: Sandbox) -> None:
    action, params, target = prepared(config, "memory-bump", "business-logic",
                                                       {"limit": "4Gi", "minutes": "60"})
    before = snapshot(sandbox, "business-logic")
    preview = await action.preview(env, target, params)
    assert snapshot(sandbox, "business-logic") == before and "2Gi -> 4Gi" in preview.changes[0]

    outcome = await action.execute(env, target, params)
    container = app_container(sandbox, "business-logic")
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"}
    assert container["resources"]["requests"]["memory"] == "1Gi"
    assert deployment(sandbox, "business-logic")["metadata"]["annotations"][LIMIT_BEFORE] == "2Gi"
    assert outcome.reverts_at is not None and outcome.revert is not None

    await action.execute(env, target, params)  # twice: same end state, 2Gi still the one to return to
    assert app_container(sandbox, "business-logic")["resources"]["limits"]["memory"] == "4Gi"
    assert deployment(sandbox, "business-logic")["metadata"]["annotations"][LIMIT_BEFORE] == "2Gi"

    await action.execute(env, target, action.parse(outcome.revert.params, config))
    assert app_container(sandbox, "business-logic")["resources"]["limits"] == {"cpu": "2", "memory": "2Gi"}
    assert LIMIT_BEFORE not in deployment(sandbox, "business-logic")["metadata"]["annotations"]


async def test_memory_bump_never_lowers_a_limit(env: ActionEnv, config: OpsConfig, sandbox: Sandbox) -> None:
    action, target = ACTIONS["memory-bump"], config.target("business-logic")
    await action.execute(env, target, action.parse({"limit": "4Gi"}, config))  # active bump: 2Gi -> 4Gi
    for limit, reason in (("3Gi", "below the active bump's 4Gi"), ("2Gi", "before the active bump")):
        params = action.parse({"limit": limit}, config)
        preview = await action.preview(env, target, params)
        assert preview.blocked and reason in preview.blocked
        with pytest.raises(ActionError, match="only raises"):
            await action.execute(env, target, params)
        assert app_container(sandbox, "business-logic")["resources"]["limits"]["memory"] == "4Gi"
    assert (await action.execute(env, target, action.parse({"limit": "6Gi"}, config))).ok  # a real raise
    assert deployment(sandbox, "business-logic")["metadata"]["annotations"][LIMIT_BEFORE] == "2Gi"


async def test_memory_bump_refuses_a_container_without_a_limit(env: ActionEnv, config: OpsConfig,
                                                                sandbox: Sandbox) -> None:
    with sandbox.cluster.lock:
        current = deployment(sandbox, "business-logic")
        del current["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]
        sandbox.cluster.update(current)
    action, params, target = prepared(config, "memory-bump", "business-logic", {"limit": "8Gi"})
    preview = await action.preview(env, target, params)
    assert preview.blocked and "no memory limit (unlimited)" in preview.blocked
    with pytest.raises(ActionError, match="unlimited"):
        await action.execute(env, target, params)
    assert "memory" not in app_container(sandbox, "business-logic")["resources"]["limits"]


@pytest.mark.parametrize(("raw", "message"), [
    ({"limit": "16Gi"}, "exceeds the allowed maximum 8Gi"),
    ({"limit": "lots"}, "memory-bump: limit: .lots. is not a memory size"),
    ({}, "limit is required"),
])
def test_memory_bump_params_are_bounded(config: OpsConfig, raw: dict[str, str], message: str) -> None:
    with pytest.raises(ActionError, match=message):
        ACTIONS["memory-bump"].parse(raw, config)


async def test_memory_bump_only_raises(env: ActionEnv, config: OpsConfig, sandbox: Sandbox) -> None:
    action, params, target = prepared(config, "memory-bump", "business-logic",
                                                       {"limit": "1536Mi"})
    preview = await action.preview(env, target, params)
    assert preview.blocked and "only raises the limit" in preview.blocked
    with pytest.raises(ActionError, match="only raises"):
        await action.execute(env, target, params)
    assert app_container(sandbox, "business-logic")["resources"]["limits"]["memory"] == "2Gi"


async def test_maintenance_on_and_off(env: ActionEnv, config: OpsConfig, sandbox: Sandbox) -> None:
    action, on, target = prepared(config, "maintenance", "api-gateway", {"mode": "on"})
    preview = await action.preview(env, target, on)
    assert sandbox.cluster.get("ConfigMap", NAMESPACE, "maintenance-mode") is None
    assert "503" in preview.summary and preview.state == {"maintenance": "off", "resource_version": ""}

    outcome = await action.execute(env, target, on)
    switch = sandbox.cluster.get("ConfigMap", NAMESPACE, "maintenance-mode")
    assert switch is not None and switch["data"]["enabled"] == "true" and switch["data"]["status_code"] == "503"
    assert outcome.revert == Proposal("maintenance", {"mode": "off"}, reason="end maintenance mode")
    await action.execute(env, target, on)  # applying again leaves one switch, unchanged
    assert sandbox.cluster.get("ConfigMap", NAMESPACE, "maintenance-mode")["data"] == switch["data"]  # type: ignore[index]

    off = action.parse(outcome.revert.params, config)
    preview = await action.preview(env, target, off)
    assert sandbox.cluster.get("ConfigMap", NAMESPACE, "maintenance-mode") is not None
    await action.execute(env, target, off)
    assert sandbox.cluster.get("ConfigMap", NAMESPACE, "maintenance-mode") is None
    again = await action.execute(env, target, off)
    assert again.ok and "already off" in again.summary
    # Switching off what is off changes nothing: previewed as such, so it is not offered for approval.
    assert (await action.preview(env, target, off)).unchanged == "maintenance mode is already off"
    with pytest.raises(ActionError, match="mode=on or mode=off"):
        action.parse({"mode": "maybe"}, config)


@pytest.mark.parametrize(("name", "service", "raw"), [
    ("scale", "api-gateway", {"replicas": "15"}),
    ("restart", "auth-service", {}),
    ("rollback", "auth-service", {}),
    ("debug-logging", "auth-service", {}),
    ("memory-bump", "business-logic", {"limit": "4Gi"}),
    ("scale-to-zero", "data-processor", {}),
    ("maintenance", "api-gateway", {"mode": "on"}),
])
async def test_dry_run_mode_executes_nothing(dry_env: ActionEnv, config: OpsConfig, sandbox: Sandbox, name: str,
                                             service: str, raw: dict[str, str]) -> None:
    action = ACTIONS[name]
    target = config.target(service)
    before = snapshot(sandbox, service)
    outcome = await action.execute(dry_env, target, action.parse(raw, config))
    assert outcome.dry_run and "nothing was executed" in outcome.summary
    assert snapshot(sandbox, service) == before
    assert dry_run_writes(sandbox)  # the preview's dry run was still sent


async def test_dry_run_delete_pod_keeps_the_pod(dry_env: ActionEnv, config: OpsConfig, sandbox: Sandbox) -> None:
    victim = sorted(pods(sandbox, "business-logic"))[0]
    action = ACTIONS["delete-pod"]
    outcome = await action.execute(dry_env, config.target("business-logic"), action.parse({"pod": victim}, config))
    assert outcome.dry_run and victim in pods(sandbox, "business-logic")


async def test_a_change_between_read_and_write_is_refused_not_recorded(env: ActionEnv, config: OpsConfig,
                                                                       sandbox: Sandbox) -> None:
    """scale-to-zero records the count it replaces; if someone scales in between, the conditional patch
    fails with a conflict instead of recording a count that is no longer the one being replaced."""
    target = config.target("data-processor")
    seen = await env.kube.deployment(target)
    await env.kube.scale(target, 5, dry_run=False)  # someone else, after our read
    with pytest.raises(SourceError, match="409") as raised:
        await env.kube.set_replicas(target, 0, {REPLICAS_BEFORE: str(seen.replicas)},
                                    expect_version=seen.resource_version, dry_run=False)
    assert raised.value.status == 409
    stored = deployment(sandbox, "data-processor")
    assert stored["spec"]["replicas"] == 5 and REPLICAS_BEFORE not in stored["metadata"].get("annotations", {})
