"""Settings (environment and .env) and the ops config (YAML over the packaged default).

Both fail fast with a message that names the offending key, because a bot that starts half-configured
at 3 a.m. is worse than one that refuses to start.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.access_policy import AccessPolicy
from bot.config_sections import (
    DNS_LABEL,
    PERIOD,
    ActionLimits,
    ApprovalsConfig,
    BundleConfig,
    DnsConfig,
    SchedulerConfig,
    TriageConfig,
)
from bot.model import Target

# key=value[,key=value]: the only selector shape opsbot builds requests from; values are validated,
# never interpolated from chat text.
SELECTOR = re.compile(
    r"^[A-Za-z0-9]([-A-Za-z0-9_./]{0,251}[A-Za-z0-9])?=[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
    r"(,[A-Za-z0-9]([-A-Za-z0-9_./]{0,251}[A-Za-z0-9])?=[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)*$"
)
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
SLACK_GROUP = re.compile(r"^S[A-Z0-9]{2,}$")
ROLE_NAMES = ("viewer", "editor", "admin")


class ConfigError(Exception):
    """Invalid settings or ops config; the message names the key."""


class Settings(BaseSettings):
    """Process settings from the environment (and `.env`). Names are the stable ones in DESIGN.md."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    ops_channel: str | None = None
    opsbot_config: Path | None = None
    metrics_api_url: str = "http://localhost:8001"
    metrics_api_key: SecretStr | None = None
    kubeconfig: str | None = None
    k8s_namespace: str = "default"
    database_url: SecretStr | None = None
    redis_url: SecretStr | None = None
    target_database_url: SecretStr | None = None
    cache_redis_url: SecretStr | None = None
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    opsbot_dry_run: bool = False

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("slack_api_url", "metrics_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        # Bolt treats only xoxb- tokens as bot tokens; anything else silently breaks self-event filtering.
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("k8s_namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not DNS_LABEL.match(value):
            raise ValueError("must be a DNS-1123 label")
        return value

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def missing_for_run(self) -> list[str]:
        """Keys `opsbot run` needs that are unset (the demo needs none of them)."""
        missing = [] if self.slack_bot_token else ["SLACK_BOT_TOKEN"]
        if not self.socket_mode and not self.slack_signing_secret:
            missing.append("SLACK_SIGNING_SECRET")
        return missing


class Thresholds(BaseModel):
    """The guide's numbers; every one overridable globally or per service."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_p95_warn_ms: float = Field(150, gt=0)
    latency_p95_crit_ms: float = Field(200, gt=0)
    # Not from the guide (it names P95 lines only): a tail of twice / 2.5 times the P95 symptom line means
    # one request in a hundred waits long enough for users and callers' timeouts to notice.
    latency_p99_warn_ms: float = Field(300, gt=0)
    latency_p99_crit_ms: float = Field(500, gt=0)
    error_rate: float = Field(0.05, gt=0, lt=1)
    pool_warn: float = Field(0.85, gt=0, le=1)
    pool_crit: float = Field(0.95, gt=0, le=1)
    cpu: float = Field(0.80, gt=0, le=1)
    memory: float = Field(0.90, gt=0, le=1)  # of the container's memory limit: an OOM kill is near
    query_slow_s: float = Field(1.0, gt=0)
    query_long_s: float = Field(5.0, gt=0)
    replication_lag_s: float = Field(5.0, gt=0)
    token_lifetime_s: int = Field(3600, gt=0)
    circuit_breaker_recovery_s: int = Field(30, gt=0)
    request_timeout_s: int = Field(30, gt=0)
    rollout_suspect_window_s: int = Field(3600, gt=0)
    clock_skew_s: float = Field(30, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.latency_p95_warn_ms > self.latency_p95_crit_ms:
            raise ValueError("latency_p95_warn_ms must not exceed latency_p95_crit_ms")
        if self.latency_p99_warn_ms > self.latency_p99_crit_ms:
            raise ValueError("latency_p99_warn_ms must not exceed latency_p99_crit_ms")
        if self.pool_warn > self.pool_crit:
            raise ValueError("pool_warn must not exceed pool_crit")
        return self


class ServiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    namespace: str = "default"
    selector: str
    deployment: str
    dependencies: tuple[str, ...] = ()
    thresholds: dict[str, float] = Field(default_factory=dict)

    @field_validator("namespace", "deployment")
    @classmethod
    def _dns(cls, value: str) -> str:
        if not DNS_LABEL.match(value):
            raise ValueError("must be a DNS-1123 label")
        return value

    @field_validator("selector")
    @classmethod
    def _selector(cls, value: str) -> str:
        if not SELECTOR.match(value):
            raise ValueError("must be key=value[,key=value] with valid label keys and values")
        return value


class RoleMembers(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    users: tuple[str, ...] = ()
    usergroups: tuple[str, ...] = ()

    @field_validator("users")
    @classmethod
    def _users(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for user in value:
            if not SLACK_USER.match(user):
                raise ValueError(f"{user!r} is not a Slack user ID (U… or W…)")
        return value

    @field_validator("usergroups")
    @classmethod
    def _groups(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for group in value:
            if not SLACK_GROUP.match(group):
                raise ValueError(f"{group!r} is not a Slack user-group ID (S…)")
        return value


class DiagnosisConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    check_timeout_s: float = Field(8, gt=0, le=60)
    metrics_period: str = "15m"
    log_tail_lines: int = Field(1000, ge=1, le=10000)
    # memory_trend takes this many metrics.k8s.io samples, this far apart (squeezed into half the check timeout).
    memory_samples: int = Field(3, ge=1, le=10)
    memory_sample_interval_s: float = Field(1.0, ge=0, le=10)

    @field_validator("metrics_period")
    @classmethod
    def _period(cls, value: str) -> str:
        if not PERIOD.match(value):
            raise ValueError("must look like 15m, 1h or 24h")
        return value


class OpsConfig(BaseModel):
    """The ops config after merging the user's YAML over the packaged default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    guide_url: str = ""
    services: dict[str, ServiceConfig]
    thresholds: Thresholds = Thresholds()
    diagnosis: DiagnosisConfig = DiagnosisConfig()
    action_limits: ActionLimits = ActionLimits()
    roles: dict[Literal["viewer", "editor", "admin"], RoleMembers] = Field(default_factory=dict)
    # The services' own RBAC (who may read/write orders), used to explain 403s; not the approvers above.
    access_policy: AccessPolicy = Field(default_factory=AccessPolicy)
    approvals: ApprovalsConfig = ApprovalsConfig()
    dns: DnsConfig = DnsConfig()
    triage: TriageConfig = TriageConfig()
    bundle: BundleConfig = BundleConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    read_only: bool = False

    @field_validator("services")
    @classmethod
    def _service_names(cls, value: dict[str, ServiceConfig]) -> dict[str, ServiceConfig]:
        for name, svc in value.items():
            if not DNS_LABEL.match(name):
                raise ValueError(f"service name {name!r} must be a DNS-1123 label")
            unknown = [dep for dep in svc.dependencies if dep not in value]
            if unknown:
                raise ValueError(f"{name}.dependencies names unknown services {unknown}")
            bad = sorted(set(svc.thresholds) - set(Thresholds.model_fields))
            if bad:
                raise ValueError(f"{name}.thresholds has unknown keys {bad}")
        return value

    def target(self, service: str) -> Target:
        svc = self.services[service]
        return Target(service=service, namespace=svc.namespace, selector=svc.selector, deployment=svc.deployment)

    def thresholds_for(self, service: str) -> Thresholds:
        overrides = self.services[service].thresholds if service in self.services else {}
        return self.thresholds.model_copy(update=overrides) if overrides else self.thresholds

    def guide_link(self, section: str | None) -> str | None:
        if not section or not self.guide_url:
            return None
        anchor = re.sub(r"[^a-z0-9 -]", "", section.lower()).replace(" ", "-")
        return f"{self.guide_url}#{anchor}"


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge `override` into `base` key by key; mappings merge, everything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _packaged_default() -> dict[str, Any]:
    text = resources.files("bot").joinpath("ops_default.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def _format_error(source: str, error: ValidationError) -> str:
    lines = []
    for err in error.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        lines.append(f"{source}: {key}: {err['msg']}")
    return "\n".join(lines)


def load_ops_config(path: Path | None) -> OpsConfig:
    data = _packaged_default()
    source = "packaged ops config"
    if path is not None:
        source = str(path)
        try:
            user = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"OPSBOT_CONFIG: cannot read {path}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        if user is not None and not isinstance(user, dict):
            raise ConfigError(f"{path}: (top level): must be a mapping")
        data = deep_merge(data, user or {})
    try:
        return OpsConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(source, exc)) from exc


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(part) for part in err["loc"]).upper()
            lines.append(f"{key}: {err['msg']}")
        raise ConfigError("\n".join(lines)) from exc
