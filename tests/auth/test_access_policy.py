"""The ops config's access policy: the guide's example, wildcard matching, validation naming the key."""

from pathlib import Path

import pytest

from bot.access_policy import AccessPolicy, matches
from bot.config import ConfigError, load_ops_config

GUIDE = AccessPolicy(roles={
    "viewer": ("read:orders", "read:customers"),
    "editor": ("read:*", "write:orders", "write:customers"),
    "admin": ("*:*",),
})


def test_packaged_default_holds_the_guides_example_policy() -> None:
    config = load_ops_config(None)
    assert config.access_policy == GUIDE
    assert set(config.roles) == {"viewer", "editor", "admin"}  # the approvers' roles are a separate section


@pytest.mark.parametrize(
    ("granted", "wanted", "expected"),
    [
        ("read:orders", "read:orders", True),
        ("read:orders", "read:customers", False),
        ("read:*", "read:invoices", True),
        ("read:*", "write:orders", False),
        ("*:orders", "delete:orders", True),
        ("*:*", "write:discounts", True),
    ],
)
def test_wildcards_match_per_side(granted: str, wanted: str, expected: bool) -> None:
    assert matches(granted, wanted) is expected


def test_roles_granting_a_permission_least_privileged_first() -> None:
    assert GUIDE.granting("write:orders") == ("editor", "admin")
    assert GUIDE.granting("read:orders") == ("viewer", "editor", "admin")
    assert GUIDE.granting("read:invoices") == ("editor", "admin")
    assert GUIDE.granting("delete:orders") == ("admin",)
    assert not GUIDE.grants("viewer", "write:orders")
    assert GUIDE.grants("editor", "read:invoices")
    assert not GUIDE.grants("nobody", "read:orders")


def test_a_user_file_replaces_a_roles_permissions(tmp_path: Path) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text("access_policy:\n  roles:\n    viewer: [\"read:*\"]\n")
    policy = load_ops_config(path).access_policy
    assert policy.grants("viewer", "read:invoices")
    assert policy.granting("write:orders") == ("editor", "admin")  # other roles kept from the default


@pytest.mark.parametrize(
    ("yaml_text", "needle"),
    [
        ("access_policy:\n  roles:\n    viewer: [\"read orders\"]\n", "access_policy.roles"),
        ("access_policy:\n  roles:\n    viewer: [\"read:\"]\n", "access_policy.roles"),
        ("access_policy:\n  roles:\n    Bad Role: [\"read:orders\"]\n", "access_policy.roles"),
        ("access_policy:\n  rolez: {}\n", "access_policy.rolez"),
    ],
)
def test_invalid_policy_names_the_key(tmp_path: Path, yaml_text: str, needle: str) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=needle.replace(".", r"\.")):
        load_ops_config(path)
