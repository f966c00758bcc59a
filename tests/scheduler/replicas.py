"""Three `opsbot run` processes sharing one PostgreSQL and one Redis, against the sandbox and the fake Slack.

What the processes did is read from their logs: the scheduler logs each run it made with its slot
("scheduled job NAME ran for slot N") and each change of leadership.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import yaml

from bot.sandbox.runner import Sandbox
from tests.e2e.botproc import BotProcess
from tests.fakes.signing import SIGNING_SECRET
from tests.fakes.slack_api import FakeSlack

OPS_CHANNEL = "C0OPS"
ELECTED = "this replica is now the scheduler leader"
RECHECK_S = 1.0
_RAN = re.compile(r"scheduled job (?P<job>[\w-]+) ran for slot (?P<slot>\d+)")


def write_config(sandbox: Sandbox, path: Path) -> Path:
    """The sandbox overlay plus a scheduler whose jobs all tick every second."""
    data = {
        **sandbox.ops_config(),
        "scheduler": {"prevention_interval_s": 1, "expiry_interval_s": 1, "revert_interval_s": 1,
                      "stuck_interval_s": 1, "leader_recheck_s": RECHECK_S},
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def replica_env(fake_slack: FakeSlack, sandbox: Sandbox, workdir: Path, database_url: str,
                redis_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-e2e-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "KUBECONFIG": str(sandbox.write_kubeconfig(workdir / "kubeconfig")),
        "METRICS_API_URL": sandbox.metrics_url,
        "K8S_NAMESPACE": "default",
        "OPS_CHANNEL": OPS_CHANNEL,
        "OPSBOT_CONFIG": str(write_config(sandbox, workdir / "ops.yaml")),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
    }


@contextmanager
def replicas(env: dict[str, str], count: int = 3) -> Iterator[list[BotProcess]]:
    with ExitStack() as stack:
        yield [stack.enter_context(BotProcess(env)) for _ in range(count)]


def runs(bot: BotProcess, job: str) -> list[int]:
    return [int(m["slot"]) for m in _RAN.finditer(bot.log()) if m["job"] == job]


def leaders(bots: list[BotProcess]) -> list[BotProcess]:
    """Replicas whose latest leadership line says they lead (a dead one keeps its last line)."""
    out = []
    for bot in bots:
        log = bot.log()
        if log.rfind(ELECTED) > log.rfind("is no longer the scheduler leader"):
            out.append(bot)
    return out


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, bots: list[BotProcess]) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            logs = "\n".join(f"--- replica {i} ---\n{b.log()[-3000:]}" for i, b in enumerate(bots))
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.1)
