"""Who a clicker is to Slack, for approvals: which configured user groups they are in, and whether they
are a full member of the workspace (guests and deactivated accounts never approve, whatever the config says).

`usergroups.users.list` is a tier-2 method (about 20 calls a minute), so answers are cached briefly; a
short TTL keeps someone removed from the on-call group from approving for long. Only the groups the ops
config names are ever looked up. When Slack does not answer, nobody gains anything.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import OpsConfig

log = logging.getLogger(__name__)
CACHE_TTL_S = 60.0


class People:
    def __init__(self, ttl_s: float = CACHE_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._full: dict[str, tuple[float, bool]] = {}

    async def full_member(self, client: AsyncWebClient, user: str) -> bool:
        """False for guests (restricted, single-channel), deactivated users, bots and unknown ids."""
        cached = self._full.get(user)
        now = self._clock()
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        try:
            response = await client.users_info(user=user)
        except SlackApiError as exc:
            log.warning("users.info %s failed: %s", user, exc.response.get("error"))
            return False
        info = response.get("user") or {}
        flags = ("is_restricted", "is_ultra_restricted", "deleted", "is_bot")
        full = bool(info) and not any(info.get(flag) for flag in flags)
        self._full[user] = (now, full)
        return full

    async def groups_of(self, client: AsyncWebClient, config: OpsConfig, user: str) -> frozenset[str]:
        """The configured user groups `user` belongs to; a group Slack will not list counts as not joined."""
        configured = sorted({group for members in config.roles.values() for group in members.usergroups})
        return frozenset([group for group in configured if user in await self._members_of(client, group)])

    async def _members_of(self, client: AsyncWebClient, group: str) -> frozenset[str]:
        cached = self._members.get(group)
        now = self._clock()
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        try:
            response = await client.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            # Refusing is the safe failure: nobody gains a role because Slack did not answer.
            log.warning("usergroups.users.list %s failed: %s", group, exc.response.get("error"))
            return frozenset()
        users = frozenset(str(u) for u in response.get("users") or [])
        self._members[group] = (now, users)
        return users
