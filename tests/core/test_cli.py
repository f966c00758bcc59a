"""The `opsbot` console script as a user runs it: demo transcript, check-config, refusal to start half-configured."""

import os
import re
import subprocess
from pathlib import Path

from bot.sandbox.platform_data import IDLE_SESSIONS
from tests.e2e.botproc import opsbot_executable


def _run(args: list[str], env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPSBOT_", "REDIS", "DATABASE"))}
    return subprocess.run([opsbot_executable(), *args], input=stdin, capture_output=True, text=True, timeout=120,
                          env={**clean, **(env or {})}, cwd=Path(__file__).parent, check=False)


def test_demo_with_piped_commands_diagnoses_the_bad_deploy() -> None:
    result = _run(["demo"], stdin="/diagnose auth-service errors\nclick 1\n/diagnose nope\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Likely cause: Bug in recent deployment: revision 7 (auth-service:2.5.0)" in out
    assert "[1] rollback to revision 6 on auth-service" in out
    assert "[preview]" in out and "server dry run accepted" in out  # `click 1` previews, changes nothing
    assert "I don't know a service called `nope`" in out


def test_demo_without_input_plays_the_tour() -> None:
    result = _run(["demo"])
    assert result.returncode == 0, result.stderr
    assert "scripted tour" in result.stdout and "revision 7" in result.stdout
    # The tour shows one approval end to end: the rollback, then the verification verdict.
    assert "Approved by U0DEMOYOU" in result.stdout and "Verification of auth-service: better" in result.stdout
    # Then the data actions on the demo's local PostgreSQL and Redis (the suite requires their binaries).
    assert "Done: Cancelled the query of pid" in result.stdout
    assert f"Approval 1 of 2: U0DEMOYOU approved terminate {len(IDLE_SESSIONS)} idle DB connections" in result.stdout
    assert f"Done: Terminated {len(IDLE_SESSIONS)} idle connection(s) older than 1s" in result.stdout
    assert re.search(r"Approved by U0DEMOBUD .* Done: Flushed \d{3} key\(s\) from cache DB 0", result.stdout)


def test_check_config_names_the_bad_key(tmp_path: Path) -> None:
    bad = tmp_path / "ops.yaml"
    bad.write_text("thresholds: {error_rate: 3}\n")
    result = _run(["check-config"], env={"OPSBOT_CONFIG": str(bad)})
    assert result.returncode != 0 and "thresholds.error_rate" in result.stderr
    ok = _run(["check-config"], env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"})
    assert ok.returncode == 0, ok.stderr
    missing = _run(["check-config"])
    assert missing.returncode == 1 and "SLACK_BOT_TOKEN" in missing.stderr


def test_check_config_names_malformed_connection_strings_without_showing_them() -> None:
    slack = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    result = _run(["check-config"], env={**slack, "DATABASE_URL": "postgresql://u:s3cr3t%zz@db/opsbot",
                                         "CACHE_REDIS_URL": "redis://default:s3cr3t"})
    assert result.returncode == 1, result.stderr
    assert "DATABASE_URL is not a valid PostgreSQL connection string" in result.stderr
    assert "CACHE_REDIS_URL is not a valid Redis URL" in result.stderr
    assert "s3cr3t" not in result.stderr + result.stdout


def test_run_refuses_to_start_without_slack_credentials() -> None:
    result = _run(["run"])
    assert result.returncode == 2 and "SLACK_BOT_TOKEN" in result.stderr


def test_bad_setting_stops_every_command_naming_the_variable() -> None:
    result = _run(["diagnose", "auth-service"], env={"PORT": "not-a-port"})
    assert result.returncode == 2 and "PORT" in result.stderr
