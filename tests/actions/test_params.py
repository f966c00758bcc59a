"""Param parsing and the ops config's action limits: clear refusals naming what was wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.actions import ACTIONS
from bot.actions.base import ActionError, Risk
from bot.actions.params import duration_s, memory_bytes, quantity_bytes
from bot.config import ConfigError, load_ops_config


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("1h", 3600), ("2d", 172800)])
def test_durations(text: str, seconds: int) -> None:
    assert duration_s(text) == seconds


@pytest.mark.parametrize("text", ["1 hour", "-5m", "1.5h", "", "h"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ActionError, match="not a duration"):
        duration_s(text)


def test_memory_sizes() -> None:
    assert memory_bytes("4Gi") == 4 * 1024**3
    assert memory_bytes("512Mi") == 512 * 1024**2
    assert quantity_bytes("1500M") == 1.5e9  # what the API server may hold for a limit set by someone else
    with pytest.raises(ActionError):
        memory_bytes("4GB")


def test_action_limits_are_validated_with_the_key_named(tmp_path: Path) -> None:
    bad = tmp_path / "ops.yaml"
    bad.write_text("action_limits: {min_replicas: 5, max_replicas: 3}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="action_limits"):
        load_ops_config(bad)
    bad.write_text("action_limits: {max_memory: lots}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"action_limits\.max_memory"):
        load_ops_config(bad)
    good = tmp_path / "good.yaml"
    good.write_text("action_limits: {max_replicas: 12}\n", encoding="utf-8")
    limits = load_ops_config(good).action_limits
    assert limits.max_replicas == 12 and limits.min_replicas == 1  # the rest stays the packaged default


def test_only_high_risk_actions_need_a_second_person() -> None:
    four_eyes = {name for name, action in ACTIONS.items() if action.risk.needs_second_person}
    assert four_eyes == {"flush-cache", "terminate-idle", "scale-to-zero", "maintenance"}
    assert not Risk.MEDIUM.needs_second_person


def test_cancel_query_pid_must_be_a_number() -> None:
    config = load_ops_config(None)
    with pytest.raises(ActionError, match="pid must be a whole number"):
        ACTIONS["cancel-query"].parse({"pid": "1; SELECT 1"}, config)
