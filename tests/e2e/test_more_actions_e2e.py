"""More actions end to end through signed Slack requests to `opsbot run` (sandbox platform, fake Slack, real
PostgreSQL and Redis): memory-bump, scale-to-zero then restore-replicas from the revert button its verification
offers, maintenance on then off the same way, and the leader's automatic timed reverts of debug-logging and
memory-bump. Each asserts the cluster's state and what the channel and the request's thread say."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.actions.debug_logging import DEBUG_UNTIL, LEVEL_BEFORE
from bot.actions.memory_bump import BUMP_UNTIL, LIMIT_BEFORE
from bot.sandbox.runner import Sandbox
from bot.sources.kube_undo import REPLICAS_BEFORE
from tests.e2e.approval_steps import (
    ADMIN,
    ADMIN_2,
    BOB,
    OPS_CONFIG,
    Button,
    act,
    approve,
    ephemeral_to,
    review_buttons,
    settled_text,
)
from tests.e2e.botproc import BotProcess
from tests.e2e.test_approvals_e2e import Platform, deployment, platform, request_status  # noqa: F401 (fixture)
from tests.fakes.signing import ALICE, CHANNEL_ID
from tests.fakes.slack_api import Call, FakeSlack

# The scheduler's revert job every second (its minimum), so a change made for one minute (the shortest an
# action takes) is reverted about a minute later.
TIMED_CONFIG = OPS_CONFIG + "scheduler: {revert_interval_s: 1}\n"
TIMED_WAIT_S = 60 + 45  # the minute, plus the scheduler's pass and a margin on a loaded test machine


@pytest.fixture
def bot(platform: Platform) -> Iterator[BotProcess]:  # noqa: F811 (the imported fixture)
    with platform.bot() as running:
        yield running


def app_container(sandbox: Sandbox, name: str) -> dict[str, Any]:
    containers = deployment(sandbox, name)["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == name)


def env_value(sandbox: Sandbox, name: str, variable: str) -> str | None:
    return next((e.get("value") for e in app_container(sandbox, name).get("env") or [] if e["name"] == variable),
                None)


def memory_limit(sandbox: Sandbox, name: str) -> str:
    return str(app_container(sandbox, name)["resources"]["limits"]["memory"])


def verdict_in_thread(fake_slack: FakeSlack, service: str, thread_ts: str, count: int = 1) -> Call:
    """The `count`-th verification the bot posts in the thread once a change settled."""
    posted = fake_slack.wait_for(
        "chat.postMessage",
        lambda c: f"Verification of {service}" in str(c.params.get("text")) and c.params.get("thread_ts") == thread_ts,
        count=count, timeout=60,
    )
    return posted[-1]


def revert_button(fake_slack: FakeSlack, verdict: Call) -> Button:
    """The revert offered as a button in the verification message, as Slack stores it."""
    message = fake_slack.message(CHANNEL_ID, str(verdict.response["ts"]))
    assert message is not None
    return Button(message, next(review_buttons(message)))


def approved_twice(bot: BotProcess, fake_slack: FakeSlack, button: Button) -> str:
    """High risk: one admin, then another; returns the line that replaced the buttons."""
    approve(bot, fake_slack, button, ADMIN)
    assert "Approval 1 of 2" in str(ephemeral_to(fake_slack, ADMIN).params["text"])
    approve(bot, fake_slack, button, ADMIN_2)
    return settled_text(fake_slack, str(button.message["ts"]))


def test_memory_bump_raises_the_limit_and_is_verified(bot: BotProcess, platform: Platform,  # noqa: F811
                                                      fake_slack: FakeSlack, sandbox: Sandbox) -> None:
    assert memory_limit(sandbox, "business-logic") == "2Gi"
    bump = act(bot, fake_slack, "memory-bump business-logic limit=4Gi minutes=30", ALICE)
    approve(bot, fake_slack, bump, BOB)
    line = settled_text(fake_slack, str(bump.message["ts"]))
    assert f"Approved by <@{BOB}>" in line and "Memory limit of business-logic raised to 4Gi" in line, line
    assert "reverts automatically at" in line
    assert memory_limit(sandbox, "business-logic") == "4Gi"
    annotations = deployment(sandbox, "business-logic")["metadata"]["annotations"]
    assert annotations[LIMIT_BEFORE] == "2Gi" and BUMP_UNTIL in annotations
    verdict = verdict_in_thread(fake_slack, "business-logic", str(bump.message["ts"]))
    assert "(memory leak)" in str(verdict.params["text"]), "memory-bump is verified by the memory-leak runbook"
    assert "review_request" not in json.dumps(verdict.params["blocks"]), "a timed change offers no revert button"
    assert request_status(platform.database_url, bump.request_id) == "succeeded"


def test_scale_to_zero_is_verified_by_its_pods_and_restore_replicas_brings_them_back(
    bot: BotProcess, platform: Platform, fake_slack: FakeSlack, sandbox: Sandbox  # noqa: F811
) -> None:
    zero = act(bot, fake_slack, "scale-to-zero data-processor", ADMIN)
    assert f"Approved by <@{ADMIN_2}>" in approved_twice(bot, fake_slack, zero)
    stored = deployment(sandbox, "data-processor")
    assert stored["spec"]["replicas"] == 0 and stored["metadata"]["annotations"][REPLICAS_BEFORE] == "3"

    verdict = verdict_in_thread(fake_slack, "data-processor", str(zero.message["ts"]))
    body = json.dumps(verdict.params["blocks"])
    assert "Verification of data-processor: better" in str(verdict.params["text"])
    assert "pods: 3 (3 running, 3 ready)" in body and "pods: 0 (0 running, 0 ready)" in body, body
    assert "no pods of data-processor remain" in body and "no runbook" not in body

    restore = revert_button(fake_slack, verdict)
    assert "restore replicas" in restore.element["text"]["text"]
    approve(bot, fake_slack, restore, ADMIN)  # medium risk: the requester of the scale-down may approve it
    line = settled_text(fake_slack, str(restore.message["ts"]))
    assert f"Approved by <@{ADMIN}>" in line and "restore replicas" in line, line
    stored = deployment(sandbox, "data-processor")
    assert stored["spec"]["replicas"] == 3, "the count remembered by scale-to-zero"
    assert REPLICAS_BEFORE not in stored["metadata"]["annotations"]
    assert len(sandbox.cluster.list("Pod", "default", "app=data-processor")) == 3
    assert request_status(platform.database_url, restore.request_id) == "succeeded"
    # Verified by its own check (ready pods against the count restored), not the 503 runbook, which reads a
    # deployment at 0 replicas as nothing to be ready.
    restored = verdict_in_thread(fake_slack, "data-processor", str(zero.message["ts"]), count=2)
    body = json.dumps(restored.params["blocks"])
    assert "Verification of data-processor: better" in str(restored.params["text"]), body
    assert "ready pods: 0 of 3" in body and "ready pods: 3 of 3" in body, body


def test_maintenance_on_is_verified_and_its_revert_switches_it_off(
    bot: BotProcess, platform: Platform, fake_slack: FakeSlack, sandbox: Sandbox  # noqa: F811
) -> None:
    on = act(bot, fake_slack, "maintenance api-gateway mode=on", ADMIN)
    approved_twice(bot, fake_slack, on)
    switch = sandbox.cluster.get("ConfigMap", "default", "maintenance-mode")
    assert switch is not None and switch["data"]["status_code"] == "503"
    verdict = verdict_in_thread(fake_slack, "api-gateway", str(on.message["ts"]))
    body = json.dumps(verdict.params["blocks"])
    assert "better" in str(verdict.params["text"]) and "0 of 1 present" in body, body
    assert "1 of 1 present (enabled, answers 503)" in body and "the load balancer answers 503" in body

    off = revert_button(fake_slack, verdict)
    assert "maintenance mode off" in off.element["text"]["text"]
    line = approved_twice(bot, fake_slack, off)
    assert f"Approved by <@{ADMIN_2}>" in line and "Maintenance mode is OFF" in line, line
    assert sandbox.cluster.get("ConfigMap", "default", "maintenance-mode") is None
    assert off.message["thread_ts"] == on.message["ts"]  # the revert button sits in the request's thread
    after = verdict_in_thread(fake_slack, "api-gateway", str(on.message["ts"]), count=2)
    body = json.dumps(after.params["blocks"])
    assert "better" in str(after.params["text"]) and "traffic is routed to the services" in body, body
    assert "review_request" not in body, "switching off has nothing to revert"


def test_timed_changes_revert_on_their_own_and_say_so_in_their_threads(
    platform: Platform, fake_slack: FakeSlack, sandbox: Sandbox  # noqa: F811
) -> None:
    platform.config_path.write_text(TIMED_CONFIG)
    with platform.bot() as bot:
        debug = act(bot, fake_slack, "debug-logging auth-service minutes=1", ALICE)
        approve(bot, fake_slack, debug, BOB)
        assert "reverts automatically at" in settled_text(fake_slack, str(debug.message["ts"]))
        bump = act(bot, fake_slack, "memory-bump business-logic limit=3Gi minutes=1", ALICE)
        approve(bot, fake_slack, bump, BOB)
        settled_text(fake_slack, str(bump.message["ts"]))
        assert env_value(sandbox, "auth-service", "LOG_LEVEL") == "DEBUG"
        assert memory_limit(sandbox, "business-logic") == "3Gi"

        verdict = verdict_in_thread(fake_slack, "auth-service", str(debug.message["ts"]))
        body = json.dumps(verdict.params["blocks"])
        assert "pods with LOG_LEVEL=DEBUG: 0 of 3 ready (3 without)" in body, body
        assert "pods with LOG_LEVEL=DEBUG: 3 of 3 ready (0 without)" in body and "better" in body

        reverts = fake_slack.wait_for("chat.postMessage", lambda c: "Timed revert" in str(c.params.get("text")),
                                      count=2, timeout=TIMED_WAIT_S)
    by_thread = {str(c.params.get("thread_ts")): json.dumps(c.params["blocks"]) for c in reverts}
    assert set(by_thread) == {str(debug.message["ts"]), str(bump.message["ts"])}, by_thread
    debug_said, bump_said = by_thread[str(debug.message["ts"])], by_thread[str(bump.message["ts"])]
    assert "Approved by opsbot" in debug_said and "Debug logging reverted on auth-service" in debug_said, debug_said
    assert "Approved by opsbot" in bump_said and "Memory limit of business-logic reverted" in bump_said, bump_said

    assert env_value(sandbox, "auth-service", "LOG_LEVEL") == "INFO"
    assert memory_limit(sandbox, "business-logic") == "2Gi"
    for name, keys in (("auth-service", (LEVEL_BEFORE, DEBUG_UNTIL)), ("business-logic", (LIMIT_BEFORE, BUMP_UNTIL))):
        annotations = deployment(sandbox, name)["metadata"]["annotations"]
        assert not set(keys) & set(annotations), (name, annotations)
