"""Who a clicker is to Slack: configured user groups only, briefly cached; a group Slack will not list grants
nothing; guests and deactivated accounts are not full members."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from handlers.people import People
from tests.approvals.conftest import ONCALL_GROUP, role_config
from tests.fakes.slack_api import FakeSlack


async def test_membership_comes_from_usergroups_users_list_and_is_cached(fake_slack: FakeSlack) -> None:
    fake_slack.set_usergroup(ONCALL_GROUP, ["U0CAROL01"])
    fake_slack.set_usergroup("S0OTHER01", ["U0CAROL01"])  # not in the ops config: never asked about
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    now = [0.0]
    groups = People(ttl_s=60, clock=lambda: now[0])
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
    assert await People().groups_of(client, role_config(), "U0CAROL01") == frozenset()


async def test_guests_and_deactivated_users_are_not_full_members(fake_slack: FakeSlack) -> None:
    fake_slack.set_user("U0GUEST01", is_restricted=True)
    fake_slack.set_user("U0GONE001", deleted=True)
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    people = People()
    assert await people.full_member(client, "U0ALICE01")
    assert not await people.full_member(client, "U0GUEST01")
    assert not await people.full_member(client, "U0GONE001")
    assert not await people.full_member(client, "U0NOBODY1")  # users.info: user_not_found
    await people.full_member(client, "U0ALICE01")
    assert [c.params["user"] for c in fake_slack.calls("users.info")].count("U0ALICE01") == 1
