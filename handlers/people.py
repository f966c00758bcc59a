"""Which of the ops config's user groups a Slack user is in, for role checks.

`usergroups.users.list` is a tier-2 method (about 20 calls a minute), so memberships are cached briefly;
a short TTL keeps someone removed from the on-call group from approving for long. Only the groups the
ops config names are ever looked up.
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


class UserGroups:
    def __init__(self, ttl_s: float = CACHE_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

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
