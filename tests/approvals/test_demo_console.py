"""Every remediation runs from the demo console: preview, approval (four eyes for the high-risk ones), the
outcome and its effect, on the sandbox cluster and on the demo's real local PostgreSQL and Redis.

The sweep drives the Console in-process, so it can look at the servers behind the transcript; the story of
the three data actions is also played through the real `opsbot demo` subprocess with piped commands.
Neither skips: without the PostgreSQL or redis-server binaries the demo has no data actions, and they fail.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from bot.actions import ACTIONS
from bot.demo import Console, open_console
from bot.demo_approvals import BUDDY
from bot.sandbox.platform_data import IDLE_SESSIONS, REPORT_APPLICATION, PlatformData, platform_data
from bot.sandbox.runner import Sandbox
from tests.core.test_cli import _run

NAMESPACE = "default"
STRANGER = "U0STRANGER"  # in no role of the demo config


class Session:
    """The console plus its transcript, read one command's answer at a time."""

    def __init__(self, console: Console, out: io.StringIO, sandbox: Sandbox, data: PlatformData) -> None:
        self.console, self.out, self.sandbox, self.data = console, out, sandbox, data

    async def says(self, line: str) -> str:
        start = len(self.out.getvalue())
        await self.console.handle(line)
        return self.out.getvalue()[start:]

    async def propose(self, line: str) -> int:
        """`propose ...` (or a diagnosis): the number of the last proposal it offered."""
        said = await self.says(line)
        numbers = re.findall(r"^\s+\[(\d+)\] ", said, flags=re.MULTILINE)
        assert numbers, f"{line!r} offered nothing:\n{said}"
        return int(numbers[-1])

    async def preview(self, number: int, *expected: str) -> None:
        said = await self.says(f"click {number}")
        assert said.startswith("[preview]"), said
        for text in expected:
            assert text in said, f"click {number}: {text!r} not in\n{said}"

    async def approve(self, number: int, *, four_eyes: bool) -> str:
        """Approve as the console's admin; a high-risk action needs the buddy's approval to run."""
        said = await self.says(f"approve {number}")
        if not four_eyes:
            return said
        assert "Approval 1 of 2: U0DEMOYOU approved" in said, said
        return await self.says(f"as {BUDDY} approve {number}")

    def deployment(self, service: str) -> Any:
        return self.sandbox.cluster.get("Deployment", NAMESPACE, service)


@pytest.fixture
async def session() -> AsyncIterator[Session]:
    reasons: list[str] = []
    with (
        platform_data(reasons.append) as data,
        tempfile.TemporaryDirectory() as tmp,
        Sandbox("bad-deploy") as sandbox,
    ):
        if data is None:
            pytest.fail(f"the demo's local PostgreSQL/Redis did not start: {reasons}")
        out = io.StringIO()
        console = open_console(sandbox, sandbox.write_kubeconfig(Path(tmp) / "kubeconfig"), data, out)
        try:
            yield Session(console, out, sandbox, data)
        finally:
            await console.aclose()


def _done(said: str, summary: str) -> None:
    assert "[message updated] Approved by" in said and f"Done: {summary}" in said, said


async def _kube_actions(s: Session) -> set[str]:
    ran: set[str] = set()

    n = await s.propose("/diagnose auth-service errors")
    await s.preview(n, "rollback to revision 6", "server dry run accepted")
    said = await s.approve(n, four_eyes=False)
    _done(said, "Rolled back auth-service from revision 7")
    assert "Verification of auth-service: better" in said
    ran.add("rollback")

    pod = s.sandbox.cluster.list("Pod", NAMESPACE, "app=api-gateway")[0]["metadata"]["name"]
    n = await s.propose(f"propose delete-pod api-gateway pod={pod}")
    await s.preview(n, pod)
    _done(await s.approve(n, four_eyes=False), f"Deleted pod {pod}; its ReplicaSet starts a replacement")
    pods = [p["metadata"]["name"] for p in s.sandbox.cluster.list("Pod", NAMESPACE, "app=api-gateway")]
    assert pod not in pods
    ran.add("delete-pod")

    n = await s.propose("propose scale api-gateway replicas=6")
    await s.preview(n, "Scale api-gateway from 4 to 6 replicas")
    _done(await s.approve(n, four_eyes=False), "Scaled api-gateway from 4 to 6 replicas")
    assert s.deployment("api-gateway")["spec"]["replicas"] == 6
    ran.add("scale")

    n = await s.propose("propose restart business-logic")
    await s.preview(n, "Rollout restart of business-logic")
    _done(await s.approve(n, four_eyes=False), "Restarted business-logic")
    assert "kubectl.kubernetes.io/restartedAt" in s.deployment("business-logic")["spec"]["template"]["metadata"].get(
        "annotations", {})
    ran.add("restart")

    n = await s.propose("propose debug-logging data-processor minutes=30")
    await s.preview(n, "Debug logging for 30 min on data-processor")
    said = await s.approve(n, four_eyes=False)
    _done(said, "Debug logging on for data-processor")
    assert "the revert is scheduled" in said
    ran.add("debug-logging")

    n = await s.propose("propose memory-bump auth-service limit=4Gi minutes=30")
    await s.preview(n, "-> 4Gi")
    _done(await s.approve(n, four_eyes=False), "Memory limit of auth-service raised to 4Gi; reverts automatically at")
    [container] = s.deployment("auth-service")["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["limits"]["memory"] == "4Gi"
    ran.add("memory-bump")

    n = await s.propose("propose scale-to-zero business-logic")
    await s.preview(n, "Four eyes", "from 3 to 0 replicas")
    said = await s.approve(n, four_eyes=True)
    _done(said, "Scaled business-logic from 3 to 0 replicas")
    assert s.deployment("business-logic")["spec"]["replicas"] == 0
    ran.add("scale-to-zero")

    n = await s.propose("propose restore-replicas business-logic")
    await s.preview(n, "business-logic")
    _done(await s.approve(n, four_eyes=False), "Restored business-logic to 3 replicas")
    assert s.deployment("business-logic")["spec"]["replicas"] == 3
    ran.add("restore-replicas")

    n = await s.propose("propose maintenance api-gateway mode=on")
    await s.preview(n, "Four eyes", "Maintenance mode ON")
    # Someone in no role is refused by name of the role, and nothing changes.
    refused = await s.says(f"as {STRANGER} approve {n}")
    assert f"[only {STRANGER} can see this]" in refused and "needs the admin role; you have no role" in refused
    assert s.sandbox.cluster.get("ConfigMap", NAMESPACE, "maintenance-mode") is None
    # One admin approving twice is still one approval.
    await s.says(f"approve {n}")
    again = await s.says(f"approve {n}")
    assert "Done:" not in again and s.sandbox.cluster.get("ConfigMap", NAMESPACE, "maintenance-mode") is None
    _done(await s.says(f"as {BUDDY} approve {n}"), "Maintenance mode is ON (503 at the load balancer)")
    assert s.sandbox.cluster.get("ConfigMap", NAMESPACE, "maintenance-mode") is not None
    ran.add("maintenance")
    return ran


def _sessions(url: str, pids: tuple[int, ...]) -> list[tuple[int, str, str]]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT pid, application_name, state FROM pg_stat_activity WHERE pid = ANY(%s)",
                            (list(pids),)).fetchall()
    return [(int(pid), str(app), str(state)) for pid, app, state in rows]


async def _data_actions(s: Session) -> set[str]:
    data, ran = s.data, set[str]()

    n = await s.propose("/diagnose api-gateway slow_queries")
    await s.preview(n, f"The query pid {data.report_pid} has been running", f"(application {REPORT_APPLICATION}, user",
                    "pg_sleep(?)")
    said = await s.approve(n, four_eyes=False)
    _done(said, f"Cancelled the query of pid {data.report_pid}")
    # Verified by what a cancel changes (long-running queries), not by pg_stat_statements' means, which it
    # leaves alone: one query over the limit before, none after.
    assert "Verification of api-gateway: better" in said and "queries > limit: 1 → after: queries > limit: 0" in said
    data.report.stop()  # joins the report thread: it has seen the cancel by now
    assert data.report.ended_by == "QueryCanceled"
    assert _sessions(data.database_url, (data.report_pid,)) == []  # the job gave up and disconnected
    ran.add("cancel-query")

    assert len(_sessions(data.database_url, data.idle_pids)) == len(IDLE_SESSIONS)
    n = await s.propose("propose terminate-idle api-gateway")
    await s.preview(n, f"{len(IDLE_SESSIONS)} connections to platform", "(all applications, not only api-gateway)",
                    "app api-gateway",
                    "app auth-service", "Four eyes")
    said = await s.approve(n, four_eyes=True)
    _done(said, f"Terminated {len(IDLE_SESSIONS)} idle connection(s) older than 1s")
    # No pods roll for a database action: there is no rollout to wait for, and the thread does not claim one.
    assert "verifying (re-running the checks)…" in said and "waiting for the rollout" not in said, said
    assert _sessions(data.database_url, data.idle_pids) == []
    ran.add("terminate-idle")

    cache = redis.Redis.from_url(data.cache_url)
    try:
        assert cache.dbsize() == data.cache_keys > 0
        n = await s.propose("propose flush-cache api-gateway")
        await s.preview(n, f"{data.cache_keys} keys -> 0", "Four eyes")
        _done(await s.approve(n, four_eyes=True), f"Flushed {data.cache_keys} key(s) from cache DB 0")
        assert cache.dbsize() == 0
    finally:
        cache.close()
    ran.add("flush-cache")
    return ran


async def test_every_action_runs_from_the_demo_console(session: Session) -> None:
    ran = await _kube_actions(session)  # first: the data meanwhile ages past the demo's 1 s thresholds
    ran |= await _data_actions(session)
    assert ran == set(ACTIONS), f"not run from the console: {set(ACTIONS) - ran}"


def test_demo_subprocess_cancels_terminates_and_flushes_on_its_local_servers() -> None:
    commands = [
        # Two diagnoses first, while the seeded data ages past the demo's 1 s thresholds.
        # One numbering for the session, as Slack's buttons stay: [1] is the rollback.
        "/diagnose auth-service errors",
        "/diagnose api-gateway 5xx",
        "/diagnose api-gateway slow_queries",  # [2]
        "click 2",
        "approve 2",
        "/diagnose api-gateway slow_queries",  # the cancelled query is gone
        "propose terminate-idle api-gateway",  # [3]: that diagnosis offered nothing
        f"as {STRANGER} approve 3",
        "approve 3",
        f"as {BUDDY} approve 3",
        "propose terminate-idle api-gateway",  # nothing idle is left: not offered
        "propose flush-cache api-gateway",  # [4]
        "approve 4",
        f"as {BUDDY} approve 4",
        "propose flush-cache api-gateway",  # the cache is empty now
    ]
    result = _run(["demo"], stdin="\n".join(commands) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "are unavailable here" not in out, out[:600]
    pid = re.search(r"a long `report-job` query \(pid (\d+)\)", out)
    assert pid, out[:600]
    report = pid.group(1)
    assert f"[2] cancel query {report}, for api-gateway — " in out and f"pid {report} ({REPORT_APPLICATION}" in out, out
    assert f"Done: Cancelled the query of pid {report}" in out
    assert "No active query has been running longer than 1.0 s." in out  # the second diagnosis
    assert f"Proposed by U0DEMOYOU: {len(IDLE_SESSIONS)} connections to platform" in out
    assert f"[only {STRANGER} can see this] Not done: Approving this needs the admin role; you have no role." in out
    assert f"Done: Terminated {len(IDLE_SESSIONS)} idle connection(s) older than 1s" in out
    # Proposed again: nothing is left to change, so no button (no four-eyes approval of "terminate 0").
    assert "Not proposed: nothing to change — no connection to platform has been idle for more than 1s" in out
    keys = re.search(r"FLUSHDB on the platform cache would delete (\d+) keys", out)
    assert keys and int(keys.group(1)) > 100, out
    assert f"Done: Flushed {keys.group(1)} key(s) from cache DB 0" in out
    assert "Not proposed: nothing to change — cache DB 0 is already empty" in out  # again: none left


async def test_the_console_numbers_proposals_once_per_session_and_reads_propose_as_slack_does(
        session: Session) -> None:
    s = session
    first = await s.propose("/diagnose auth-service errors")
    scale = await s.propose("propose scale Auth-Service replicas=5")  # service names in any case, as /diagnose
    assert scale == first + 1
    await s.says("/diagnose api-gateway 5xx")
    await s.preview(first, "rollback to revision 6")  # an earlier number stays reachable after a diagnosis
    act = await s.propose("/diagnose act scale auth-service replicas=4")  # the Slack command works here too
    assert act == scale + 1  # and supersedes the pending scale: that number is no longer on offer
    missing = await s.says("click 99")
    assert f"There is no proposal '99'; proposals {first}, {act} are on offer." in missing, missing

    twice = await s.says("propose scale auth-service replicas=5 replicas=7")
    assert "Not proposed: replicas given more than once (replicas=5, replicas=7)" in twice, twice
    bare = await s.says("propose maintenance api-gateway on")
    assert "Not proposed: `on` is not a key=value parameter (say mode=on)" in bare, bare
    usage = await s.says("propose")
    assert "Not proposed: Usage: `propose ACTION SERVICE [key=value ...]`" in usage, usage
    assert "`propose ACTION SERVICE [key=value ...]`" in await s.says("what now")
