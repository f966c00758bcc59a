"""The ops config's sections for the bot's own machinery: cluster DNS, action limits, approvals, triage,
the support bundle and the scheduler. Each forbids unknown keys, so a typo names itself at start-up."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# A duration as the ops config writes it: 90s, 15m, 1h, 1d.
PERIOD = re.compile(r"^\d+[smhd]$")


class DnsConfig(BaseModel):
    """How the bot resolves cluster names for the DNS checks. No nameservers: the system resolver's, as a
    pod's resolv.conf gives them; the sandbox points this at its own DNS server."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nameservers: tuple[str, ...] = ()
    port: int = Field(53, ge=1, le=65535)
    cluster_domain: str = "cluster.local"
    timeout_s: float = Field(2.0, gt=0, le=30)  # per name, search-list expansion included

    @field_validator("nameservers")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for server in value:
            try:
                ipaddress.ip_address(server)
            except ValueError:
                raise ValueError(f"{server!r} is not an IP address") from None
        return value

    @field_validator("cluster_domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        if not all(DNS_LABEL.match(label) for label in value.split(".")):
            raise ValueError("must be a DNS name such as cluster.local")
        return value


class ActionLimits(BaseModel):
    """Bounds on what a remediation may do, whoever approves it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_replicas: int = 1  # `scale` never goes below this; scale-to-zero is its own action
    max_replicas: int = Field(20, ge=1, le=1000)  # the guide's biggest emergency scale-up
    max_memory: str = "8Gi"  # memory-bump ceiling
    default_minutes: int = Field(30, ge=1)  # debug-logging / memory-bump revert after this long
    max_debug_minutes: int = Field(240, ge=1)
    max_bump_minutes: int = Field(240, ge=1)
    idle_older_than: str = "1h"  # terminate-idle default: the guide's "idle connections older than 1 hour"
    min_idle_older_than: str = "5m"  # below this, terminate-idle would cut connections merely between requests
    verify_delay_s: float = Field(60, ge=0)  # after the rollout settles, wait this long before re-checking
    maintenance_manifest: str = "manifests/maintenance-mode.yaml"

    @field_validator("min_replicas")
    @classmethod
    def _floor(cls, value: int) -> int:
        # With a floor of 0 an editor's plain `scale replicas=0` would stop the service without the admin
        # role, the second approval and the record of replicas to restore that scale-to-zero requires.
        if value < 1:
            raise ValueError("must be at least 1: scaling to 0 replicas is the scale-to-zero action's alone")
        return value

    @field_validator("idle_older_than", "min_idle_older_than")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not PERIOD.match(value):
            raise ValueError("must look like 90s, 5m or 1h")
        return value

    @field_validator("max_memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not re.match(r"^[1-9][0-9]*(Ki|Mi|Gi|Ti)?$", value):
            raise ValueError("must be a memory quantity like 8Gi or 4096Mi")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> ActionLimits:
        if self.min_replicas > self.max_replicas:
            raise ValueError("min_replicas must not exceed max_replicas")
        return self


# The stable action names (DESIGN.md); per-action approval overrides must name one of them.
ACTION_NAMES = (
    "scale", "restart", "rollback", "delete-pod", "flush-cache", "terminate-idle", "cancel-query",
    "debug-logging", "memory-bump", "scale-to-zero", "restore-replicas", "maintenance",
)


class ActionApproval(BaseModel):
    """Per-action override of the action's own default: who may approve it, whether a second person must."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["editor", "admin"] | None = None  # viewers only diagnose, so no action can be lowered to them
    four_eyes: bool | None = None


class ApprovalsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ttl_minutes: int = Field(15, ge=1, le=24 * 60)  # an unanswered proposal expires after this long
    lock_ttl_s: float = Field(300, gt=0, le=3600)  # longest an execution may hold its service's action lock
    actions: dict[str, ActionApproval] = Field(default_factory=dict)

    @field_validator("actions")
    @classmethod
    def _known_actions(cls, value: dict[str, ActionApproval]) -> dict[str, ActionApproval]:
        unknown = sorted(set(value) - set(ACTION_NAMES))
        if unknown:
            raise ValueError(f"unknown actions {unknown}; known: {', '.join(ACTION_NAMES)}")
        return value


class TriageConfig(BaseModel):
    """Alert triage in the channel: dedup window, which bots may trigger it, snooze choices, storm limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dedup_window_s: float = Field(3600, gt=0, le=7 * 24 * 3600)  # a repeat within this adds a counter line
    allowed_bots: tuple[str, ...] | None = None  # bot/app IDs that may trigger triage; None: any bot (+ people)
    snooze_choices_min: tuple[int, ...] = Field((30, 60, 240, 1440), min_length=1, max_length=5)
    channel_posts_per_s: float = Field(1.0, gt=0, le=10)  # Slack's ~1 message/second/channel
    storm_alerts_per_min: int = Field(10, ge=1)  # more alerts than this per channel-minute: a storm
    max_queued_posts: int = Field(30, ge=1, le=1000)  # per channel; new alerts beyond it go to the summary

    @field_validator("snooze_choices_min")
    @classmethod
    def _positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(m <= 0 or m > 7 * 24 * 60 for m in value):
            raise ValueError("snooze choices are minutes between 1 and 10080")
        return value


class BundleConfig(BaseModel):
    """The support bundle: how far back it looks and how big it may get (oldest log lines go first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_bytes: int = Field(5_000_000, ge=50_000, le=200_000_000)  # summary.md + bundle.json, uncompressed
    window: str = "1h"
    log_tail_lines: int = Field(5000, ge=1, le=100_000)  # per container (current and previous instance)
    timeout_s: float = Field(20, gt=0, le=300)  # per source; a slower one is recorded as unavailable

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        if not PERIOD.match(value):
            raise ValueError("must look like 30m, 1h or 1d")
        return value


class SchedulerConfig(BaseModel):
    """Scheduled work (only the leader replica runs it): how often each job runs and how leadership is kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    prevention_interval_s: float = Field(300, ge=1, le=24 * 3600)  # the guide's "every few minutes" checks
    expiry_interval_s: float = Field(30, ge=1, le=3600)  # pending approvals past their TTL -> expired
    revert_interval_s: float = Field(15, ge=1, le=3600)  # timed changes revert at most this long after their time
    stuck_interval_s: float = Field(60, ge=1, le=3600)  # requests left executing by a replica that died
    leader_recheck_s: float = Field(5, gt=0, le=60)  # a leader that lost its lock stops within this long
