"""Role checks through Slack user groups: only the configured groups are listed, briefly cached, and a group
Slack will not list grants nothing."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from handlers.usergroups import UserGroups
from tests.approvals.conftest import ONCALL_GROUP, role_config
from tests.fakes.slack_api import FakeSlack


async def test_membership_comes_from_usergroups_users_list_and_is_cached(fake_slack: FakeSlack) -> None:
    fake_slack.set_usergroup(ONCALL_GROUP, ["U0CAROL01"])
    fake_slack.set_usergroup("S0OTHER01", ["U0CAROL01"])  # not in the ops config: never asked about
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    now = [0.0]
    groups = UserGroups(ttl_s=60, clock=lambda: now[0])
    config = role_config()
    assert await groups.groups_of(client, config, "U0CAROL01") == frozenset({ONCALL_GROUP})
    assert await groups.groups_of(client, config, "U0DAVE001") == frozenset()
    assert len(fake_slack.calls("usergroups.users.list")) == 1
    now[0] = 61.0
    fake_slack.set_usergroup(ONCALL_GROUP, [])  # Carol left the on-call group
    assert await groups.groups_of(client, config, "U0CAROL01") == frozenset()
    assert [c.params["usergroup"] for c in fake_slack.calls("usergroups.users.list")] == [ONCALL_GROUP] * 2


async def test_a_group_slack_will_not_list_grants_nothing(fake_slack: FakeSlack) -> None:
    fake_slack.fail("usergroups.users.list", error="missing_scope")
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    assert await UserGroups().groups_of(client, role_config(), "U0CAROL01") == frozenset()
