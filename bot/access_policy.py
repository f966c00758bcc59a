"""The platform's application access policy (the guide's RBAC example): which role holds which permission.

Not to be confused with the ops config's `roles:`, which says who may approve the bot's actions. This
policy describes the services' own users, so that a 403 "role viewer lacks write:orders" can be
explained: which roles would grant `write:orders`. Pure data and matching; no I/O.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

# `action:resource`, each side a lowercase word or `*` (`read:orders`, `read:*`, `*:*`).
PERMISSION = re.compile(r"^(\*|[a-z][a-z0-9_-]{0,62}):(\*|[a-z][a-z0-9_-]{0,62})$")
ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


def is_permission(text: str) -> bool:
    return PERMISSION.match(text) is not None


def matches(granted: str, wanted: str) -> bool:
    """Does the granted permission (may hold `*` per side) cover the wanted one?"""
    granted_action, granted_resource = granted.split(":", 1)
    action, resource = wanted.split(":", 1)
    return granted_action in ("*", action) and granted_resource in ("*", resource)


class AccessPolicy(BaseModel):
    """Role name -> permissions it grants, e.g. `editor: ["read:*", "write:orders"]`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("roles")
    @classmethod
    def _valid(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for role, permissions in value.items():
            if not ROLE.match(role):
                raise ValueError(f"role name {role!r} must be a lowercase word")
            bad = [p for p in permissions if not is_permission(p)]
            if bad:
                raise ValueError(f"{role}: {bad} are not permissions like read:orders, read:* or *:*")
        return value

    def grants(self, role: str, permission: str) -> bool:
        return any(matches(granted, permission) for granted in self.roles.get(role, ()))

    def granting(self, permission: str) -> tuple[str, ...]:
        """The roles that grant the permission, least privileged first (fewest grants, no wildcard)."""
        found = [role for role in self.roles if self.grants(role, permission)]
        return tuple(sorted(found, key=lambda role: (_breadth(self.roles[role]), role)))


def _breadth(permissions: tuple[str, ...]) -> tuple[int, int]:
    # A role holding `*:*` is the broadest whatever else it lists; then count wildcards, then grants.
    wildcards = sum(p.count("*") for p in permissions)
    return (wildcards, len(permissions))
