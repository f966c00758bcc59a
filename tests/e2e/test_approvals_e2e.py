"""Approvals end to end: `opsbot run` over signed Slack requests, the sandbox platform, the fake Slack, a real
PostgreSQL (DATABASE_URL: requests and audit) and a real Redis (REDIS_URL: the per-service action lock).

The rollback is proposed by a real diagnosis; the other actions are proposed through the core (as `opsbot act`
or a later diagnosis would) into the same database, their buttons posted in the channel, and then clicked and
approved through Slack like the rollback. Writes to the cluster are counted from the sandbox apiserver's
request log, so "executed once" means one write reached the API server, not that a counter said so.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bot.approvals import Proposed
from bot.config import Settings, load_ops_config
from bot.render.approval_blocks import proposal_message
from bot.sandbox.runner import Sandbox
from bot.wiring import build_deps
from tests.e2e.approval_steps import (
    ADMIN,
    ADMIN_2,
    BOB,
    CAROL,
    GUEST,
    OPS_CONFIG,
    VIEWER,
    Button,
    act,
    add_people,
    approve,
    click,
    deny,
    diagnose,
    ephemeral_to,
    find_button,
    has_submit,
    is_notice,
    opened_view,
    post_button_message,
    settled_text,
    submit,
    view_text,
)
from tests.e2e.botproc import BotProcess
from tests.e2e.conftest import bot_env
from tests.fakes.signing import ALICE, CHANNEL_ID, SIGNING_SECRET, post_signed, slash_command_body
from tests.fakes.slack_api import FakeSlack

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CACHE_DB = 7  # the platform cache's DB index in the shared test Redis; the bot's coordination uses DB 0


def cluster_writes(sandbox: Sandbox, path_part: str = "") -> list[Any]:
    """Requests that changed the cluster (server dry runs excluded)."""
    return [r for r in sandbox.cluster.requests
            if r.method in WRITE_METHODS and "dryRun" not in r.query and path_part in r.path]


def deployment(sandbox: Sandbox, name: str = "auth-service") -> dict[str, Any]:
    found = sandbox.cluster.get("Deployment", "default", name)
    assert found is not None
    return found


def audit_events(dsn: str, request_id: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT event, actor FROM approval_audit WHERE request_id = %s ORDER BY seq",
                            (request_id,)).fetchall()
    return [(str(event), str(actor)) for event, actor in rows]


def request_status(dsn: str, request_id: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT status FROM approval_requests WHERE id = %s", (request_id,)).fetchone()
    assert row is not None
    return str(row[0])


@dataclass
class Platform:
    """Everything one test's bots share: the sandbox, the fake Slack, the state database, Redis, config."""

    sandbox: Sandbox
    fake_slack: FakeSlack
    tmp_path: Path
    database_url: str
    redis_url: str
    config_path: Path
    extra: dict[str, str]

    def env(self, **more: str) -> dict[str, str]:
        return bot_env(self.fake_slack, self.sandbox, self.tmp_path / "kubeconfig", DATABASE_URL=self.database_url,
                       REDIS_URL=self.redis_url, OPSBOT_CONFIG=str(self.config_path), **{**self.extra, **more})

    def bot(self, **more: str) -> BotProcess:
        return BotProcess(self.env(**more))

    def propose(self, action: str, service: str, params: dict[str, str], requester: str) -> Proposed:
        """Propose through the core into the shared database and post its button like the bot would."""
        proposed = asyncio.run(self._propose(action, service, params, requester))
        ts = post_button_message(self.fake_slack, proposal_message(proposed, "Proposed from the CLI:")["blocks"])
        asyncio.run(self._attach(proposed.request.id, ts))
        return proposed

    def _settings(self) -> Settings:
        env = self.env()
        return Settings(
            _env_file=None,
            kubeconfig=env["KUBECONFIG"], metrics_api_url=env["METRICS_API_URL"], database_url=env["DATABASE_URL"],
            redis_url=env["REDIS_URL"], opsbot_config=self.config_path,
            target_database_url=env.get("TARGET_DATABASE_URL"), cache_redis_url=env.get("CACHE_REDIS_URL"),
        )

    async def _propose(self, action: str, service: str, params: dict[str, str], requester: str) -> Proposed:
        deps = build_deps(self._settings(), load_ops_config(self.config_path))
        try:
            return await deps.approvals.propose(action, service, params, requester, channel=CHANNEL_ID)
        finally:
            await deps.aclose()

    async def _attach(self, request_id: str, ts: str) -> None:
        deps = build_deps(self._settings(), load_ops_config(self.config_path))
        try:
            await deps.approvals.attach_message(request_id, CHANNEL_ID, ts)
        finally:
            await deps.aclose()


@pytest.fixture
def platform(fake_slack: FakeSlack, sandbox: Sandbox, tmp_path: Path, pg_db: str,
             redis_client_url: str) -> Platform:
    add_people(fake_slack)
    config = tmp_path / "ops.yaml"
    config.write_text(OPS_CONFIG)
    return Platform(sandbox, fake_slack, tmp_path, pg_db, redis_client_url, config, {})


@pytest.fixture
def bot(platform: Platform) -> Iterator[BotProcess]:
    with platform.bot() as running:
        yield running


# -- the rollback a diagnosis proposes ----------------------------------------------------------------------


def test_approved_rollback_undoes_like_kubectl_updates_the_message_audits_and_verifies(
    bot: BotProcess, platform: Platform, fake_slack: FakeSlack, sandbox: Sandbox
) -> None:
    before = deployment(sandbox)
    assert before["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "7"
    root_ts = diagnose(bot, fake_slack)
    button = find_button(fake_slack, action_word="rollback")
    assert button.element["value"].startswith("req_")  # only the opaque id travels in the button

    preview = approve(bot, fake_slack, button, BOB)
    shown = view_text(preview)
    assert "server dry run" in shown.lower() and "auth-service:2.4.1" in shown
    assert "editor or admin" in shown
    line = settled_text(fake_slack, str(button.message["ts"]))
    assert f"Approved by <@{BOB}>" in line and "UTC" in line and "review_request" not in line.split("settled")[-1]
    assert button.request_id not in line, "the request's button is gone from the message"

    after = deployment(sandbox)
    image = after["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith("auth-service:2.4.1")
    # kubectl's undo: revision 6's template comes back as revision 8; revision 7 keeps its number.
    assert after["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "8"
    revisions = {rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]:
                 rs["spec"]["template"]["spec"]["containers"][0]["image"]
                 for rs in sandbox.cluster.list("ReplicaSet", "default", "app=auth-service")}
    assert revisions.get("8", "").endswith("2.4.1") and revisions.get("7", "").endswith("2.5.0")
    assert "6" not in revisions
    assert len(cluster_writes(sandbox, "/deployments/auth-service")) == 1

    verdict = fake_slack.wait_for(
        "chat.postMessage", lambda c: "Verification of auth-service" in str(c.params.get("text")), timeout=30)[0]
    assert verdict.params["thread_ts"] == root_ts
    body = json.dumps(verdict.params["blocks"])
    assert "better" in verdict.params["text"] and "12.5 %" in body and "0.4 %" in body, body  # before, after
    assert "rollback to revision 7" in body, "the revert is offered as a button"

    events = [event for event, _ in audit_events(platform.database_url, button.request_id)]
    assert events[0] == "proposed" and events[-3:] == ["approved", "executing", "succeeded"]
    assert ("approved", BOB) in audit_events(platform.database_url, button.request_id)


def test_refusals_and_replays_execute_nothing(bot: BotProcess, platform: Platform, fake_slack: FakeSlack,
                                              sandbox: Sandbox) -> None:
    diagnose(bot, fake_slack)
    button = find_button(fake_slack, action_word="rollback")

    # A viewer sees what would change, but the modal has no Approve (nor Deny) for them.
    shown = opened_view(fake_slack, click(bot, button, VIEWER), want=is_read_only_preview)
    assert "needs the editor role" in view_text(shown) and "auth-service" in view_text(shown)
    assert "deny_request" not in json.dumps(shown["blocks"])

    # A viewer who submits anyway (a stale or crafted modal) is re-authorised on submit and refused.
    submit(bot, {**shown, "submit": {"type": "plain_text", "text": "Approve"}}, VIEWER)
    assert "editor role" in str(ephemeral_to(fake_slack, VIEWER).params["text"])

    guest = opened_view(fake_slack, click(bot, button, GUEST), want=is_notice)
    assert "Guests and deactivated accounts cannot approve" in view_text(guest)

    forged_button = Button(button.message, {**button.element, "value": "req_forged000000000000"})
    forged = opened_view(fake_slack, click(bot, forged_button, ALICE), want=is_notice)
    assert "does not exist" in view_text(forged)
    assert cluster_writes(sandbox) == []

    approve(bot, fake_slack, button, CAROL)  # an editor through the on-call user group
    assert f"Approved by <@{CAROL}>" in settled_text(fake_slack, str(button.message["ts"]))
    assert len(cluster_writes(sandbox)) == 1

    replay = opened_view(fake_slack, click(bot, button, BOB), want=is_notice)
    assert "Already handled: succeeded" in view_text(replay)
    submit(bot, {**replay, "private_metadata": json.dumps(origin_of(button))}, BOB)
    refused = fake_slack.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == BOB, count=2)[-1]
    assert "Already handled" in str(refused.params["text"])
    time.sleep(0.5)
    assert len(cluster_writes(sandbox)) == 1, "the replay wrote nothing"


def origin_of(button: Button) -> dict[str, str]:
    """What the preview modal of `button` carries: the request id and the message the button is in."""
    return {"request_id": button.request_id, "channel": CHANNEL_ID, "message_ts": str(button.message["ts"])}


def test_a_submission_naming_another_message_executes_nothing(
    bot: BotProcess, platform: Platform, fake_slack: FakeSlack, sandbox: Sandbox
) -> None:
    """The modal's private_metadata carries the clicked button's message (from the signed container); a
    submission whose origin is another request's message, or no message, is refused and audited."""
    scale = platform.propose("scale", "api-gateway", {"replicas": "8"}, ALICE)
    restart = platform.propose("restart", "business-logic", {}, ALICE)
    scale_button, restart_button = (find_button(fake_slack, p.request.id) for p in (scale, restart))
    view = opened_view(fake_slack, click(bot, scale_button, BOB), want=has_submit)
    assert json.loads(view["private_metadata"]) == origin_of(scale_button)

    crossed = {**origin_of(scale_button), "message_ts": str(restart_button.message["ts"])}
    submit(bot, {**view, "private_metadata": json.dumps(crossed)}, BOB)
    assert "does not belong to the message" in str(ephemeral_to(fake_slack, BOB).params["text"])
    bare = {"request_id": scale.request.id}  # no origin at all: nothing ties it to the message people saw
    submit(bot, {**view, "private_metadata": json.dumps(bare)}, BOB)
    refusals = fake_slack.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == BOB, count=2)
    assert "does not belong to the message" in str(refusals[-1].params["text"])
    time.sleep(0.5)
    assert cluster_writes(sandbox) == [] and deployment(sandbox, "api-gateway")["spec"]["replicas"] == 4
    assert request_status(platform.database_url, scale.request.id) == "pending"
    assert audit_events(platform.database_url, scale.request.id).count(("refused", BOB)) == 2
    assert fake_slack.calls("chat.update") == [], "the proposal's buttons stay"

    submit(bot, view, BOB)  # the modal as Slack holds it: from the right message
    assert f"Approved by <@{BOB}>" in settled_text(fake_slack, str(scale_button.message["ts"]))
    assert deployment(sandbox, "api-gateway")["spec"]["replicas"] == 8


def test_deny_from_the_preview_declines_and_removes_the_buttons(
    bot: BotProcess, platform: Platform, fake_slack: FakeSlack, sandbox: Sandbox
) -> None:
    diagnose(bot, fake_slack)
    button = find_button(fake_slack, action_word="rollback")
    fake_slack.fail("views.open", error="expired_trigger_id")  # Slack took too long: no modal this time
    click(bot, button, BOB)
    fallback = str(ephemeral_to(fake_slack, BOB).params["text"])
    assert "auth-service:2.4.1" in fallback and "Click the button again" in fallback
    view = opened_view(fake_slack, click(bot, button, BOB), want=has_submit)
    deny(bot, view, BOB)
    assert f"Declined by <@{BOB}>" in settled_text(fake_slack, str(button.message["ts"]))
    assert request_status(platform.database_url, button.request_id) == "denied"
    submit(bot, view, ALICE)  # the modal submitted after the denial
    assert "Already handled: denied" in str(ephemeral_to(fake_slack, ALICE).params["text"])
    assert len(fake_slack.calls("chat.postEphemeral")) == 2
    assert cluster_writes(sandbox) == []


def test_ten_concurrent_approvals_execute_once(bot: BotProcess, fake_slack: FakeSlack, sandbox: Sandbox) -> None:
    diagnose(bot, fake_slack)
    button = find_button(fake_slack, action_word="rollback")
    view = opened_view(fake_slack, click(bot, button, BOB), want=has_submit)
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda user: submit(bot, view, user), [BOB, ALICE, CAROL, ADMIN, ADMIN_2] * 2))
    settled_text(fake_slack, str(button.message["ts"]))
    refusals = fake_slack.wait_for("chat.postEphemeral", count=9, timeout=30)
    assert all("Already handled" in str(c.params["text"]) or "running" in str(c.params["text"]) for c in refusals)
    time.sleep(0.5)
    assert len(cluster_writes(sandbox, "/deployments/auth-service")) == 1
    assert len(fake_slack.calls("chat.postEphemeral")) == 9


def test_two_bot_processes_sharing_postgres_and_redis_execute_once(
    platform: Platform, fake_slack: FakeSlack, sandbox: Sandbox
) -> None:
    with platform.bot() as first, platform.bot() as second:
        diagnose(first, fake_slack)
        button = find_button(fake_slack, action_word="rollback")
        view = opened_view(fake_slack, click(first, button, BOB), want=has_submit)
        start = threading.Barrier(2)

        def submit_on(bot: BotProcess, user: str) -> None:
            start.wait()
            submit(bot, view, user)

        threads = [threading.Thread(target=submit_on, args=(bot, user))
                   for bot, user in ((first, BOB), (second, CAROL))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        line = settled_text(fake_slack, str(button.message["ts"]))
        assert "Approved by" in line
        ephemeral_to(fake_slack, BOB if f"<@{CAROL}>" in line else CAROL)
        time.sleep(0.5)
    assert len(cluster_writes(sandbox, "/deployments/auth-service")) == 1


# -- the other Kubernetes actions, proposed through the core ---------------------------------------------------


def test_scale_restart_and_delete_pod_through_the_buttons(
    bot: BotProcess, platform: Platform, fake_slack: FakeSlack, sandbox: Sandbox
) -> None:
    scale = platform.propose("scale", "api-gateway", {"replicas": "8"}, ALICE)
    approve(bot, fake_slack, find_button(fake_slack, scale.request.id), BOB)
    assert "Scaled api-gateway from 4 to 8" in settled_text(fake_slack, find_message_ts(fake_slack, scale))
    assert deployment(sandbox, "api-gateway")["spec"]["replicas"] == 8

    restart = platform.propose("restart", "business-logic", {}, ALICE)
    approve(bot, fake_slack, find_button(fake_slack, restart.request.id), ALICE)  # medium risk: self-approval ok
    settled_text(fake_slack, find_message_ts(fake_slack, restart))
    template = deployment(sandbox, "business-logic")["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" in template["metadata"]["annotations"]

    pod = sandbox.cluster.list("Pod", "default", "app=data-processor")[0]["metadata"]["name"]
    delete = platform.propose("delete-pod", "data-processor", {"pod": pod}, ALICE)
    approve(bot, fake_slack, find_button(fake_slack, delete.request.id), BOB)
    settled_text(fake_slack, find_message_ts(fake_slack, delete))
    assert [r.path for r in cluster_writes(sandbox) if r.method == "DELETE"] == [
        f"/api/v1/namespaces/default/pods/{pod}"]


def test_high_risk_needs_a_second_person_and_a_stale_target_is_re_proposed(
    bot: BotProcess, platform: Platform, fake_slack: FakeSlack, sandbox: Sandbox
) -> None:
    zero = platform.propose("scale-to-zero", "data-processor", {}, ADMIN)
    button = find_button(fake_slack, zero.request.id)
    preview = approve(bot, fake_slack, button, ADMIN)  # the first of two approvals: recorded, nothing runs
    assert "two different admins must approve it" in view_text(preview)
    assert "Approval 1 of 2" in str(ephemeral_to(fake_slack, ADMIN).params["text"])
    announced = fake_slack.wait_for("chat.postMessage", lambda c: "Approval 1 of 2" in json.dumps(c.params))
    assert f"<@{ADMIN}> approved" in json.dumps(announced[-1].params)
    assert request_status(platform.database_url, zero.request.id) == "pending"
    again = opened_view(fake_slack, click(bot, button, ADMIN), want=is_read_only_preview)
    assert "another admin must give the second" in view_text(again) and "approval 1 of 2" in view_text(again)
    assert deployment(sandbox, "data-processor")["spec"]["replicas"] == 3
    approve(bot, fake_slack, button, ADMIN_2)
    assert f"Approved by <@{ADMIN_2}>" in settled_text(fake_slack, str(button.message["ts"]))
    assert deployment(sandbox, "data-processor")["spec"]["replicas"] == 0

    stale = platform.propose("scale", "business-logic", {"replicas": "5"}, ALICE)
    stale_button = find_button(fake_slack, stale.request.id)
    view = opened_view(fake_slack, click(bot, stale_button, BOB), want=has_submit)
    writes = len(cluster_writes(sandbox))
    change_template(sandbox, "business-logic")  # someone else changes the deployment before the approval
    submit(bot, view, BOB)
    line = settled_text(fake_slack, str(stale_button.message["ts"]))
    assert "Not run" in line and "target changed" in line
    assert len(cluster_writes(sandbox)) == writes, "nothing ran on the changed target"
    fresh = fake_slack.wait_for("chat.postMessage", lambda c: "fresh one" in json.dumps(c.params.get("blocks")))[0]
    assert fresh.params["thread_ts"] == stale_button.message["ts"]
    fresh_button = find_button(fake_slack, action_word="scale to 5")
    assert fresh_button.request_id != stale.request.id
    approve(bot, fake_slack, fresh_button, BOB)
    settled_text(fake_slack, str(fresh_button.message["ts"]))
    assert deployment(sandbox, "business-logic")["spec"]["replicas"] == 5


def is_read_only_preview(view: dict[str, Any]) -> bool:
    """The preview for someone who may look but not approve: no submit button."""
    return "submit" not in view and any(b.get("block_id") == "preview" for b in view.get("blocks", []))


def change_template(sandbox: Sandbox, name: str) -> None:
    """A change made outside the bot (another person's rollout): a new generation of the deployment."""
    with sandbox.cluster.lock:
        current = deployment(sandbox, name)
        current["spec"]["template"]["metadata"].setdefault("annotations", {})["example.com/changed"] = "yes"
        sandbox.cluster.update(current)


def find_message_ts(fake_slack: FakeSlack, proposed: Proposed) -> str:
    return str(find_button(fake_slack, proposed.request.id).message["ts"])


# -- the platform database and cache --------------------------------------------------------------------------


@pytest.fixture
def target_db(pg_dsn: str) -> Iterator[str]:
    """The platform database the DB actions act on, separate from the bot's own (whose idle pool must live)."""
    name = f"e2e_target_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(pg_dsn, dbname=name)
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def redis_db(url: str, index: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{index}", parts.query, parts.fragment))


def test_flush_cache_terminate_idle_and_cancel_query_through_slack(
    platform: Platform, fake_slack: FakeSlack, target_db: str, redis_url: str
) -> None:
    cache_url, other_url = redis_db(redis_url, CACHE_DB), redis_db(redis_url, CACHE_DB + 1)
    cache, other = redis.Redis.from_url(cache_url), redis.Redis.from_url(other_url)
    for db in (cache, other):
        db.flushdb()
    cache.mset({f"session:{n}": "x" for n in range(5)})
    other.set("keep:me", "1")
    # Seconds instead of the guide's hour and 5 s, so the held connections are "old" and the sleeping query
    # "long" enough (cancel-query refuses a query younger than query_long_s) however fast the machine is.
    platform.config_path.write_text(
        OPS_CONFIG.replace("verify_delay_s: 0", "verify_delay_s: 0, min_idle_older_than: 1s")
        + "thresholds: {query_long_s: 1.0}\n"
    )
    platform.extra.update(TARGET_DATABASE_URL=target_db, CACHE_REDIS_URL=cache_url)
    idle = [psycopg.connect(target_db, autocommit=True, application_name="idle-victim") for _ in range(2)]
    for conn in idle:
        conn.execute("SELECT 1")
    sleeper = psycopg.connect(target_db, autocommit=True, application_name="slow-report")
    sleeper_pid = sleeper.info.backend_pid
    outcome: list[BaseException | None] = []

    def sleep_query() -> None:
        try:
            sleeper.execute("SELECT pg_sleep(60)")
            outcome.append(None)
        except psycopg.Error as exc:
            outcome.append(exc)

    query = threading.Thread(target=sleep_query)
    query.start()
    try:
        with platform.bot() as bot:
            flush = platform.propose("flush-cache", "auth-service", {}, ADMIN)
            assert "5" in json.dumps(flush.preview.summary)  # the preview counts the keys to be flushed
            approve(bot, fake_slack, find_button(fake_slack, flush.request.id), ADMIN)  # four eyes: 1 of 2
            ephemeral_to(fake_slack, ADMIN)
            assert cache.dbsize() == 5
            approve(bot, fake_slack, find_button(fake_slack, flush.request.id), ADMIN_2)
            settled_text(fake_slack, find_message_ts(fake_slack, flush))
            assert cache.dbsize() == 0 and other.get("keep:me") == b"1"

            time.sleep(1.5)  # the held connections are now idle for longer than older_than=1s
            terminate = platform.propose("terminate-idle", "auth-service", {"older_than": "1s"}, ADMIN)
            approve(bot, fake_slack, find_button(fake_slack, terminate.request.id), ADMIN)
            approve(bot, fake_slack, find_button(fake_slack, terminate.request.id), ADMIN_2)
            settled_text(fake_slack, find_message_ts(fake_slack, terminate))
            for conn in idle:
                with pytest.raises(psycopg.OperationalError):
                    conn.execute("SELECT 1")

            cancel = platform.propose("cancel-query", "auth-service", {"pid": str(sleeper_pid)}, ADMIN)
            approve(bot, fake_slack, find_button(fake_slack, cancel.request.id), ADMIN)  # medium risk: own ok
            settled_text(fake_slack, find_message_ts(fake_slack, cancel))
            query.join(10)
            assert outcome and isinstance(outcome[0], psycopg.errors.QueryCanceled)
            for proposed in (flush, terminate, cancel):
                assert request_status(platform.database_url, proposed.request.id) == "succeeded"
    finally:
        query.join(1)
        for conn in (*idle, sleeper):
            conn.close()
        cache.close()
        other.close()


# -- modes and expiry -----------------------------------------------------------------------------------------


def test_dry_run_previews_and_executes_nothing(platform: Platform, fake_slack: FakeSlack, sandbox: Sandbox) -> None:
    with platform.bot(OPSBOT_DRY_RUN="1") as bot:
        diagnose(bot, fake_slack)
        button = find_button(fake_slack, action_word="rollback")
        view = opened_view(fake_slack, click(bot, button, BOB), want=has_submit)
        assert view["submit"]["text"] == "Dry run" and "executes nothing" in view_text(view)
        submit(bot, view, BOB)
        said = str(ephemeral_to(fake_slack, BOB).params["text"])
        assert "Dry run: nothing executed" in said
        time.sleep(0.5)
        assert request_status(platform.database_url, button.request_id) == "pending"
        diagnose(bot, fake_slack)  # a newer diagnosis proposes the rollback again: the older buttons go
        assert "Superseded at" in settled_text(fake_slack, str(button.message["ts"]))
    assert cluster_writes(sandbox) == []
    assert request_status(platform.database_url, button.request_id) == "superseded"


def test_read_only_offers_no_buttons(platform: Platform, fake_slack: FakeSlack) -> None:
    platform.config_path.write_text(OPS_CONFIG + "read_only: true\n")
    with platform.bot() as bot:
        diagnose(bot, fake_slack)
    thread = json.dumps(fake_slack.messages(CHANNEL_ID))
    assert "rollback to revision 6" in thread, "the proposal is still described"
    assert "review_request" not in thread


def test_an_expired_request_refuses_and_says_so_in_the_message(
    bot: BotProcess, platform: Platform, fake_slack: FakeSlack, sandbox: Sandbox
) -> None:
    proposed = platform.propose("scale", "api-gateway", {"replicas": "6"}, ALICE)
    button = find_button(fake_slack, proposed.request.id)
    view = opened_view(fake_slack, click(bot, button, BOB), want=has_submit)
    with psycopg.connect(platform.database_url, autocommit=True) as conn:
        conn.execute("UPDATE approval_requests SET expires_at = now() - interval '1 second' WHERE id = %s",
                     (proposed.request.id,))
    submit(bot, view, BOB)
    assert "expired" in str(ephemeral_to(fake_slack, BOB).params["text"])
    assert "Expired at" in settled_text(fake_slack, str(button.message["ts"]))
    assert cluster_writes(sandbox) == []


def test_debug_logging_and_maintenance_are_proposed_and_approved_from_slack(
    bot: BotProcess, platform: Platform, fake_slack: FakeSlack, sandbox: Sandbox
) -> None:
    debug = act(bot, fake_slack, "debug-logging auth-service minutes=15", ALICE)
    assert f"<@{ALICE}> asks for approval" in json.dumps(debug.message["blocks"])
    approve(bot, fake_slack, debug, BOB)
    assert f"Approved by <@{BOB}>" in settled_text(fake_slack, str(debug.message["ts"]))
    container = deployment(sandbox)["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "LOG_LEVEL", "value": "DEBUG"} in container["env"]
    assert request_status(platform.database_url, debug.request_id) == "succeeded"

    maintenance = act(bot, fake_slack, "maintenance api-gateway mode=on", ADMIN)
    approve(bot, fake_slack, maintenance, ADMIN)  # high risk: the first of two approvals
    ephemeral_to(fake_slack, ADMIN)
    assert sandbox.cluster.get("ConfigMap", "default", "maintenance-mode") is None
    approve(bot, fake_slack, maintenance, ADMIN_2)
    assert f"Approved by <@{ADMIN_2}>" in settled_text(fake_slack, str(maintenance.message["ts"]))
    assert sandbox.cluster.get("ConfigMap", "default", "maintenance-mode") is not None


def test_act_refuses_bad_input_privately(bot: BotProcess, fake_slack: FakeSlack) -> None:
    response = post_signed(bot.events_url, SIGNING_SECRET, slash_command_body("act reboot auth-service", user_id=BOB))
    assert response.status_code == 200 and "I don't know the action `reboot`" in response.text
    bad = post_signed(bot.events_url, SIGNING_SECRET, slash_command_body("act scale auth-service replicas=$(x)",
                                                                        user_id=BOB))
    assert "key=value" in bad.text
    assert fake_slack.calls("chat.postMessage") == []


def test_an_approvals_database_outage_answers_the_clicker(
    bot: BotProcess, platform: Platform, fake_slack: FakeSlack, sandbox: Sandbox
) -> None:
    diagnose(bot, fake_slack)
    button = find_button(fake_slack, action_word="rollback")
    view = opened_view(fake_slack, click(bot, button, BOB), want=has_submit)
    with psycopg.connect(platform.database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE approval_requests RENAME TO approval_requests_away")  # every query now fails
        try:
            notice = opened_view(fake_slack, click(bot, button, ALICE), want=is_notice)
            assert "approvals database is unavailable" in view_text(notice)
            assert "unavailable" in str(ephemeral_to(fake_slack, ALICE).params["text"])
            submit(bot, view, BOB)
            fake_slack.wait_for("views.open", lambda c: "unavailable" in json.dumps(c.params), timeout=20)
            assert "unavailable" in str(ephemeral_to(fake_slack, BOB).params["text"])
        finally:
            conn.execute("ALTER TABLE approval_requests_away RENAME TO approval_requests")
    assert cluster_writes(sandbox) == []
    approve(bot, fake_slack, button, BOB)  # once the database is back, the same button works
    assert f"Approved by <@{BOB}>" in settled_text(fake_slack, str(button.message["ts"]))
