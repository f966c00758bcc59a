"""maintenance decides "on" one way everywhere (the switch there with enabled "true", as the load balancer reads
it), and its preview says the switch is namespace-wide, not scoped to the service the request names."""

from __future__ import annotations

from bot.actions import ACTIONS
from bot.actions.base import ActionEnv, ChecksItself
from bot.config import OpsConfig
from bot.model import Status
from bot.sandbox.runner import NAMESPACE, Sandbox


def disable_the_switch(sandbox: Sandbox) -> None:
    stored = sandbox.cluster.get("ConfigMap", NAMESPACE, "maintenance-mode")
    assert stored is not None
    stored["data"]["enabled"] = "false"  # switched off by hand: the load balancer routes traffic again
    sandbox.cluster.update(stored)


async def test_a_switch_present_but_disabled_is_off_for_preview_fingerprint_and_check(
    env: ActionEnv, config: OpsConfig, sandbox: Sandbox
) -> None:
    action, target = ACTIONS["maintenance"], config.target("api-gateway")
    on, off = action.parse({"mode": "on"}, config), action.parse({"mode": "off"}, config)
    await action.execute(env, target, on)
    disable_the_switch(sandbox)

    preview_on = await action.preview(env, target, on)
    assert preview_on.state["maintenance"] == "off"
    assert (await action.fingerprint(env, target, on))["maintenance"] == "off"
    assert "already on" not in " ".join(preview_on.changes)
    assert "there but not enabled: now enabled" in preview_on.changes[0]
    assert isinstance(action, ChecksItself)
    assert (await action.check(env, target, on)).status is Status.WARN

    preview_off = await action.preview(env, target, off)
    assert preview_off.summary.startswith("Maintenance mode is already off")
    assert "there but not enabled" in preview_off.summary


async def test_the_preview_says_the_switch_is_for_the_whole_namespace(
    env: ActionEnv, config: OpsConfig, sandbox: Sandbox
) -> None:
    action, target = ACTIONS["maintenance"], config.target("api-gateway")
    on = action.parse({"mode": "on"}, config)
    preview = await action.preview(env, target, on)
    assert f"for every service in namespace {target.namespace}, not only api-gateway" in preview.summary
    await action.execute(env, target, on)
    off = await action.preview(env, target, action.parse({"mode": "off"}, config))
    assert off.summary.startswith(f"Maintenance mode OFF for every service in namespace {target.namespace}")
