"""Who may approve what: a clicker's role from the ops config, an action's required role, four eyes.

Pure functions over the config. User-group membership is passed in by the caller, because resolving it
needs Slack (``usergroups.users.list``) and the core does not talk to Slack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bot.actions.base import Action
from bot.config import ROLE_NAMES, OpsConfig

Role = Literal["viewer", "editor", "admin"]
LOCAL_PREFIX = "cli:"


@dataclass(frozen=True)
class Approver:
    """Who clicked. `id` is the Slack user id from the signed payload (never from a button value), or
    `cli:<login>` for a local operator of `opsbot act`, whose role checks are skipped but who is audited."""

    id: str
    groups: frozenset[str] = frozenset()
    local: bool = False
    system: bool = False  # the bot itself carrying out what people approved (a timed revert)

    @classmethod
    def slack_user(cls, user_id: str, groups: frozenset[str] | set[str] = frozenset()) -> Approver:
        return cls(id=user_id, groups=frozenset(groups))

    @classmethod
    def local_operator(cls, login: str) -> Approver:
        return cls(id=f"{LOCAL_PREFIX}{login}", local=True)

    @classmethod
    def bot_system(cls, bot_id: str = "opsbot") -> Approver:
        """The bot running the revert of a change people approved: not gated, audited, and let through
        read-only mode (which stops new changes, not the undoing of old ones)."""
        return cls(id=bot_id, local=True, system=True)


@dataclass(frozen=True)
class Requirement:
    """What approving one action takes: at least `role`, and with `four_eyes` two distinct people holding
    it (the first click is recorded as the first approval, a second person's click executes)."""

    role: Role
    four_eyes: bool


@dataclass(frozen=True)
class Refusal:
    """Why someone may not approve; `message` is fit to show them as is."""

    reason: Literal["no_roles", "not_authorised", "self_approval"]
    message: str
    required_role: Role | None = None


def _rank(role: Role) -> int:
    return ROLE_NAMES.index(role)


def role_of(config: OpsConfig, user: str, groups: frozenset[str]) -> Role | None:
    """The highest role listing the user or one of their user groups; None when none does."""
    held: Role | None = None
    for name, members in config.roles.items():
        if user in members.users or groups.intersection(members.usergroups):
            held = name if held is None or _rank(name) > _rank(held) else held
    return held


def roles_configured(config: OpsConfig) -> bool:
    """Nobody may approve until someone holds a role that can approve (editor or admin)."""
    return any(
        members.users or members.usergroups for name, members in config.roles.items() if name != "viewer"
    )


def requirement(config: OpsConfig, action: Action[Any]) -> Requirement:
    """The action's own default role and risk, unless the ops config's `approvals.actions` overrides them."""
    override = config.approvals.actions.get(action.name)
    role: Role = action.default_role
    four_eyes = action.risk.needs_second_person
    if override is not None:
        role = override.role or role
        four_eyes = override.four_eyes if override.four_eyes is not None else four_eyes
    return Requirement(role=role, four_eyes=four_eyes)


def refusal(config: OpsConfig, needed: Requirement, approver: Approver, requester: str) -> Refusal | None:
    """None when `approver` may approve a request of `requester` needing `needed`; else why not."""
    if approver.local:
        return None  # a local operator already holds the platform credentials; audited, not gated
    if not roles_configured(config):
        return Refusal("no_roles", "Nobody may approve actions yet: no editors or admins are configured (roles:).")
    held = role_of(config, approver.id, approver.groups)
    if held is None or _rank(held) < _rank(needed.role):
        return Refusal(
            "not_authorised",
            f"Approving this needs the {needed.role} role; you have {held or 'no role'}.",
            required_role=needed.role,
        )
    return None


def second_approval_refusal(needed: Requirement, approver: Approver, first_approver: str | None) -> Refusal | None:
    """Four eyes: the click completing a high-risk request must come from someone other than its first
    approver. The requester may give either approval: who asked (a person, or `opsbot` for an alert) does
    not count, two authorised clicks do, so alert proposals work the same as a diagnosis' proposals."""
    if not needed.four_eyes or approver.local or first_approver is None or approver.id != first_approver:
        return None
    return Refusal(
        "self_approval",
        f"You gave the first approval of this high-risk action: another {needed.role} must give the second.",
        required_role=needed.role,
    )


def may_deny(config: OpsConfig, needed: Requirement, approver: Approver, requester: str) -> Refusal | None:
    """The requester may always withdraw their own request; anyone else needs the approving role."""
    if approver.id == requester:
        return None
    refused = refusal(config, Requirement(role=needed.role, four_eyes=False), approver, requester)
    if refused is not None and refused.reason == "not_authorised":
        return Refusal("not_authorised", f"Declining this needs the {needed.role} role.", needed.role)
    return refused
