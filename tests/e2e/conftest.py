"""End-to-end fixtures: the sandbox platform, the fake Slack, and `opsbot run` wired to both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.runner import Sandbox
from tests.e2e.botproc import BotProcess
from tests.fakes.signing import SIGNING_SECRET
from tests.fakes.slack_api import FakeSlack


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox("bad-deploy") as running:
        running.write_kubeconfig(tmp_path / "kubeconfig")
        yield running


def bot_env(fake_slack: FakeSlack, sandbox: Sandbox, kubeconfig: Path, **extra: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-e2e-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "KUBECONFIG": str(kubeconfig),
        "METRICS_API_URL": sandbox.metrics_url,
        "K8S_NAMESPACE": "default",
        **extra,
    }


@pytest.fixture
def bot(fake_slack: FakeSlack, sandbox: Sandbox, tmp_path: Path, redis_client_url: str) -> Iterator[BotProcess]:
    env = bot_env(fake_slack, sandbox, tmp_path / "kubeconfig", REDIS_URL=redis_client_url)
    with BotProcess(env) as running:
        yield running
