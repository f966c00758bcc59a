"""Every message of the corpus through triage, and through `opsbot triage` as a user would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from bot.config import load_ops_config
from bot.triage import triage_event

CORPUS: dict[str, list[dict[str, Any]]] = yaml.safe_load(
    (Path(__file__).parent / "corpus.yaml").read_text(encoding="utf-8")
)
CASES = [(group, case) for group, cases in CORPUS.items() for case in cases]
CONFIG = load_ops_config(None)


@pytest.mark.parametrize(("group", "case"), CASES, ids=[f"{g}: {c['name']}" for g, c in CASES])
def test_corpus_message(group: str, case: dict[str, Any]) -> None:
    result = triage_event(case["event"], CONFIG, own_bot_ids=set(case.get("own_bot_ids", []))).to_json()
    wanted = case["expect"]
    got = {key: result[key] for key in wanted}
    assert got == wanted, f"{group}: {case['name']}: {result['reason']}"


def test_every_source_and_noise_is_covered() -> None:
    assert {"alertmanager", "grafana", "datadog", "pagerduty", "opsgenie", "sentry", "newrelic", "cloudwatch",
            "kubernetes", "humans", "noise"} <= set(CORPUS)
    assert sum(c["expect"]["triage"] is False for _, c in CASES) >= 10


def test_the_cli_reads_envelopes_and_bare_events(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    envelope = {"type": "event_callback", "event_id": "Ev1", "event": CORPUS["datadog"][0]["event"]}
    path = tmp_path / "envelope.json"
    path.write_text(json.dumps(envelope), encoding="utf-8")
    assert main(["triage", "--json", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["service"], out["symptom"], out["status"]) == ("auth-service", "high_error_rate", "firing")
    assert set(out) >= {"triage", "service", "services", "symptom", "status", "severity", "request_ids"}


def test_the_installed_console_script_reads_stdin() -> None:
    exe = Path(sys.executable).with_name("opsbot")
    event = CORPUS["humans"][0]["event"]
    done = subprocess.run([str(exe), "triage", "--json", "-"], input=json.dumps(event), capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["symptom"] == "service_unavailable"


@pytest.mark.parametrize("bad", ["not json", "[1, 2]", ""])
def test_bad_input_exits_2_naming_the_problem(bad: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_text(bad, encoding="utf-8")
    assert main(["triage", str(path)]) == 2
    assert "opsbot triage:" in capsys.readouterr().err
