"""`opsbot act` and `opsbot audit` as an operator runs them: the console script against the in-process
sandbox (real HTTP) with the approvals store in a real PostgreSQL database, so the trail outlives each run."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.sandbox.runner import Sandbox
from tests.e2e.botproc import opsbot_executable

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox("bad-deploy") as running:
        running.write_kubeconfig(tmp_path / "kubeconfig")
        running.write_ops_config(tmp_path / "ops.yaml")
        yield running


@pytest.fixture
def opsbot(sandbox: Sandbox, tmp_path: Path, pg_db: str) -> Run:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPSBOT_", "REDIS", "DATABASE"))}
    env = {**clean, "LOGNAME": "alice", "DATABASE_URL": pg_db}
    for line in sandbox.env_lines():  # KUBECONFIG, OPSBOT_CONFIG, METRICS_API_URL, ... of this sandbox
        name, _, value = line.partition("=")
        env[name] = value

    def run(*args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([opsbot_executable(), *args], capture_output=True, text=True, timeout=120,
                              env={**env, **(extra or {})}, cwd=tmp_path, check=False)

    return run


def _replicas(sandbox: Sandbox) -> int:
    deployment = sandbox.cluster.get("Deployment", "default", "auth-service")
    assert deployment is not None
    return int(deployment["spec"]["replicas"])


def test_act_previews_and_changes_nothing_without_yes(sandbox: Sandbox, opsbot: Run) -> None:
    before = _replicas(sandbox)
    result = opsbot("act", "scale", "auth-service", "--param", "replicas=5")
    assert result.returncode == 0, result.stderr
    assert f"Preview: Scale auth-service from {before} to 5 replicas" in result.stdout
    assert "Nothing executed" in result.stdout
    assert _replicas(sandbox) == before
    dry = opsbot("act", "scale", "auth-service", "--param", "replicas=5", "--dry-run", "--yes")
    assert dry.returncode == 0 and "nothing executed" in dry.stdout
    env_dry = opsbot("act", "scale", "auth-service", "--param", "replicas=5", "--yes", extra={"OPSBOT_DRY_RUN": "1"})
    assert env_dry.returncode == 0 and "OPSBOT_DRY_RUN" in env_dry.stdout
    assert _replicas(sandbox) == before


def test_act_yes_scales_once_and_audit_shows_every_step(sandbox: Sandbox, opsbot: Run) -> None:
    before = _replicas(sandbox)
    result = opsbot("act", "scale", "auth-service", "--param", "replicas=5", "--yes", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["executed"] is True and report["actor"] == "cli:alice"
    assert report["decision"]["kind"] == "succeeded" and report["request"]["status"] == "succeeded"
    assert report["decision"]["outcome"]["revert"] == f"scale replicas={before}"
    assert _replicas(sandbox) == 5

    trail = opsbot("audit", "--json", "--service", "auth-service", "--since", "1h")
    assert trail.returncode == 0, trail.stderr
    rows = json.loads(trail.stdout)
    request_rows = [r for r in rows if r["request_id"] == report["request"]["id"]]
    assert [r["event"] for r in request_rows] == ["proposed", "clicked", "approved", "executing", "succeeded"]
    assert {r["actor"] for r in request_rows} == {"cli:alice"}
    assert all(r["action"] == "scale" and r["params"] == {"replicas": "5"} for r in request_rows)
    assert "Scaled auth-service" in request_rows[-1]["detail"]

    text = opsbot("audit")
    assert text.returncode == 0 and "succeeded" in text.stdout and "cli:alice" in text.stdout
    other = opsbot("audit", "--json", "--service", "api-gateway")
    assert json.loads(other.stdout) == []


def test_act_bad_input_exits_2_and_refusals_exit_1(sandbox: Sandbox, opsbot: Run, tmp_path: Path) -> None:
    assert opsbot("act", "scale", "auth-service", "--param", "replicas=lots").returncode == 2
    assert opsbot("act", "scale", "auth-service", "--param", "replicas").returncode == 2
    unknown = opsbot("act", "reboot", "auth-service")
    assert unknown.returncode == 2 and "Unknown action" in unknown.stderr
    assert opsbot("act", "scale", "no-such-service", "--param", "replicas=2").returncode == 2
    assert opsbot("audit", "--since", "yesterday").returncode == 2
    read_only = tmp_path / "read-only.yaml"
    read_only.write_text((tmp_path / "ops.yaml").read_text() + "read_only: true\n")
    refused = opsbot("act", "scale", "auth-service", "--param", "replicas=5", "--yes",
                     extra={"OPSBOT_CONFIG": str(read_only)})
    assert refused.returncode == 1 and "read-only" in refused.stderr
    assert _replicas(sandbox) != 5


def test_act_says_a_blocked_preview_cannot_run(sandbox: Sandbox, opsbot: Run) -> None:
    blocked = opsbot("act", "terminate-idle", "auth-service")  # no TARGET_DATABASE_URL in this sandbox
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "Blocked: TARGET_DATABASE_URL is not configured" in blocked.stdout
    assert "Cannot run now" in blocked.stdout and "add --yes" not in blocked.stdout


def test_act_help_lists_every_action(opsbot: Run) -> None:
    from bot.actions import ACTIONS

    shown = opsbot("act", "--help")
    assert shown.returncode == 0
    text = shown.stdout
    assert all(name in text for name in ACTIONS) and "..." not in text


def test_a_timed_change_says_who_reverts_it_and_when(sandbox: Sandbox, opsbot: Run) -> None:
    done = opsbot("act", "debug-logging", "auth-service", "--param", "minutes=5", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"reverts automatically at \d\d:\d\d UTC", done.stdout), done.stdout
    assert re.search(r"The revert runs at \d\d:\d\d UTC by the opsbot run leader's scheduler", done.stdout)
    assert "T" not in re.search(r"reverts automatically at (\S+)", done.stdout).group(1)  # type: ignore[union-attr]


def test_audit_says_when_there_is_nothing_to_show(sandbox: Sandbox, opsbot: Run) -> None:
    none = opsbot("audit", "--service", "api-gateway")
    assert none.returncode == 0 and none.stdout == ""
    assert "no audit entries for service api-gateway" in none.stderr
    typo = opsbot("audit", "--service", "nosuch")
    assert typo.returncode == 2 and "nosuch: it is not a configured service (known: " in typo.stderr
    assert json.loads(opsbot("audit", "--json", "--service", "api-gateway").stdout) == []


def test_act_says_plainly_when_there_is_nothing_to_change(sandbox: Sandbox, opsbot: Run) -> None:
    now = str(_replicas(sandbox))
    preview = opsbot("act", "scale", "auth-service", "--param", f"replicas={now}")
    assert preview.returncode == 0 and "there is nothing to change" in preview.stdout, preview.stdout
    done = opsbot("act", "scale", "auth-service", "--param", f"replicas={now}", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["executed"] is False and report["request"] is None
    assert report["unchanged"] == f"nothing to change — auth-service already runs {now} replicas"
    trail = json.loads(opsbot("audit", "--json", "--service", "auth-service").stdout)
    assert [row["event"] for row in trail] == ["previewed"]  # the --yes run stored no request
