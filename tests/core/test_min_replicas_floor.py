"""The `scale` floor cannot be configured to 0: zero replicas is scale-to-zero's alone (admin, four eyes,
restore record), so a config allowing `scale replicas=0` is rejected when loaded and by check-config."""

from pathlib import Path

import pytest

from bot.config import ConfigError, load_ops_config
from tests.core.test_cli import _run


def test_loading_rejects_a_min_replicas_of_zero(tmp_path: Path) -> None:
    ops = tmp_path / "ops.yaml"
    ops.write_text("action_limits: {min_replicas: 0}\n")
    with pytest.raises(ConfigError) as info:
        load_ops_config(ops)
    message = str(info.value)
    assert "action_limits.min_replicas" in message and "scale-to-zero" in message


def test_a_min_replicas_of_one_loads(tmp_path: Path) -> None:
    ops = tmp_path / "ops.yaml"
    ops.write_text("action_limits: {min_replicas: 1}\n")
    assert load_ops_config(ops).action_limits.min_replicas == 1


def test_check_config_rejects_a_min_replicas_of_zero(tmp_path: Path) -> None:
    ops = tmp_path / "ops.yaml"
    ops.write_text("action_limits: {min_replicas: 0}\n")
    result = _run(["check-config"], env={"OPSBOT_CONFIG": str(ops), "SLACK_BOT_TOKEN": "xoxb-1",
                                         "SLACK_SIGNING_SECRET": "s"})
    assert result.returncode != 0
    assert "action_limits.min_replicas" in result.stderr and "scale-to-zero" in result.stderr
