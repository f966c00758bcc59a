"""Observability: /metrics figures after real work, JSON logs with a correlation ID per Slack request, and
no secret from settings in any log line.

The end-to-end test runs `opsbot run` (a subprocess, stderr not a terminal, so JSON logs) against the
sandbox and the fake Slack, with a secret in every secret setting, and LOG_LEVEL=DEBUG.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Settings
from bot.logging_setup import MASK, choose_format, configure, correlated, correlation_id, settings_secrets
from bot.sandbox.runner import Sandbox
from tests.e2e.botproc import BotProcess
from tests.e2e.conftest import bot_env
from tests.fakes.signing import SIGNING_SECRET, post_signed, slash_command_body
from tests.fakes.slack_api import FakeSlack

BOT_TOKEN = "xoxb-1111-2222-obsSecretToken"
APP_TOKEN = "xapp-1-A111-obsAppLevelSecret"
METRICS_KEY = "metrics-key-obs-5f1e9c"
DB_PASSWORD = "pg-Pa55word-obs-77"
CACHE_PASSWORD = "cache-Pa55-obs-42"


def _settings(**extra: str) -> Settings:
    return Settings(
        _env_file=None, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_app_token=APP_TOKEN,
        metrics_api_key=METRICS_KEY, database_url=f"postgresql://opsbot:{DB_PASSWORD}@db.example:5432/opsbot",
        redis_url="redis://:r3dis-obs-secret@redis.example:6379/0", cache_redis_url=f"redis://:{CACHE_PASSWORD}@c:6379",
        target_database_url="postgresql://monitor:target-obs-pw-9@pg.example/app", **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The root logger configured like `opsbot` does, writing into a buffer; restored afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    buffer = io.StringIO()
    handler = configure("DEBUG", settings_secrets(_settings()), fmt="json")
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        for current in list(root.handlers):
            root.removeHandler(current)
        for old in saved_handlers:
            root.addHandler(old)
        root.setLevel(saved_level)


def _lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line]


def _secret_values() -> list[str]:
    return [*settings_secrets(_settings()), DB_PASSWORD, CACHE_PASSWORD]


def test_json_lines_carry_the_correlation_id_of_the_work_they_belong_to(captured: io.StringIO) -> None:
    log = logging.getLogger("opsbot.test")
    log.info("before")
    with correlated("command", "13345224609.738474920.8088930838d88f008e0") as cid:
        log.info("diagnosing %s", "auth-service")
        with correlated("action") as inner:
            log.warning("executing")
        log.info("after the action")
    log.info("outside")
    lines = _lines(captured)
    assert [line["message"] for line in lines] == ["before", "diagnosing auth-service", "executing",
                                                   "after the action", "outside"]
    assert [line.get("correlation_id") for line in lines] == [None, cid, inner, cid, None]
    assert cid == "command:13345224609.738474920.8088930838d88f008e0"
    assert re.fullmatch(r"action:[0-9a-f]{12}", inner)
    assert all(line["level"] in ("INFO", "WARNING") and line["logger"] == "opsbot.test" for line in lines)
    assert correlation_id.get() is None


async def test_correlation_id_follows_work_into_spawned_tasks(captured: io.StringIO) -> None:
    import asyncio

    log = logging.getLogger("opsbot.test")

    async def later() -> None:
        await asyncio.sleep(0)
        log.info("in the task")

    with correlated("event", "Ev0123") as cid:
        task = asyncio.get_running_loop().create_task(later())
    await task
    assert _lines(captured)[-1] == {**_lines(captured)[-1], "message": "in the task", "correlation_id": cid}


def test_no_secret_from_settings_reaches_the_log(captured: io.StringIO) -> None:
    log = logging.getLogger("opsbot.test")
    settings = _settings()
    for secret in _secret_values():
        log.info("connecting with %s", secret)
        log.error("refused: " + secret)  # a message built before logging is the risky case
    log.info("settings: %r", settings.model_dump())  # SecretStr prints masked already; plain values must not
    log.warning("dsn=%s", settings.database_url.get_secret_value() if settings.database_url else "")
    try:
        raise RuntimeError(f"could not connect to postgresql://opsbot:{DB_PASSWORD}@db.example/opsbot")
    except RuntimeError:
        log.exception("connection failed with token %s", BOT_TOKEN)
    output = captured.getvalue()
    assert output.count(MASK) >= len(_secret_values())
    leaked = [secret for secret in _secret_values() if secret in output]
    assert not leaked, f"secrets in the log: {leaked}"
    last = _lines(captured)[-1]
    assert "RuntimeError" in str(last["exception"]) and "postgresql://opsbot:" in str(last["exception"])


def test_credentials_shaped_values_are_masked_even_when_not_configured(captured: io.StringIO) -> None:
    logging.getLogger("opsbot.test").info(
        "pasted xoxp-999-888-someUserToken and Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc.def, "
        "redis://:hunter2-elsewhere@cache:6379/1, password=swordfish1")
    message = str(_lines(captured)[-1]["message"])
    for secret in ("someUserToken", "eyJhbGciOiJIUzI1NiJ9", "hunter2-elsewhere", "swordfish1"):
        assert secret not in message
    assert "redis://:" in message and "@cache:6379/1" in message  # the rest stays readable


def test_text_at_a_terminal_json_otherwise() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert choose_format(Tty()) == "text"
    assert choose_format(io.StringIO()) == "json"


# -- end to end ------------------------------------------------------------------------------------

@pytest.fixture
def observed_bot(fake_slack: FakeSlack, tmp_path: Path, redis_client_url: str) -> Iterator[BotProcess]:
    with Sandbox("bad-deploy") as sandbox:
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        env = bot_env(fake_slack, sandbox, kubeconfig, REDIS_URL=redis_client_url, LOG_LEVEL="DEBUG",
                      SLACK_BOT_TOKEN=BOT_TOKEN, METRICS_API_KEY=METRICS_KEY,
                      TARGET_DATABASE_URL=f"postgresql://monitor:{DB_PASSWORD}@127.0.0.1:9/app",
                      CACHE_REDIS_URL=f"redis://:{CACHE_PASSWORD}@127.0.0.1:9/0")
        with BotProcess(env) as running:
            yield running


def _samples(bot: BotProcess) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = httpx.get(f"{bot.url}/metrics", timeout=5).text
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls)


def test_a_diagnosis_shows_in_metrics_and_in_correlated_json_logs(observed_bot: BotProcess,
                                                                  fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    trigger = "13345224609.738474920.obsTrigger"
    response = post_signed(observed_bot.events_url, SIGNING_SECRET,
                           slash_command_body("auth-service errors", trigger_id=trigger))
    assert response.status_code == 200
    root = fake_slack.wait_for("chat.postMessage", lambda c: "thread_ts" not in c.params and c.ok, timeout=30)[0]
    fake_slack.wait_for("chat.update", lambda c: c.params.get("ts") == root.response["ts"], timeout=30)

    samples = _samples(observed_bot)
    assert _value(samples, "opsbot_commands_total", command="/diagnose", outcome="accepted") == 1
    assert _value(samples, "opsbot_diagnoses_total", symptom="high_error_rate") == 1
    assert _value(samples, "opsbot_check_seconds_count", symptom="high_error_rate") >= 3
    assert _value(samples, "opsbot_check_seconds_sum", symptom="high_error_rate") > 0
    assert _value(samples, "opsbot_slack_api_rate_limited_total", method="chat.postMessage") == 1
    assert _value(samples, "opsbot_slack_api_calls_total", method="chat.postMessage", status="429") == 1
    assert _value(samples, "opsbot_slack_api_calls_total", method="chat.postMessage", status="200") >= 2
    assert _value(samples, "opsbot_slack_api_calls_total", method="chat.update", status="200") >= 1
    names = {name for name, _ in samples}
    for family in ("opsbot_scheduler_leader", "opsbot_queue_depth", "opsbot_actions_total",
                   "opsbot_alerts_triaged_total"):
        assert any(name.startswith(family) for name in names) or family in _families(observed_bot), family

    log = observed_bot.log()
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert entries and len(entries) == len([line for line in log.splitlines() if line.strip()]), "JSON lines only"
    mine = [e for e in entries if e.get("correlation_id") == f"command:{trigger}"]
    assert any(e["message"] == "slack command: /diagnose" for e in mine)
    leaked = [secret for secret in (BOT_TOKEN, METRICS_KEY, DB_PASSWORD, CACHE_PASSWORD, SIGNING_SECRET)
              if secret in log]
    assert not leaked, f"secrets in the bot's log: {leaked}"


def _families(bot: BotProcess) -> set[str]:
    """Metric families declared (HELP lines), with or without samples yet."""
    text = httpx.get(f"{bot.url}/metrics", timeout=5).text
    return {line.split()[2] for line in text.splitlines() if line.startswith("# HELP")}
