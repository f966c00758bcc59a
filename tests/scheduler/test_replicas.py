"""Exactly one replica runs each scheduled job per tick, a killed leader is replaced, and work that came
due while no leader was up runs once when one is elected. Real processes, PostgreSQL, Redis, sandbox."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.actions.base import REVERT_PARAM
from bot.actions.debug_logging import DEBUG_UNTIL
from bot.approvals.service import BOT_ACTOR
from bot.sandbox.runner import Sandbox
from bot.store.approvals import AuditEvent, NewRequest, RequestStatus
from tests.actions.conftest import env_value
from tests.e2e.botproc import BotProcess
from tests.fakes.slack_api import Call, FakeSlack
from tests.scheduler.helpers import deployment_annotations, sandbox_deps, timed_change_already_due
from tests.scheduler.replicas import (
    ELECTED,
    OPS_CHANNEL,
    RECHECK_S,
    leaders,
    replica_env,
    replicas,
    runs,
    wait_until,
)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox("bad-deploy") as running:
        yield running


def _warnings(fake_slack: FakeSlack) -> list[str]:
    return [str(c.params.get("text")) for c in fake_slack.calls("chat.postMessage")
            if c.params.get("channel") == OPS_CHANNEL and ":warning:" in str(c.params.get("text"))]


def _condition(warning: str) -> tuple[str, str]:
    match = re.search(r"Prevention check — (\S+) (.+?) is (?:warn|crit)", warning)
    assert match is not None, warning
    return match[1], match[2]


def _all_runs(bots: list[BotProcess], job: str) -> list[int]:
    return [slot for bot in bots for slot in runs(bot, job)]


def test_each_tick_runs_once_across_three_replicas_and_a_killed_leader_is_replaced(
    fake_slack: FakeSlack, sandbox: Sandbox, tmp_path: Path, pg_db: str, redis_client_url: str
) -> None:
    env = replica_env(fake_slack, sandbox, tmp_path, pg_db, redis_client_url)
    with replicas(env) as bots:
        wait_until(lambda: len(_all_runs(bots, "prevention")) >= 5, 30, "five prevention ticks", bots)
        [leader] = leaders(bots)
        assert all(ELECTED not in bot.log() for bot in bots if bot is not leader)
        before = _all_runs(bots, "prevention")
        assert len(before) == len(set(before)), f"a slot ran twice: {sorted(before)}"
        assert runs(leader, "prevention") == before  # only the leader ran any

        # bad-deploy's conditions (auth-service errors, data-processor P95 170 ms, ...): each posted once
        # however many ticks saw it.
        warnings = _warnings(fake_slack)
        conditions = [_condition(w) for w in warnings]
        assert len(conditions) == len(set(conditions)), warnings
        assert {("auth-service", "error rate"), ("data-processor", "latency")} <= set(conditions)

        assert leader.proc is not None
        leader.proc.kill()  # SIGKILL: no clean shutdown, PostgreSQL frees the lock when the session dies
        leader.proc.wait(5)
        killed_at = time.monotonic()
        survivors = [bot for bot in bots if bot is not leader]
        wait_until(lambda: len(leaders(survivors)) == 1, 10, "a new leader", survivors)
        took_over_in = time.monotonic() - killed_at
        # Within the re-check period (the lock is free as soon as the session dies) plus process slack.
        assert took_over_in <= 3 * RECHECK_S + 2, f"took {took_over_in:.1f} s"
        [successor] = leaders(survivors)

        wait_until(lambda: len(runs(successor, "prevention")) >= 4, 20, "ticks on the new leader", survivors)
        after = runs(successor, "prevention")
        everything = _all_runs(bots, "prevention")
        assert len(everything) == len(set(everything)), f"a slot ran twice: {sorted(everything)}"
        assert min(after) > max(before)
        assert _warnings(fake_slack) == warnings  # the successor knew what was already announced (Redis)
        other = next(bot for bot in survivors if bot is not successor)
        assert runs(other, "prevention") == []
        assert _leader_gauge(successor) == 1.0 and _leader_gauge(other) == 0.0


def _leader_gauge(bot: BotProcess) -> float:
    text = httpx.get(f"{bot.url}/metrics", timeout=5).text
    return next(float(line.split()[1]) for line in text.splitlines() if line.startswith("opsbot_scheduler_leader "))


async def test_work_due_while_no_leader_was_up_runs_once_when_one_is_elected(
    fake_slack: FakeSlack, sandbox: Sandbox, tmp_path: Path, pg_db: str, redis_client_url: str
) -> None:
    deps = sandbox_deps(sandbox, tmp_path, database_url=pg_db, redis_url=redis_client_url)
    try:
        # A debug-logging change approved 8 minutes ago for 5 minutes, in a thread of the ops channel.
        thread = fake_slack.add_message(OPS_CHANNEL, "diagnosis of auth-service")
        proposal_ts = fake_slack.add_message(OPS_CHANNEL, "proposal", thread_ts=thread)
        origin = await timed_change_already_due(deps, "debug-logging", "auth-service", {"minutes": "5"},
                                                minutes_ago=3, channel=OPS_CHANNEL, message_ts=proposal_ts)
        assert env_value(sandbox, "auth-service", "LOG_LEVEL") == "DEBUG"

        # A proposal whose buttons are still up and whose time runs out while no replica is running.
        new = NewRequest("restart", "api-gateway", {}, {}, "U0EDITOR", timedelta(seconds=1), OPS_CHANNEL)
        pending, _ = await deps.approvals.store.create(new)
        button = {"type": "button", "action_id": "review-0", "text": {"type": "plain_text", "text": "Restart"},
                  "value": pending.id}
        expiring_ts = fake_slack.add_message(OPS_CHANNEL, "restart api-gateway?", thread_ts=thread,
                                             blocks=[{"type": "actions", "block_id": "proposals",
                                                      "elements": [button]}])
        await deps.approvals.attach_message(pending.id, OPS_CHANNEL, expiring_ts)
        time.sleep(1.2)

        env = replica_env(fake_slack, sandbox, tmp_path, pg_db, redis_client_url)
        with replicas(env) as bots:
            wait_until(lambda: env_value(sandbox, "auth-service", "LOG_LEVEL") == "INFO", 30,
                       "the overdue revert", bots)
            wait_until(lambda: bool(_updates(fake_slack, expiring_ts)), 15, "the expired buttons", bots)
            # Several more ticks of every job on the leader: nothing runs a second time.
            wait_until(lambda: len(_all_runs(bots, "timed-reverts")) >= 4
                       and len(_all_runs(bots, "approval-expiry")) >= 4, 20, "more ticks", bots)

        assert DEBUG_UNTIL not in deployment_annotations(sandbox, "auth-service")
        trail = await deps.approvals.audit(service="auth-service")
        reverts = [r.entry for r in trail if r.entry.event is AuditEvent.SUCCEEDED and r.entry.actor == BOT_ACTOR]
        assert len(reverts) == 1 and reverts[0].params == {REVERT_PARAM: "true"}

        [update] = _updates(fake_slack, expiring_ts)
        assert "Expired at" in str(update.params.get("blocks"))
        assert "review-0" not in str(update.params.get("blocks"))  # the button is gone
        expired = await deps.approvals.store.get(pending.id)
        assert expired is not None and expired.status is RequestStatus.EXPIRED
        expiry_audit = [r for r in await deps.approvals.audit(service="api-gateway")
                        if r.entry.event is AuditEvent.EXPIRED]
        assert len(expiry_audit) == 1 and expiry_audit[0].entry.actor == BOT_ACTOR

        notes = [c for c in fake_slack.calls("chat.postMessage") if "Timed revert" in str(c.params.get("text"))]
        assert len(notes) == 1 and notes[0].params.get("thread_ts") == thread, [n.params.get("text") for n in notes]
        assert origin.id != reverts[0].request_id
    finally:
        await deps.aclose()


def _updates(fake_slack: FakeSlack, ts: str) -> list[Call]:
    return [c for c in fake_slack.calls("chat.update") if c.params.get("ts") == ts]
