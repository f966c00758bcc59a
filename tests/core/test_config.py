"""Settings and ops config: defaults from the guide, deep merge, errors that name the key."""

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, deep_merge, load_ops_config


def test_packaged_default_describes_the_guides_platform() -> None:
    config = load_ops_config(None)
    assert sorted(config.services) == ["api-gateway", "auth-service", "business-logic", "data-processor"]
    target = config.target("auth-service")
    assert (target.namespace, target.selector, target.deployment) == ("default", "app=auth-service", "auth-service")
    t = config.thresholds
    assert (t.latency_p95_warn_ms, t.latency_p95_crit_ms, t.error_rate) == (150, 200, 0.05)
    assert (t.pool_warn, t.pool_crit, t.cpu, t.query_slow_s, t.query_long_s) == (0.85, 0.95, 0.80, 1.0, 5.0)
    assert (t.replication_lag_s, t.token_lifetime_s, t.circuit_breaker_recovery_s) == (5.0, 3600, 30)
    assert set(config.roles) == {"viewer", "editor", "admin"}


def test_a_file_with_only_roles_is_valid_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text("roles:\n  editor:\n    users: [U0ALICE01]\n    usergroups: [S0ONCALL1]\n")
    config = load_ops_config(path)
    assert config.roles["editor"].users == ("U0ALICE01",)
    assert config.roles["admin"].users == ()
    assert "auth-service" in config.services


def test_per_service_threshold_override(tmp_path: Path) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text("services:\n  auth-service:\n    thresholds: {error_rate: 0.02}\n")
    config = load_ops_config(path)
    assert config.thresholds_for("auth-service").error_rate == 0.02
    assert config.thresholds_for("api-gateway").error_rate == 0.05


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ("thresholds: {error_rate: 7}", "thresholds.error_rate"),
        ("thresholds: {latency_p95_warn_ms: 500}", "thresholds"),
        ("thresholds: {error_rat: 0.1}", "thresholds.error_rat"),
        ("services: {auth-service: {selector: 'app=auth-service; rm -rf /'}}", "services.auth-service.selector"),
        ("services: {Bad_Name: {selector: 'app=x', deployment: x}}", "services"),
        ("roles: {editor: {users: [alice]}}", "roles.editor.users"),
        ("roles: {superuser: {users: []}}", "roles.superuser"),
        ("diagnosis: {metrics_period: soon}", "diagnosis.metrics_period"),
        ("read_only: maybe", "read_only"),
    ],
)
def test_invalid_config_names_the_key(tmp_path: Path, yaml_text: str, key: str) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as info:
        load_ops_config(path)
    assert f": {key}" in str(info.value)


def test_unreadable_and_non_mapping_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="OPSBOT_CONFIG"):
        load_ops_config(tmp_path / "missing.yaml")
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_ops_config(path)


def test_deep_merge_merges_mappings_and_replaces_the_rest() -> None:
    merged = deep_merge({"a": {"b": 1, "c": [1]}, "d": 1}, {"a": {"c": [2]}, "e": 2})
    assert merged == {"a": {"b": 1, "c": [2]}, "d": 1, "e": 2}


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("OPSBOT_DRY_RUN", "1")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.port == 8080 and settings.log_level == "DEBUG" and settings.opsbot_dry_run
    assert settings.missing_for_run() == ["SLACK_SIGNING_SECRET"]
    assert "xoxb-1" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [("SLACK_BOT_TOKEN", "xoxp-user"), ("SLACK_APP_TOKEN", "xoxb-1"), ("PORT", "70000"), ("LOG_LEVEL", "loud"),
     ("METRICS_API_URL", "localhost:8001"), ("K8S_NAMESPACE", "Bad_NS")],
)
def test_invalid_settings_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    from bot.config import load_settings

    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings()
