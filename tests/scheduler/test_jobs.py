"""The scheduled jobs against the sandbox over real HTTP: prevention posts once per condition and once on
recovery; timed reverts run from the deployment's annotation, audited as opsbot, once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.actions.base import REVERT_PARAM
from bot.actions.debug_logging import DEBUG_UNTIL, LEVEL_BEFORE
from bot.approvals import Decision, DecisionKind
from bot.approvals.service import BOT_ACTOR
from bot.config import OpsConfig, Thresholds
from bot.model import Fact, Finding, Status
from bot.prevention import Prevention, decide
from bot.sandbox.runner import Sandbox
from bot.store.approvals import ApprovalRequest, AuditEvent, RequestStatus
from bot.store.coordination import Coordination, RedisCoordination
from bot.timed_reverts import TimedReverts, due_changes, parse_until
from bot.wiring import Deps
from tests.actions.conftest import env_value
from tests.scheduler.helpers import deployment_annotations, role_config, sandbox_deps, timed_change_already_due


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox("bad-deploy") as running:
        yield running


@pytest.fixture
async def deps(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Deps]:
    wired = sandbox_deps(sandbox, tmp_path)
    yield wired
    await wired.aclose()


class Posts:
    def __init__(self) -> None:
        self.texts: list[str] = []
        self.down = False

    async def __call__(self, text: str) -> bool:
        if self.down:
            return False
        self.texts.append(text)
        return True


def _finding(status: Status) -> Finding:
    return Finding("latency", "Latency", status, "P95 170 ms")


def test_decide_raises_once_clears_once_and_ignores_unknowns() -> None:
    raised = {"status": "warn"}
    assert decide(_finding(Status.WARN), None) is True
    assert decide(_finding(Status.CRIT), raised) is None
    assert decide(_finding(Status.OK), raised) is False
    assert decide(_finding(Status.OK), None) is None
    assert decide(_finding(Status.ERROR), raised) is None and decide(_finding(Status.NO_DATA), None) is None


def _relaxed(**thresholds: float) -> OpsConfig:
    base = role_config()
    data = base.model_dump()
    for service in data["services"]:
        data["services"][service]["thresholds"] = dict(thresholds)
    return OpsConfig.model_validate(data)


async def test_prevention_warns_once_per_condition_then_notes_the_recovery(
    deps: Deps, redis_client_url: str
) -> None:
    shared: Coordination = RedisCoordination(redis_client_url)  # what a successor leader would read
    posts = Posts()
    try:
        first = Prevention(deps.sources, deps.config, shared, posts)
        await first.run()
        warnings = list(posts.texts)
        # bad-deploy: auth-service's new image errors (12.5 %), data-processor P95 170 ms > 150 ms.
        assert any("auth-service error rate is crit" in t for t in warnings), warnings
        assert any("data-processor latency is warn" in t and "170 ms" in t for t in warnings), warnings
        assert all(t.startswith(":warning:") for t in warnings)
        assert not any("api-gateway" in t for t in warnings)  # healthy: P95 118 ms, no warning

        await Prevention(deps.sources, deps.config, shared, posts).run()  # another leader, same conditions
        assert posts.texts == warnings

        # The same numbers under thresholds they now meet: every raised condition clears, once.
        # Every latency line (P95, and any other percentile the check judges) far above the numbers.
        lines = {name: 10_000.0 if name.endswith("warn_ms") else 20_000.0
                 for name in Thresholds.model_fields if name.startswith("latency_")}
        relaxed = _relaxed(**lines, error_rate=0.9)
        await Prevention(deps.sources, relaxed, shared, posts).run()
        recoveries = posts.texts[len(warnings):]
        assert len(recoveries) == len(warnings)
        assert all(t.startswith(":white_check_mark: Recovered") for t in recoveries)
        await Prevention(deps.sources, relaxed, shared, posts).run()
        assert len(posts.texts) == 2 * len(warnings)
    finally:
        await shared.aclose()


async def test_a_warning_slack_did_not_take_is_posted_on_the_next_run(deps: Deps) -> None:
    posts = Posts()
    posts.down = True
    prevention = Prevention(deps.sources, deps.config, deps.coordination, posts)
    await prevention.run()
    assert posts.texts == []
    posts.down = False
    await prevention.run()
    assert any("auth-service error rate" in t for t in posts.texts)


def test_due_changes_reads_the_annotations() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    ann = {DEBUG_UNTIL: "2026-11-28T11:59:59Z", "opsbot.io/memory-bump-until": "2026-11-28T12:30:00Z"}
    assert [(d.action, d.service) for d in due_changes("svc", ann, now)] == [("debug-logging", "svc")]
    assert parse_until("tomorrow") is None and due_changes("svc", {DEBUG_UNTIL: "garbage"}, now) == []


class Reports:
    def __init__(self) -> None:
        self.got: list[tuple[ApprovalRequest | None, Decision]] = []

    async def __call__(self, origin: ApprovalRequest | None, decision: Decision) -> None:
        self.got.append((origin, decision))


async def test_an_overdue_debug_logging_is_reverted_once_as_opsbot(deps: Deps, sandbox: Sandbox) -> None:
    origin = await timed_change_already_due(deps, "debug-logging", "auth-service", {"minutes": "5"},
                                            minutes_ago=3, message_ts="1700000000.000100")
    assert env_value(sandbox, "auth-service", "LOG_LEVEL") == "DEBUG"
    assert DEBUG_UNTIL in deployment_annotations(sandbox, "auth-service")
    reports = Reports()
    reverts = TimedReverts(deps.approvals, deps.action_env, deps.config, reports)

    assert await reverts.run() == "1 timed change(s) reverted"
    assert env_value(sandbox, "auth-service", "LOG_LEVEL") == "INFO"
    assert LEVEL_BEFORE not in deployment_annotations(sandbox, "auth-service")
    [(reported_origin, decision)] = reports.got
    assert reported_origin is not None and reported_origin.id == origin.id  # found through the audit trail
    assert decision.kind is DecisionKind.SUCCEEDED and decision.request is not None
    assert decision.request.requester == BOT_ACTOR and decision.request.decided_by == BOT_ACTOR
    assert decision.request.params == {REVERT_PARAM: "true"} and decision.request.channel == "C0OPS"

    assert await reverts.run() == "0 timed change(s) reverted"  # the annotation is gone: nothing left due
    trail = await deps.approvals.audit(service="auth-service")
    done = [r.entry for r in trail if r.entry.event is AuditEvent.SUCCEEDED and r.entry.actor == BOT_ACTOR]
    assert len(done) == 1 and done[0].params == {REVERT_PARAM: "true"}


async def test_a_change_not_yet_due_is_left_alone(deps: Deps, sandbox: Sandbox) -> None:
    origin = await timed_change_already_due(deps, "memory-bump", "data-processor",
                                            {"limit": "4Gi", "minutes": "30"}, minutes_ago=-20)
    assert origin.status is RequestStatus.SUCCEEDED
    reports = Reports()
    assert await TimedReverts(deps.approvals, deps.action_env, deps.config, reports).run() == \
        "0 timed change(s) reverted"
    assert reports.got == [] and "opsbot.io/memory-bump-until" in deployment_annotations(sandbox, "data-processor")


def test_prevention_judges_latency_by_p95_alone_as_the_guide_says() -> None:
    p99_only = Finding("latency", "Latency", Status.WARN, "P95 142 ms, P99 310 ms",
                       facts=(Fact("p95", "142 ms", "warn 150 ms", Status.OK),
                              Fact("p99", "310 ms", "warn 300 ms", Status.WARN)))
    assert decide(p99_only, None) is None
    p95_high = Finding("latency", "Latency", Status.WARN, "P95 160 ms",
                       facts=(Fact("p95", "160 ms", "warn 150 ms", Status.WARN),))
    assert decide(p95_high, None) is True
