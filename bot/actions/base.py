"""What a remediation is: typed params, a risk level, a preview, an idempotent execute, and how to verify.

Frozen values and a Protocol only: no I/O here and nothing about Slack. The approvals layer drives an
action as: `parse` the raw params -> `preview` (shown to the approver; its `state` is what the proposal was
made on) -> after approval `fingerprint` (re-read; any key differing from `preview.state` means the target
changed, so refuse and re-propose) -> `execute` -> wait for `settled` -> re-run `verify_symptom`'s runbook
(or, for an action that `ChecksItself`, its own `check`).

`preview`, `fingerprint` and `execute` raise ActionError for a refusal (message for the user) and let
SourceError through when the platform could not be reached. `execute` re-reads what it needs and is safe to
retry: a second execute of the same params leaves the same end state. Rollback with the default "previous"
revision is the exception that needs the fingerprint check: once undone, "previous" names another revision,
and the changed `revision` key is what stops a second undo.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol, TypeVar, runtime_checkable

from bot.clock import utc_now
from bot.config import OpsConfig
from bot.model import Fact, Finding, Proposal, Status, Symptom, Target
from bot.sources.cache_admin import CacheAdmin
from bot.sources.kube_writes import KubeWriter
from bot.sources.postgres_admin import PostgresAdmin

Role = Literal["editor", "admin"]
# Param that turns debug-logging / memory-bump into their revert: back to the value recorded in the
# deployment's annotation when the change was made, so any replica can run it from the cluster alone.
REVERT_PARAM = "revert"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def needs_second_person(self) -> bool:
        """High risk needs a second approver (four eyes): the requester alone may not approve it."""
        return self is Risk.HIGH


class ActionError(Exception):
    """Bad params or a refusal; `str(exc)` is a message fit to show the user as is."""


@dataclass(frozen=True)
class Preview:
    """What exactly executing would change, computed without changing anything.

    `state` is the fingerprint of what the proposal was made on (e.g. deployment generation and revision,
    the pod set, pid + query_start); `fingerprint()` returns the same keys re-read. `blocked` says why the
    action cannot run now (e.g. nothing to restore, no database configured); a blocked preview must not
    be executed. `pinned` are params the proposal stores next to the requested ones, so that executing
    touches exactly what was previewed (e.g. the pids listed, the query_start of the query shown).
    `unchanged` says, when executing would change nothing, why (already 3 replicas, no idle connection):
    such a preview is shown but not offered for approval."""

    summary: str
    changes: tuple[str, ...] = ()
    state: Mapping[str, str] = field(default_factory=dict)
    blocked: str | None = None
    pinned: Mapping[str, str] = field(default_factory=dict)
    unchanged: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What executing did. `revert` is the proposal that undoes it, where one exists; `reverts_at` is set
    for timed changes (debug logging, memory bump), whose revert the approvals layer schedules."""

    ok: bool
    summary: str
    detail: tuple[str, ...] = ()
    revert: Proposal | None = None
    reverts_at: datetime | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class ActionEnv:
    """Everything an action may touch. `postgres`/`cache` are None when the platform database or cache
    is not configured; actions needing them then preview as blocked. With `dry_run` (OPSBOT_DRY_RUN)
    execute changes nothing and says so."""

    kube: KubeWriter
    config: OpsConfig
    postgres: PostgresAdmin | None = None
    cache: CacheAdmin | None = None
    dry_run: bool = False
    clock: Callable[[], datetime] = utc_now


P = TypeVar("P")


class Action(Protocol[P]):
    """One remediation. `P` is its parsed, validated params type."""

    name: str
    title: str
    risk: Risk
    default_role: Role
    verify_symptom: Symptom | None

    def parse(self, raw: Mapping[str, str], config: OpsConfig) -> P:
        """Validate and bound raw `key=value` params; raises ActionError with a clear message."""
        ...

    async def preview(self, env: ActionEnv, target: Target, params: P) -> Preview: ...

    async def fingerprint(self, env: ActionEnv, target: Target, params: P) -> Mapping[str, str]:
        """The same keys as `preview().state`, re-read right before executing."""
        ...

    async def execute(self, env: ActionEnv, target: Target, params: P) -> Outcome:
        """Idempotent: executing twice leaves the same end state. Honors `env.dry_run`."""
        ...

    async def settled(self, env: ActionEnv, target: Target, params: P) -> bool:
        """True once the change has taken effect (rollout complete); True at once for DB/cache actions."""
        ...


P_contra = TypeVar("P_contra", contravariant=True)


@runtime_checkable
class ChecksItself(Protocol[P_contra]):
    """Optional, next to `Action`: an action with no symptom to re-measure (scale-to-zero, restore-replicas,
    maintenance, debug-logging) measures whether its own change took hold instead. Verification calls `check` before
    executing and again after settling, and compares the two findings as it compares a runbook's symptom
    check: status OK means the state the action is meant to reach, WARN not (yet); the first fact is the key
    number (e.g. pods left), its threshold the wanted value. Actions without it are verified by a runbook."""

    async def check(self, env: ActionEnv, target: Target, params: P_contra) -> Finding:
        """Read-only; raises ActionError / SourceError when it cannot look (verification then says so)."""
        ...


@runtime_checkable
class VerifiedByCheck(Protocol):
    """Optional, next to `Action`: an action whose direct effect one diagnosis check measures, where the
    symptom's own check would not move (cancelling a long query leaves pg_stat_statements' means alone).
    Verification compares that check before and after, as it compares a runbook's symptom check."""

    verify_check: str


def reached_finding(check: str, title: str, *, reached: bool, summary: str, key: Fact,
                    more: tuple[Fact, ...] = ()) -> Finding:
    """What a `ChecksItself.check` returns: OK when the state the action is meant to reach is there, WARN when
    not (yet). `key` (the first fact) carries the number compared before and after."""
    status = Status.OK if reached else Status.WARN
    return Finding(check=check, title=title, status=status, summary=summary,
                   facts=(Fact(key.label, key.value, key.threshold, status), *more))


def changed_keys(proposed: Mapping[str, str], current: Mapping[str, str]) -> list[str]:
    """Keys whose value differs between the preview's state and a fresh fingerprint (stale proposal)."""
    return sorted(key for key in set(proposed) | set(current) if proposed.get(key) != current.get(key))
