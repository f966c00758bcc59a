"""The remediation flow the Slack handlers and the demo share, against the sandbox platform over real HTTP
(in-memory approvals): offering a diagnosis' proposals, the preview a click gets, approve then verify, and
a timed change's revert run by the bot when due."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.actions import ACTIONS
from bot.approvals import Approver, Decision, DecisionKind, Origin
from bot.config import OpsConfig, Settings
from bot.model import Symptom
from bot.remediation import Remediation, build_remediation
from bot.sandbox.runner import Sandbox
from bot.verification import Trend
from bot.wiring import Deps, build_deps
from tests.approvals.conftest import ADMIN, ADMIN_2, EDITOR, EDITOR_2, VIEWER, role_config


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox("bad-deploy") as running:
        yield running


@dataclass
class Flow:
    deps: Deps
    flow: Remediation
    sandbox: Sandbox

    def container_env(self, name: str) -> dict[str, str]:
        found = self.sandbox.cluster.get("Deployment", "default", name)
        assert found is not None
        env = found["spec"]["template"]["spec"]["containers"][0].get("env") or []
        return {item["name"]: item.get("value", "") for item in env}


async def _flow(sandbox: Sandbox, tmp_path: Path, config: OpsConfig) -> Flow:
    settings = Settings(
        _env_file=None,
        kubeconfig=str(sandbox.write_kubeconfig(tmp_path / "kubeconfig")),
        metrics_api_url=sandbox.metrics_url,
        redis_url=None,
        database_url=None,
        opsbot_config=None,
    )
    deps = build_deps(settings, config)
    return Flow(deps, build_remediation(deps), sandbox)


def _config(**overrides: object) -> OpsConfig:
    base = role_config()
    limits = base.action_limits.model_copy(update={"verify_delay_s": 0})
    return base.model_copy(update={"action_limits": limits, **overrides})


@pytest.fixture
async def flow(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Flow]:
    made = await _flow(sandbox, tmp_path, _config())
    yield made
    await made.flow.cancel_pending()
    await made.deps.aclose()


async def test_offer_stores_one_request_per_action_and_read_only_offers_none(
    flow: Flow, sandbox: Sandbox, tmp_path: Path
) -> None:
    diag = await flow.deps.diagnose("auth-service", Symptom.HIGH_ERROR_RATE)
    offers = await flow.flow.offer(diag, EDITOR, "C0ALERTS1")
    assert [(o.proposal.action, o.proposal.params) for o in offers] == [("rollback", {"to_revision": "6"})]
    proposed = offers[0].proposed
    assert proposed is not None and proposed.request.requester == EDITOR and proposed.request.channel == "C0ALERTS1"
    assert proposed.request.awaiting_message, "its buttons are about to be posted: no clicks until attached"
    assert proposed.request.state["revision"] == "7"

    read_only = await _flow(sandbox, tmp_path, _config(read_only=True))
    try:
        assert await read_only.flow.offer(diag, EDITOR) == []
    finally:
        await read_only.deps.aclose()


async def test_review_shows_everyone_the_preview_and_gates_only_approve(flow: Flow) -> None:
    diag = await flow.deps.diagnose("auth-service", Symptom.HIGH_ERROR_RATE)
    [offer] = await flow.flow.offer(diag, EDITOR)
    assert offer.proposed is not None
    request_id = offer.proposed.request.id

    viewer = await flow.flow.review(request_id, Approver.slack_user(VIEWER))
    assert viewer.refused is None and viewer.preview is not None, "a viewer sees what would change"
    assert viewer.approve_refused is not None and viewer.required_role == "editor" and not viewer.may_deny
    requester = await flow.flow.review(request_id, Approver.slack_user(EDITOR))
    assert requester.preview is not None and requester.approve_refused is None and requester.may_deny
    unknown = await flow.flow.review("req_nobody", Approver.slack_user(EDITOR_2))
    assert unknown.refused == "This request does not exist."
    await flow.flow.attach([offer], "C0OPS0001", "1718000000.000100")
    elsewhere = await flow.flow.review(request_id, Approver.slack_user(EDITOR_2),
                                       origin=Origin("C0OTHER01", "1718000000.000100"))
    assert elsewhere.refused is not None and elsewhere.preview is None, "a click from another message sees nothing"

    review = await flow.flow.review(request_id, Approver.slack_user(EDITOR_2))
    assert review.refused is None and review.preview is not None and review.needed is not None
    assert review.needed.role == "editor" and not review.needed.four_eyes and review.stale == ()
    assert any("server dry run accepted" in change for change in review.preview.changes)
    events = [str(r.entry.event) for r in await flow.deps.approvals.audit(service="auth-service")]
    # Refused: the viewer and the click from elsewhere; the unknown id has no service.
    assert events.count("clicked") == 4 and events.count("refused") == 2


async def test_approve_then_verify_reports_the_error_rate_before_and_after(flow: Flow) -> None:
    diag = await flow.deps.diagnose("auth-service", Symptom.HIGH_ERROR_RATE)
    [offer] = await flow.flow.offer(diag, EDITOR)
    assert offer.proposed is not None
    decision = await flow.flow.approve(offer.proposed.request.id, Approver.slack_user(EDITOR_2))
    assert decision.kind is DecisionKind.SUCCEEDED and decision.request is not None and decision.outcome is not None
    verdict = await flow.flow.verify(decision.request, decision.outcome)
    assert verdict.trend is Trend.BETTER and verdict.settled and verdict.symptom is Symptom.HIGH_ERROR_RATE
    assert verdict.key_fact_before is not None and verdict.key_fact_before.value == "12.5 %"
    assert verdict.key_fact_after is not None and verdict.key_fact_after.value == "0.4 %"
    assert verdict.revert is not None and verdict.revert.params == {"to_revision": "7"}


async def test_a_proposal_from_elsewhere_measures_its_own_baseline(flow: Flow) -> None:
    """A request this process did not propose (another replica, the CLI) still gets a before/after."""
    proposed = await flow.deps.approvals.propose("rollback", "auth-service", {}, ADMIN)
    decision = await flow.flow.approve(proposed.request.id, Approver.slack_user(EDITOR))
    assert decision.request is not None and decision.outcome is not None
    verdict = await flow.flow.verify(decision.request, decision.outcome)
    assert verdict.trend is Trend.BETTER and verdict.before is not None and verdict.before.check == "error_rate"


async def test_a_timed_change_is_reverted_by_the_bot_when_due(sandbox: Sandbox, tmp_path: Path) -> None:
    made = await _flow(sandbox, tmp_path, _config())
    # The flow's clock runs a day ahead, so the revert (due in 5 minutes) is due at once.
    made.flow = Remediation(
        made.deps.approvals, actions=ACTIONS, config=made.deps.config, env=made.deps.action_env,
        sources=made.deps.sources, runbooks=made.deps.runbooks,
        clock=lambda: datetime.now(UTC) + timedelta(days=1),
    )
    try:
        proposed = await made.deps.approvals.propose("debug-logging", "auth-service", {"minutes": "5"}, ADMIN)
        decision = await made.flow.approve(proposed.request.id, Approver.slack_user(ADMIN_2))
        assert decision.kind is DecisionKind.SUCCEEDED and decision.outcome is not None
        assert decision.request is not None
        assert made.container_env("auth-service")["LOG_LEVEL"] == "DEBUG"
        reverted: list[DecisionKind] = []

        async def done(revert_decision: Decision) -> None:
            reverted.append(revert_decision.kind)

        assert made.flow.schedule_revert(decision.request, decision.outcome, done)
        await made.flow.drain()
        assert reverted == [DecisionKind.SUCCEEDED]
        assert made.container_env("auth-service")["LOG_LEVEL"] == "INFO"
        trail = await made.deps.approvals.audit(service="auth-service")
        assert any(r.entry.actor == "opsbot" and r.entry.event == "succeeded" for r in trail)
    finally:
        await made.flow.cancel_pending()
        await made.deps.aclose()


async def test_verification_re_checks_the_symptom_the_diagnosis_was_about(flow: Flow) -> None:
    # A rollback proposed by a latency diagnosis is judged on latency, not on rollback's own error rate.
    diag = await flow.deps.diagnose("auth-service", Symptom.HIGH_ERROR_RATE)
    [offer] = await flow.flow.offer(replace(diag, symptom=Symptom.HIGH_LATENCY), EDITOR)
    assert offer.proposed is not None
    assert flow.flow.verify_symptom(offer.proposed.request) is Symptom.HIGH_LATENCY
    elsewhere = await flow.deps.approvals.propose("restart", "auth-service", {}, ADMIN)
    assert flow.flow.verify_symptom(elsewhere.request) is Symptom.HIGH_LATENCY  # restart's own symptom
    rollback = await flow.deps.approvals.propose("rollback", "business-logic", {}, ADMIN)
    assert flow.flow.verify_symptom(rollback.request) is Symptom.HIGH_ERROR_RATE
