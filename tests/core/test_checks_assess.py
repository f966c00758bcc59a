"""The pure `assess` of each High Error Rates check over hand-made evidence, and the cause ranking."""

from datetime import UTC, datetime, timedelta

from bot.checks.dependency_health import DependencyHealthCheck
from bot.checks.error_logs import ErrorLogsCheck, LogEvidence
from bot.checks.error_rate import ErrorRateCheck
from bot.checks.recent_rollout import RecentRolloutCheck, RolloutEvidence
from bot.config import load_ops_config
from bot.engine import context_for
from bot.model import Diagnosis, Finding, Status, Symptom, Target
from bot.sources.records import (
    DeploymentInfo,
    EndpointErrors,
    ErrorStats,
    HealthReport,
    LogLine,
    RevisionInfo,
)
from bot.verdict import rank_causes

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CONFIG = load_ops_config(None)
CTX = context_for(CONFIG, CONFIG.target("auth-service"), NOW)


def _errors(rate: float, by_status: dict[int, int]) -> ErrorStats:
    return ErrorStats("auth-service", "15m", 10_000, int(rate * 10_000), rate, by_status,
                      (EndpointErrors("POST /auth/validate", 6000, 1150, {500: 1000, 401: 150}),), ())


def _deployment(revision: int) -> DeploymentInfo:
    return DeploymentInfo("auth-service", "default", "uid-1", 3, 3, revision, 3, 3, 3, 3,
                          ("registry.example.com/auth-service:2.5.0",), False, "2.5.0", ())


def _history(rolled_ago: timedelta) -> tuple[RevisionInfo, ...]:
    return (
        RevisionInfo(6, "auth-service-6", ("registry.example.com/auth-service:2.4.1",), None,
                     NOW - timedelta(days=9), 0),
        RevisionInfo(7, "auth-service-7", ("registry.example.com/auth-service:2.5.0",), "deploy 2.5.0",
                     NOW - rolled_ago, 3),
    )


def test_error_rate_against_the_guides_five_percent() -> None:
    crit = ErrorRateCheck().assess(_errors(0.121, {500: 1000, 502: 60, 401: 150}), CTX)
    assert crit.status is Status.CRIT
    assert "12.1 %" in crit.summary and "5.0 %" in crit.summary
    assert any(f.label == "5xx" and f.value.startswith("1,060") for f in crit.facts)
    assert ErrorRateCheck().assess(_errors(0.004, {500: 40}), CTX).status is Status.OK
    assert ErrorRateCheck().assess(_errors(0.03, {500: 300}), CTX).status is Status.WARN


def test_mostly_401s_point_at_jwt() -> None:
    finding = ErrorRateCheck().assess(_errors(0.08, {401: 700, 500: 100}), CTX)
    assert finding.causes[0].key == "jwt_rejected"
    assert {"jwt_expired", "jwt_signature"} <= set(finding.causes[0].supports)  # folds into the logs' reason


def test_mostly_403s_point_at_a_missing_permission_without_a_proposal() -> None:
    finding = ErrorRateCheck().assess(_errors(0.09, {403: 800, 404: 50, 500: 40}), CTX)
    assert [c.key for c in finding.causes] == ["permission_refused"]
    assert finding.causes[0].supports == ("missing_permission",)  # folds into access_policy's when present
    assert finding.causes[0].proposals == ()


def test_recent_rollout_is_a_suspect_with_a_rollback_proposal() -> None:
    finding = RecentRolloutCheck().assess(RolloutEvidence(_deployment(7), _history(timedelta(minutes=20))), CTX)
    assert finding.status is Status.WARN
    assert "Revision 7 (auth-service:2.5.0)" in finding.summary and "20 min ago" in finding.summary
    cause = finding.causes[0]
    assert cause.key == "deploy" and cause.proposals[0].params == {"to_revision": "6"}


def test_old_rollout_is_not_a_suspect() -> None:
    finding = RecentRolloutCheck().assess(RolloutEvidence(_deployment(7), _history(timedelta(days=3))), CTX)
    assert finding.status is Status.OK and finding.causes == ()


def test_unhealthy_dependency_is_a_cause() -> None:
    healthy = DependencyHealthCheck().assess(
        HealthReport("auth-service", "healthy", "2.5.0", {"database": "healthy"}, {"redis": "healthy"}, "closed"),
        CTX)
    assert healthy.status is Status.OK and healthy.causes == ()
    sick = DependencyHealthCheck().assess(
        HealthReport("auth-service", "degraded", "2.5.0", {"database": "unhealthy"}, {"redis": "healthy"}, "open"),
        CTX)
    assert sick.status is Status.CRIT
    assert {c.key for c in sick.causes} == {"database", "circuit_open"}


def _logs() -> LogEvidence:
    trace = ["ERROR request_id=req-1234abcd POST /auth/validate 500 Unhandled exception: KeyError: 'kid'",
             "Traceback (most recent call last):", '  File "/app/auth/jwt.py", line 88, in validate',
             "KeyError: 'kid'"]
    lines = [LogLine("auth-service-7-x", "app", t) for t in trace * 30]
    lines += [LogLine("auth-service-7-x", "app", "INFO GET /health 200")] * 100
    return LogEvidence(tuple(lines), (), 1)


def test_error_logs_group_and_classify() -> None:
    finding = ErrorLogsCheck().assess(_logs(), CTX)
    assert finding.status is Status.CRIT
    assert finding.evidence[0].startswith("30x on 1 pod(s)")
    assert finding.causes[0].key == "code_bug" and finding.causes[0].supports == ("deploy",)


def test_verdict_folds_code_bug_into_the_deploy_and_ranks_it_first() -> None:
    findings = [
        ErrorRateCheck().assess(_errors(0.121, {500: 1000}), CTX),
        ErrorLogsCheck().assess(_logs(), CTX),
        RecentRolloutCheck().assess(RolloutEvidence(_deployment(7), _history(timedelta(minutes=20))), CTX),
    ]
    causes = rank_causes(findings, "error_rate", ["rollback"])
    top = causes[0]
    assert top.key == "deploy" and top.title.startswith("Bug in recent deployment: revision 7")
    assert top.confidence > 0.7
    assert any("KeyError" in line for line in top.evidence)
    assert [p.action for p in top.proposals] == ["rollback"]


def test_suspects_are_discounted_when_the_symptom_is_absent() -> None:
    findings = [
        ErrorRateCheck().assess(_errors(0.004, {500: 40}), CTX),
        RecentRolloutCheck().assess(RolloutEvidence(_deployment(7), _history(timedelta(minutes=20))), CTX),
    ]
    assert rank_causes(findings, "error_rate", ["rollback"])[0].confidence < 0.2


def test_proposals_outside_the_runbook_are_dropped() -> None:
    findings = [RecentRolloutCheck().assess(RolloutEvidence(_deployment(7), _history(timedelta(minutes=5))), CTX)]
    assert rank_causes(findings, "error_rate", [])[0].proposals == ()


def test_a_sweep_does_not_discount_suspects_for_a_healthy_first_check() -> None:
    findings = [
        ErrorRateCheck().assess(_errors(0.004, {500: 40}), CTX),
        RecentRolloutCheck().assess(RolloutEvidence(_deployment(7), _history(timedelta(minutes=20))), CTX),
    ]
    discounted = rank_causes(findings, "error_rate", ["rollback"])[0].confidence
    swept = rank_causes(findings, None, ["rollback"])[0].confidence
    assert swept == 0.5 and discounted < swept


def test_a_diagnosis_of_ok_and_no_data_findings_is_ok() -> None:
    target = Target("auth-service", "default", "app=auth-service", "auth-service")
    ok = Finding("a", "A", Status.OK, "fine")
    empty = Finding("b", "B", Status.NO_DATA, "nothing")
    assert Diagnosis(target, Symptom.HIGH_LATENCY, (empty, ok), (), None, 1.0).status is Status.OK
    assert Diagnosis(target, Symptom.HIGH_LATENCY, (empty,), (), None, 1.0).status is Status.NO_DATA
    warn = Finding("c", "C", Status.WARN, "hm")
    assert Diagnosis(target, Symptom.HIGH_LATENCY, (empty, ok, warn), (), None, 1.0).status is Status.WARN
