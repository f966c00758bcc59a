"""Every runbook answers from Slack, from the console and from `opsbot diagnose`.

The planted root cause of each scenario is asserted in-process by the groups' scenario tests; here the
point is that each symptom goes all the way through each front end: the signed slash command to threaded
findings, the demo console, and the one-shot CLI with its JSON output.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.checks import CHECKS
from bot.demo import run_demo
from bot.model import Symptom
from bot.runbooks import load_runbooks
from bot.sandbox.runner import Sandbox
from tests.e2e.botproc import BotProcess
from tests.e2e.conftest import bot_env
from tests.fakes.signing import CHANNEL_ID, SIGNING_SECRET, post_signed, slash_command_body
from tests.fakes.slack_api import FakeSlack

RUNBOOKS = load_runbooks()
SYMPTOMS = sorted(s for s in RUNBOOKS if s is not Symptom.UNKNOWN)


@pytest.fixture
def dns_bot(fake_slack: FakeSlack, sandbox: Sandbox, tmp_path: Path, redis_client_url: str) -> Iterator[BotProcess]:
    ops_config = sandbox.write_ops_config(tmp_path / "ops.yaml")
    env = bot_env(fake_slack, sandbox, tmp_path / "kubeconfig", REDIS_URL=redis_client_url,
                  OPSBOT_CONFIG=str(ops_config))
    with BotProcess(env) as running:
        yield running


def test_every_symptom_answers_in_a_slack_thread(dns_bot: BotProcess, fake_slack: FakeSlack) -> None:
    for symptom in SYMPTOMS:
        fake_slack.reset()
        response = post_signed(dns_bot.events_url, SIGNING_SECRET, slash_command_body(f"api-gateway {symptom.value}"))
        assert response.status_code == 200 and "Diagnosing" in response.text, symptom
        root = fake_slack.wait_for("chat.postMessage", lambda c: "thread_ts" not in c.params)[0]
        root_ts = root.response["ts"]
        fake_slack.wait_for("chat.update", lambda c, ts=root_ts: c.params.get("ts") == ts, timeout=60)
        thread = json.dumps(fake_slack.thread(CHANNEL_ID, root_ts))
        missing = [name for name in RUNBOOKS[symptom].checks if CHECKS[name].title not in thread]
        assert not missing, f"{symptom.value}: findings missing for {missing}"
        assert all(call.ok for call in fake_slack.calls("chat.postMessage")), f"{symptom.value}: Block Kit limits"


def test_every_symptom_answers_in_the_console() -> None:
    commands = "\n".join(f"/diagnose business-logic {symptom.value}" for symptom in SYMPTOMS) + "\n"
    out = io.StringIO()
    assert run_demo(io.StringIO(commands), out=out) == 0
    transcript = out.getvalue()
    for symptom in SYMPTOMS:
        for name in RUNBOOKS[symptom].checks:
            assert CHECKS[name].title in transcript, f"{symptom.value}: {name} not in the console transcript"


def test_every_symptom_answers_from_the_cli_as_json(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("opsbot")
    with Sandbox("memory-leak") as sandbox:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
               "KUBECONFIG": str(sandbox.write_kubeconfig(tmp_path / "kubeconfig")),
               "METRICS_API_URL": sandbox.metrics_url,
               "OPSBOT_CONFIG": str(sandbox.write_ops_config(tmp_path / "ops.yaml"))}
        for symptom in SYMPTOMS:
            done = subprocess.run([str(exe), "diagnose", "business-logic", symptom.value, "--json"], env=env,
                                  capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)
            assert done.returncode == 0, f"{symptom.value}: {done.stderr[-500:]}"
            body = json.loads(done.stdout)
            assert {f["check"] for f in body["findings"]} == set(RUNBOOKS[symptom].checks), symptom.value
            if symptom is Symptom.MEMORY_LEAK:
                assert body["causes"][0]["key"] == "memory_leak"
