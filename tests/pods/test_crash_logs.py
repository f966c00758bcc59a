"""crash_logs.assess and the guide's crash table: exit codes and last log lines mapped to their fixes."""

from __future__ import annotations

import pytest

from bot.checks.crash_logs import EXCERPT_LINES, LINE_SHOWN, Crash, CrashLogsCheck
from bot.checks.crash_signatures import classify_crash
from bot.model import Status

from .records import CTX, GI, ago, container, pod, spec

CHECK = CrashLogsCheck()


def crash(name: str, lines: list[str], *, reason: str = "Error", exit_code: int = 1, looping: bool = True,
          env: dict[str, str] | None = None, memory_limit: int = 2 * GI) -> Crash:
    state = container(ready=False, started_at=None, restart_count=5, last_terminated_reason=reason,
                      last_exit_code=exit_code, last_finished_at=ago(minutes=2),
                      waiting_reason="CrashLoopBackOff" if looping else None)
    return Crash(pod(name, state, container_spec=spec(env=env, memory_limit=memory_limit)), state, tuple(lines))


@pytest.mark.parametrize(("reason", "exit_code", "lines", "key"), [
    ("OOMKilled", 137, ["INFO processing batch 812"], "oom_killed"),
    ("Error", 1, ["Error: Address already in use: 8080"], "port_conflict"),
    ("Error", 1, ["Error: listen EADDRINUSE: address already in use :::8080", "    at Server.setupListenHandle"],
     "port_conflict"),
    ("Error", 1, ["ERROR Error: Cannot connect to database", "INFO shutting down"], "missing_dependency"),
    ("Error", 1, ["Traceback (most recent call last):", '  File "/app/db.py", line 3, in connect',
                  "psycopg.OperationalError: connection refused (port 5432)"], "missing_dependency"),
    ("Error", 1, ["KeyError: 'DATABASE_URL'"], "config_error"),
    ("Error", 1, ["Traceback (most recent call last):", '  File "/app/x.py", line 9, in main',
                  "ValueError: invalid literal for int()"], "unhandled_exception"),
    ("Error", 2, ["panic: runtime error: index out of range [3] with length 3"], "unhandled_exception"),
    ("Error", 139, ["INFO loading model"], "unhandled_exception"),
    ("Error", 1, ["INFO bye"], None),
])
def test_the_guides_crash_table(reason: str, exit_code: int, lines: list[str], key: str | None) -> None:
    kind, _ = classify_crash(reason, exit_code, lines)
    assert (kind.key if kind else None) == key


def test_exit_137_without_oomkilled_is_not_called_out_of_memory() -> None:
    # The kubelet's SIGKILL after a failed liveness probe is 137 too; only its reason says OOM.
    kind, _ = classify_crash("Error", 137, ["INFO still loading routes"])
    assert kind is None


def test_database_crash_on_every_pod_is_a_missing_dependency_with_env_names_only() -> None:
    lines = ["INFO Starting", 'WARN connect failed: FATAL:  password authentication failed for user "bl_app"',
             "ERROR Error: Cannot connect to database", "INFO exit 1"]
    env = {"DB_HOST": "orders-db", "DATABASE_URL": "postgresql://bl_app:hunter2@orders-db/orders", "LOG_LEVEL": "INFO"}
    finding = CHECK.assess(tuple(crash(f"bl-{i}", lines, env=env) for i in range(3)), CTX)
    assert finding.status is Status.CRIT
    cause = finding.causes[0]
    assert cause.key == "missing_dependency" and cause.confidence == 0.8
    assert cause.evidence[0].startswith("3 of 3 crashed pod(s): ERROR Error: Cannot connect to database")
    assert "Check environment variables and secrets" in cause.evidence[1]
    assert "DATABASE_URL, DB_HOST" in cause.evidence[2]
    text = "\n".join([*cause.evidence, *finding.evidence, finding.summary])
    assert "hunter2" not in text, "env values may hold secrets and are never shown"


def test_oom_kill_proposes_a_memory_bump() -> None:
    finding = CHECK.assess((crash("dp-0", ["INFO batch 9"], reason="OOMKilled", exit_code=137,
                                  memory_limit=512 * 1024**2),), CTX)
    cause = finding.causes[0]
    assert cause.key == "oom_killed"
    assert [(p.action, dict(p.params)) for p in cause.proposals] == [("memory-bump", {"limit": "1Gi", "minutes": "60"})]
    assert "OOMKilled exit 137 (SIGKILL)" in finding.evidence[0]


def test_unhandled_exception_supports_the_deploy_cause() -> None:
    finding = CHECK.assess((crash("bl-0", ["Traceback (most recent call last):", "AssertionError"]),
                            crash("bl-1", ["INFO nothing to see"])), CTX)
    cause = finding.causes[0]
    assert cause.key == "unhandled_exception" and cause.supports == ("deploy",)
    assert cause.confidence == 0.65  # one of two crashed pods


def test_excerpt_is_one_per_pod_bounded_and_ends_at_the_telling_line() -> None:
    lines = [f"INFO step {i}" for i in range(50)] + ["ERROR Error: Address already in use: 8080",
                                                     "INFO cleanup", "x" * 1000]
    finding = CHECK.assess((crash("api-0", lines),), CTX)
    excerpt = finding.evidence[0].splitlines()
    assert excerpt[0].startswith("api-0: Error exit 1 2 min ago, 5 restarts")
    assert len(excerpt) == 1 + EXCERPT_LINES and excerpt[-1] == "ERROR Error: Address already in use: 8080"
    tail = CHECK.assess((crash("api-0", ["INFO a", "y" * 1000]),), CTX).evidence[0].splitlines()
    assert len(tail[-1]) == LINE_SHOWN


def test_unreadable_previous_log_still_reports_the_exit_code() -> None:
    state = container(ready=False, started_at=None, restart_count=2, last_terminated_reason="OOMKilled",
                      last_exit_code=137, last_finished_at=ago(minutes=5), waiting_reason="CrashLoopBackOff")
    unread = Crash(pod("dp-0", state), state, (), unreadable="read previous log of dp-0/app: HTTP 400 Bad Request")
    finding = CHECK.assess((unread,), CTX)
    assert finding.causes[0].key == "oom_killed"
    assert "previous log unreadable" in finding.evidence[0]


def test_restarted_but_running_again_is_a_warning() -> None:
    finding = CHECK.assess((crash("dp-0", ["INFO bye"], looping=False),), CTX)
    assert finding.status is Status.WARN and finding.causes == ()
    assert "name no known cause" in finding.summary


def test_no_crashes_is_ok() -> None:
    assert CHECK.assess((), CTX).status is Status.OK
