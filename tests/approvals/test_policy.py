"""Who may approve what: roles from users and user groups, inheritance, overrides, four eyes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.actions.base import Risk
from bot.approvals.policy import Approver, Requirement, may_deny, refusal, requirement, role_of, roles_configured
from bot.config import ConfigError, load_ops_config
from bot.config_sections import ActionApproval, ApprovalsConfig
from tests.approvals.conftest import ADMIN, EDITOR, ONCALL_GROUP, VIEWER, role_config
from tests.approvals.fakes import RecordingAction


def test_role_of_takes_the_highest_grant() -> None:
    config = role_config()
    assert role_of(config, VIEWER, frozenset()) == "viewer"
    assert role_of(config, EDITOR, frozenset()) == "editor"
    assert role_of(config, VIEWER, frozenset({ONCALL_GROUP})) == "editor"  # group outranks the user entry
    assert role_of(config, ADMIN, frozenset({ONCALL_GROUP})) == "admin"
    assert role_of(config, "U0NOBODY", frozenset({"S0OTHER"})) is None


def test_higher_role_grants_lower_requirements() -> None:
    config = role_config()
    needs_editor = Requirement(role="editor", four_eyes=False)
    assert refusal(config, needs_editor, Approver.slack_user(ADMIN), requester=EDITOR) is None
    refused = refusal(config, Requirement(role="admin", four_eyes=False), Approver.slack_user(EDITOR), EDITOR)
    assert refused is not None and refused.required_role == "admin" and "admin role" in refused.message


def test_requirement_defaults_and_overrides() -> None:
    high = RecordingAction(name="flush-cache", risk=Risk.HIGH, default_role="admin")
    assert requirement(role_config(), high) == Requirement(role="admin", four_eyes=True)
    relaxed = role_config(approvals=ApprovalsConfig(actions={"flush-cache": ActionApproval(four_eyes=False)}))
    assert requirement(relaxed, high) == Requirement(role="admin", four_eyes=False)


def test_local_operator_skips_role_checks() -> None:
    operator = Approver.local_operator("alice")
    assert operator.id == "cli:alice"
    assert refusal(role_config(roles={}), Requirement("admin", True), operator, requester=operator.id) is None


def test_packaged_default_has_no_approvers() -> None:
    config = load_ops_config(None)
    assert not roles_configured(config)
    viewers_only = role_config(roles={"viewer": {"users": [VIEWER], "usergroups": []}})
    assert not roles_configured(viewers_only)


def test_requester_may_withdraw_others_need_the_role() -> None:
    config = role_config()
    needed = Requirement(role="admin", four_eyes=True)
    assert may_deny(config, needed, Approver.slack_user(VIEWER), requester=VIEWER) is None
    refused = may_deny(config, needed, Approver.slack_user(EDITOR), requester=VIEWER)
    assert refused is not None and refused.required_role == "admin"


def test_config_rejects_unknown_action_and_viewer_role(tmp_path: Path) -> None:
    bad = tmp_path / "ops.yaml"
    bad.write_text("approvals: {actions: {reboot: {role: admin}}}\n")
    with pytest.raises(ConfigError, match=r"approvals\.actions"):
        load_ops_config(bad)
    bad.write_text("approvals: {actions: {scale: {role: viewer}}}\n")
    with pytest.raises(ConfigError, match=r"approvals\.actions\.scale\.role"):
        load_ops_config(bad)
    good = tmp_path / "good.yaml"
    good.write_text("approvals: {ttl_minutes: 5, actions: {restart: {role: admin}}}\n")
    loaded = load_ops_config(good)
    assert loaded.approvals.ttl_minutes == 5 and loaded.approvals.actions["restart"].role == "admin"
