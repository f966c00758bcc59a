"""Scenario data: the packaged scenarios load, bad data is rejected naming the key, logs follow profiles."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pytest
import yaml

from bot.sandbox.logs import PodIdentity, RequestIds, generate_pod_log
from bot.sandbox.scenario import ScenarioError, list_scenarios, load_scenario, parse_scenario


def _raw(name: str) -> dict[str, Any]:
    text = (resources.files("bot.sandbox") / "scenarios" / f"{name}.yaml").read_text()
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def test_packaged_scenarios_are_listed_with_descriptions() -> None:
    scenarios = dict(list_scenarios())
    assert {"bad-deploy", "healthy"} <= set(scenarios)
    assert "auth-service" in scenarios["bad-deploy"]


def test_bad_deploy_tells_the_story() -> None:
    scenario = load_scenario("bad-deploy")
    assert [s.name for s in scenario.services] == ["api-gateway", "auth-service", "data-processor",
                                                   "business-logic"]
    auth = scenario.service("auth-service")
    assert auth is not None
    assert [(r.revision, r.version, r.rolled_out_ago) for r in auth.revisions[-2:]] == [
        (6, "2.4.1", "9d"), (7, "2.5.0", "20m")]
    assert auth.image_of(auth.live) == "registry.example.com/auth-service:2.5.0"
    assert scenario.profiles[auth.live.profile].error_rate == pytest.approx(0.125)


def test_unknown_key_is_rejected_naming_it() -> None:
    data = _raw("bad-deploy")
    data["services"][1]["replica"] = 3
    with pytest.raises(ScenarioError, match=r"services\.1\.replica: Extra inputs are not permitted"):
        parse_scenario(data)


def test_unknown_profile_reference_names_the_revision() -> None:
    data = _raw("bad-deploy")
    data["services"][1]["revisions"][-1]["profile"] = "auth-9.9"
    expected = r"services\.1\.revisions\.2\.profile: unknown profile 'auth-9.9'"
    with pytest.raises(ScenarioError, match=expected):
        parse_scenario(data)


def test_shares_must_add_up() -> None:
    data = _raw("bad-deploy")
    data["profiles"]["auth-2.5.0"]["status_split"] = {"500": 0.5, "401": 0.2}
    with pytest.raises(ScenarioError, match=r"profiles\.auth-2\.5\.0\.status_split.*add up to 1\.0"):
        parse_scenario(data)


def test_bad_duration_and_status_are_named() -> None:
    data = _raw("bad-deploy")
    broken = copy.deepcopy(data)
    broken["services"][0]["revisions"][0]["rolled_out_ago"] = "yesterday"
    with pytest.raises(ScenarioError, match=r"services\.0\.revisions\.0\.rolled_out_ago"):
        parse_scenario(broken)
    data["profiles"]["api-gateway"]["logs"]["errors"]["200"] = [{"text": "fine"}]
    with pytest.raises(ScenarioError, match=r"profiles\.api-gateway\.logs\.errors"):
        parse_scenario(data)


def test_pod_states_are_expressible_as_data() -> None:
    data = _raw("bad-deploy")
    data["profiles"]["data-processor"]["pod_states"] = [
        {"ready": False, "restart_count": 7, "waiting_reason": "CrashLoopBackOff",
         "last_terminated": {"reason": "OOMKilled", "exit_code": 137, "finished_ago": "2m"}},
    ]
    scenario = parse_scenario(data)
    state = scenario.profiles["data-processor"].pod_states[0]
    assert state.last_terminated is not None and state.last_terminated.exit_code == 137


def _auth_log(version: str, profile: str, pod: str, ids: RequestIds, now: datetime) -> list[str]:
    scenario = load_scenario("bad-deploy")
    who = PodIdentity("auth-service", version, pod, f"registry.example.com/auth-service:{version}")
    created = now - timedelta(minutes=20)
    log = generate_pod_log(who, scenario.profiles[profile], created=created, now=now, ids=ids)
    return log.lines


def test_logs_are_deterministic_unique_and_match_the_error_rate() -> None:
    now = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)
    lines = _auth_log("2.5.0", "auth-2.5.0", "auth-service-abc-x1", RequestIds(), now)
    assert lines == _auth_log("2.5.0", "auth-2.5.0", "auth-service-abc-x1", RequestIds(), now)
    assert len(lines) >= 1500
    requests = [line for line in lines if "request_id=req-" in line]
    ids = [line.split("request_id=")[1].split()[0] for line in requests]
    assert len(ids) == len(set(ids))
    failures = [line for line in requests if " ERROR " in line or " WARN " in line]
    assert 0.09 <= len(failures) / len(requests) <= 0.16
    assert "Traceback (most recent call last):" in lines
    assert any("401 Invalid JWT token: signature verification failed" in line for line in lines)
    assert not any(line.startswith(" ") for line in lines[:5])  # startup lines first


def test_healthy_profile_logs_few_errors() -> None:
    now = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)
    lines = _auth_log("2.4.1", "auth-2.4", "auth-service-def-y2", RequestIds(), now)
    requests = [line for line in lines if "request_id=req-" in line]
    errors = [line for line in requests if " ERROR " in line]
    assert len(errors) / len(requests) < 0.01
