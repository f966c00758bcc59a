"""The three ways to ask for a bundle, end to end against the sandbox's bad deploy with planted credentials:
`opsbot bundle` as a subprocess, `/diagnose bundle` and the button through `opsbot run` and the fake Slack
(files v2 upload into the thread), and the demo console."""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.demo import Console
from bot.render.bundle_blocks import BUNDLE_ACTION, BUNDLE_BLOCK
from bot.sandbox.planted_secrets import PLANTED
from bot.sandbox.runner import Sandbox
from bot.wiring import Deps
from tests.bundle.conftest import archive_members
from tests.e2e.botproc import BotProcess, opsbot_executable
from tests.e2e.conftest import bot_env
from tests.fakes.signing import (
    CHANNEL_ID,
    SIGNING_SECRET,
    block_actions_body,
    block_actions_payload,
    post_signed,
    slash_command_body,
)
from tests.fakes.slack_api import FakeSlack


def assert_complete_and_clean(archive: bytes) -> dict[str, Any]:
    """The 'done when' of the issue: version, revision history, grouped stack traces, request IDs, metrics and
    findings present; no planted credential anywhere in the archive."""
    members = archive_members(archive)
    for name, data in members.items():
        for kind, secret in PLANTED.items():
            assert secret.encode() not in data, f"{kind} survived in {name}"
    doc: dict[str, Any] = json.loads(members["bundle.json"])
    assert doc["service"]["version"] == "2.5.0"
    assert [r["revision"] for r in doc["changes"]["rollout_history"]][:2] == [7, 6]
    assert any(g["has_stack_trace"] and g["count"] > 1 for g in doc["errors"]["groups"])
    assert any("metrics" in r["sources"] and r["lines"] for r in doc["request_ids"])
    assert doc["metrics"]["errors"]["error_rate"] > 0.05 and doc["metrics"]["latency"] is not None
    assert doc["diagnosis"]["findings"]
    manifest = json.loads(members["manifest.json"])
    assert manifest["redacted_total"] > 0
    return doc


@pytest.fixture
def kubeconfig(leaky_sandbox: Sandbox, tmp_path: Path) -> Path:
    return tmp_path / "kubeconfig"


def test_cli_writes_the_bundle_and_prints_a_summary(leaky_sandbox: Sandbox, kubeconfig: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPSBOT_", "REDIS", "DATABASE"))}
    env.update(KUBECONFIG=str(kubeconfig), METRICS_API_URL=leaky_sandbox.metrics_url, LOG_LEVEL="WARNING")
    done = subprocess.run([opsbot_executable(), "bundle", "auth-service", "-o", str(out)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    [archive] = list(out.glob("support-bundle-auth-service-*.tar.gz"))
    assert f"wrote {archive}" in done.stdout
    assert "Support bundle for auth-service 2.5.0, revision 7" in done.stdout
    assert "secret(s) redacted" in done.stdout
    doc = assert_complete_and_clean(archive.read_bytes())
    assert json.loads(archive_members(archive.read_bytes())["manifest.json"])["created_by"].startswith("cli:")
    assert doc["service"]["name"] == "auth-service"

    unknown = subprocess.run([opsbot_executable(), "bundle", "auth-servce"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=60, check=False)
    assert unknown.returncode == 2 and "unknown service" in unknown.stderr
    assert not list(tmp_path.glob("support-bundle-*"))


@pytest.fixture
def leaky_bot(fake_slack: FakeSlack, leaky_sandbox: Sandbox, kubeconfig: Path) -> Iterator[BotProcess]:
    with BotProcess(bot_env(fake_slack, leaky_sandbox, kubeconfig)) as running:
        yield running


def _uploaded(fake_slack: FakeSlack, thread_ts: str) -> bytes:
    completed = fake_slack.wait_for("files.completeUploadExternal", lambda c: c.params.get("thread_ts") == thread_ts,
                                    timeout=90)[0]
    assert completed.ok
    [file_id] = [f["id"] for f in completed.params["files"]]
    uploaded = fake_slack.files()[file_id]
    assert uploaded.channel_id == CHANNEL_ID and uploaded.thread_ts == thread_ts
    assert uploaded.filename.startswith("support-bundle-auth-service-") and uploaded.filename.endswith(".tar.gz")
    assert uploaded.data is not None and len(uploaded.data) == uploaded.length
    assert uploaded.initial_comment and "Support bundle for auth-service 2.5.0" in uploaded.initial_comment
    for secret in PLANTED.values():
        assert secret not in uploaded.initial_comment
    return uploaded.data


def test_slash_command_uploads_the_bundle_into_its_thread(leaky_bot: BotProcess, fake_slack: FakeSlack) -> None:
    response = post_signed(leaky_bot.events_url, SIGNING_SECRET, slash_command_body("bundle auth-service"))
    assert response.status_code == 200 and "Compiling the support bundle" in response.text
    root = fake_slack.wait_for("chat.postMessage", lambda c: "thread_ts" not in c.params)[0]
    root_ts = root.response["ts"]
    assert "support bundle" in root.params["text"]
    archive = _uploaded(fake_slack, root_ts)
    assert_complete_and_clean(archive)
    # The v2 flow, in order: an upload URL, the bytes posted to it, then the completion into the thread.
    methods = [c.method for c in fake_slack.calls() if c.method in
               ("files.getUploadURLExternal", "upload", "files.completeUploadExternal")]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    thread = fake_slack.thread(CHANNEL_ID, root_ts)
    files = [f["name"] for m in thread for f in m.get("files", [])]
    assert len(files) == 1 and files[0].endswith(".tar.gz"), "the file is in the thread"

    bad = post_signed(leaky_bot.events_url, SIGNING_SECRET, slash_command_body("bundle auth-servce"))
    assert "Did you mean `auth-service`" in bad.text


def test_the_button_on_a_diagnosis_uploads_the_bundle_with_the_alerts_request_id(
    leaky_bot: BotProcess, fake_slack: FakeSlack
) -> None:
    post_signed(leaky_bot.events_url, SIGNING_SECRET, slash_command_body("auth-service errors"))
    root = fake_slack.wait_for("chat.postMessage", lambda c: "thread_ts" not in c.params)[0]
    root_ts = root.response["ts"]
    fake_slack.wait_for("chat.update", lambda c: c.params.get("ts") == root_ts, timeout=60)
    message = fake_slack.message(CHANNEL_ID, root_ts)
    assert message is not None
    [button] = [el for b in message["blocks"] if b.get("block_id") == BUNDLE_BLOCK for el in b["elements"]]
    assert button["text"]["text"] == "Compile support bundle"
    # The same button clicked in a thread an alert started (as triage threads are): the alert's request ID is read.
    alert = "HighErrorRate auth-service request_id=req-0badc0de"
    fake_slack.add_message(CHANNEL_ID, text=alert, ts="1718000000.000777")
    click = block_actions_payload(BUNDLE_ACTION, button["value"], message_ts="1718000000.000800",
                                  thread_ts="1718000000.000777",
                                  block_id=BUNDLE_BLOCK, button_text="Compile support bundle")
    assert post_signed(leaky_bot.events_url, SIGNING_SECRET, block_actions_body(click)).status_code == 200
    doc = assert_complete_and_clean(_uploaded(fake_slack, "1718000000.000777"))
    assert doc["request_ids"][0]["request_id"] == "req-0badc0de" and doc["request_ids"][0]["sources"] == ["alert"]
    assert doc["diagnosis"]["symptom"] == "high_error_rate"


async def test_demo_console_writes_the_bundle_and_prints_the_summary(leaky_deps: Deps, tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(leaky_deps, out, color=False)
    await console.handle("/diagnose auth-service errors")
    await console.handle(f"bundle auth-service -o {tmp_path}")
    await console.handle("bundle nowhere")
    text = out.getvalue()
    [archive] = list(tmp_path.glob("support-bundle-auth-service-*.tar.gz"))
    assert f"wrote {archive}" in text and "Support bundle for auth-service 2.5.0, revision 7" in text
    doc = assert_complete_and_clean(archive.read_bytes())
    assert doc["diagnosis"]["symptom"] == "high_error_rate", "the console's last diagnosis is the bundle's findings"
    assert "I don't know a service called `nowhere`" in text
    for secret in PLANTED.values():
        assert secret not in text
