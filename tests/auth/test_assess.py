"""Pure `assess` of the authentication checks over hand-built evidence."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.checks.access_policy import AccessPolicyCheck, denials
from bot.checks.base import CheckContext
from bot.checks.clock_skew import ClockEvidence, ClockSkewCheck, PodClock, app_time, offsets
from bot.checks.error_logs import LogEvidence
from bot.checks.forbidden_share import ForbiddenShareCheck
from bot.checks.jwt_reasons import JwtReasonsCheck, classify
from bot.checks.status_share import ShareEvidence, trend
from bot.checks.unauthorized_share import UnauthorizedShareCheck
from bot.config import load_ops_config
from bot.engine import context_for
from bot.model import Status
from bot.sources.records import EndpointErrors, ErrorStats, LogLine

NOW = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)


def ctx(service: str = "auth-service") -> CheckContext:
    config = load_ops_config(None)
    return context_for(config, config.target(service), now=NOW)


def stats(period: str, requests: int, by_status: dict[int, int], endpoints: list[EndpointErrors]) -> ErrorStats:
    errors = sum(by_status.values())
    return ErrorStats("auth-service", period, requests, errors, errors / requests if requests else 0.0,
                      by_status, tuple(endpoints), ())


def ep(endpoint: str, requests: int, by_status: dict[int, int]) -> EndpointErrors:
    return EndpointErrors(endpoint, requests, sum(by_status.values()), by_status)


def log(text: str, pod: str = "auth-service-abc-1") -> LogLine:
    return LogLine(pod=pod, container="app", text=text)


# --- unauthorized_share / forbidden_share -------------------------------------------------------------


def test_401_surge_is_critical_names_the_endpoint_and_rises_against_the_hour() -> None:
    current = stats("15m", 10_000, {401: 1_200, 500: 100},
                    [ep("POST /auth/validate", 7_000, {401: 1_100, 500: 60}),
                     ep("POST /auth/token", 3_000, {401: 100})])
    baseline = stats("1h", 40_000, {401: 1_600, 500: 400}, [])
    finding = UnauthorizedShareCheck().assess(ShareEvidence(current, baseline), ctx())
    assert finding.status is Status.CRIT
    assert "12.0 %" in finding.summary and "POST /auth/validate" in finding.summary
    assert finding.evidence[0].startswith("POST /auth/validate: 1,100 401s of 7,000")
    facts = {f.label: f.value for f in finding.facts}
    assert facts["share of errors"] == "92.3 %"
    assert facts["trend"].startswith("rising (12.0 % vs 4.0 % over 1h)")
    # A critical share is an explanation of its own (the sweep has no log reasons); in the auth runbook it
    # folds into the reason jwt_reasons finds.
    assert [c.key for c in finding.causes] == ["jwt_rejected"]
    assert "jwt_expired" in finding.causes[0].supports and finding.causes[0].proposals == ()


def test_background_401s_are_ok_and_steady() -> None:
    current = stats("15m", 10_000, {401: 30}, [ep("POST /auth/validate", 10_000, {401: 30})])
    baseline = stats("1h", 40_000, {401: 110}, [])
    finding = UnauthorizedShareCheck().assess(ShareEvidence(current, baseline), ctx())
    assert finding.status is Status.OK
    assert {f.label: f.value for f in finding.facts}["trend"].startswith("steady")


def test_no_traffic_is_no_data() -> None:
    empty = stats("15m", 0, {}, [])
    assert UnauthorizedShareCheck().assess(ShareEvidence(empty, empty), ctx()).status is Status.NO_DATA


@pytest.mark.parametrize(
    ("now_share", "before_share", "expected"),
    [(0.10, 0.04, "rising"), (0.01, 0.04, "falling"), (0.05, 0.04, "steady"), (0.02, 0.0, "rising")],
)
def test_trend_compares_shares(now_share: float, before_share: float, expected: str) -> None:
    current = stats("15m", 1000, {401: round(1000 * now_share)}, [])
    baseline = stats("1h", 1000, {401: round(1000 * before_share)}, [])
    assert trend(current, baseline, 401) == expected


def test_forbidden_share_counts_403s_by_endpoint() -> None:
    current = stats("15m", 20_000, {403: 900, 404: 300},
                    [ep("GET /orders", 12_000, {404: 300}), ep("POST /orders", 8_000, {403: 900})])
    finding = ForbiddenShareCheck().assess(ShareEvidence(current, current), ctx("business-logic"))
    assert finding.status is Status.WARN  # 4.5 %: above half the 5 % threshold
    assert finding.evidence == ("POST /orders: 900 403s of 8,000 (11.2 %)",)
    assert "trend" not in {f.label for f in finding.facts}  # same window: no trend to speak of


# --- jwt_reasons --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("WARN [auth] request_id=req-1 POST /auth/validate 401 Invalid JWT token: token expired", "expired"),
        ("401 Unauthorized: jwt.exceptions.ExpiredSignatureError", "expired"),
        ("Invalid JWT token: signature verification failed", "signature"),
        ("Invalid JWT token: malformed token, not enough segments", "format"),
        ("Invalid JWT token: token blacklisted after logout", "blacklisted"),
        ("Invalid JWT token: revoked", "blacklisted"),
        ("Invalid JWT token: unsupported algorithm RS512", "unsupported alg"),
        ("401 no signing key for kid k-2026-11", "missing kid"),
        ("Invalid JWT token: token not yet valid (nbf)", "not yet valid"),
        ("Too many token requests for client_id=mobile-app", None),  # a 429, not a rejected token
        ("INFO issued token expires_in=3600", None),
        ("jwks cache refreshed keys=3 age=300s", None),
    ],
)
def test_reasons_are_classified(text: str, reason: str | None) -> None:
    found = classify(text)
    assert (found.name if found else None) == reason


def _reason_logs(expired: int, signature: int, other: int = 900) -> LogEvidence:
    lines = [log("401 Invalid JWT token: token expired 2h ago", f"p{i % 3}") for i in range(expired)]
    lines += [log("401 Invalid JWT token: signature verification failed") for _ in range(signature)]
    lines += [log("INFO request_id=req-9 POST /auth/validate 200 12ms") for _ in range(other)]
    return LogEvidence(tuple(lines), (), 3)


def test_dominant_reason_is_the_strongest_cause_and_expiry_defers_to_a_clock() -> None:
    finding = JwtReasonsCheck().assess(_reason_logs(expired=80, signature=20), ctx())
    assert finding.status is Status.CRIT  # 100 of 1000 lines
    causes = {c.key: c for c in finding.causes}
    assert set(causes) == {"jwt_expired", "jwt_signature"}
    assert causes["jwt_expired"].confidence > causes["jwt_signature"].confidence
    assert causes["jwt_expired"].supports == ("clock_skew",)
    assert "80 (80.0 %)" in {f.value for f in finding.facts}


def test_a_handful_of_rejections_is_background() -> None:
    finding = JwtReasonsCheck().assess(_reason_logs(expired=2, signature=0), ctx())
    assert finding.status is Status.OK and finding.causes == ()


def test_a_healthy_auth_services_stale_tokens_stay_ok() -> None:
    # 6 rejections in 3,000 lines (0.2 %), as the healthy scenario logs: not a surge, whatever the 5 % is of.
    finding = JwtReasonsCheck().assess(_reason_logs(expired=3, signature=3, other=2_994), ctx())
    assert finding.status is Status.OK and finding.causes == ()
    assert finding.facts[0].value == "6 of 3,000 (0.2 %)"


def test_rejections_between_one_and_ten_percent_of_lines_warn() -> None:
    finding = JwtReasonsCheck().assess(_reason_logs(expired=40, signature=0, other=960), ctx())  # 4 %
    assert finding.status is Status.WARN and [c.key for c in finding.causes] == ["jwt_expired"]


def test_unreadable_logs_are_an_error_not_ok() -> None:
    finding = JwtReasonsCheck().assess(LogEvidence((), ("auth-service-abc-1/app",), 1), ctx())
    assert finding.status is Status.ERROR


# --- clock_skew ---------------------------------------------------------------------------------------


def test_app_time_reads_the_services_timestamp_formats() -> None:
    assert app_time("2026-11-28T10:07:12.431Z ERROR [auth-service] x") == datetime(
        2026, 11, 28, 10, 7, 12, 431000, tzinfo=UTC)
    assert app_time("2026-11-28 11:07:12,5+01:00 INFO y") == datetime(2026, 11, 28, 10, 7, 12, 500000, tzinfo=UTC)
    assert app_time("[2026-11-28T10:07:12Z] z") == datetime(2026, 11, 28, 10, 7, 12, tzinfo=UTC)
    assert app_time("  File \"/app/auth/jwt.py\", line 88") is None


def test_offsets_pair_app_and_runtime_timestamps() -> None:
    runtime = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)
    lines = [
        LogLine("p", "app", "2026-11-28T10:06:40.000Z INFO [auth-service] ok", ts=runtime),
        LogLine("p", "app", "Traceback (most recent call last):", ts=runtime),
        LogLine("p", "app", "2026-11-28T10:06:40.000Z INFO [auth-service] no runtime ts"),
    ]
    assert offsets(lines) == (400.0,)


def _clock(pod: str, skew: float, node: str = "node-a") -> PodClock:
    return PodClock(pod, node, tuple(skew + jitter for jitter in (-0.002, 0.0, 0.001, 0.003, -0.001)))


def test_a_clock_far_outside_the_leeway_is_the_cause() -> None:
    evidence = ClockEvidence((_clock("auth-1", 0.0), _clock("auth-2", 400.0, "node-b")), ())
    finding = ClockSkewCheck().assess(evidence, ctx())
    assert finding.status is Status.CRIT
    assert "auth-2 (node node-b) clock is 400.0 s ahead" in finding.summary
    (cause,) = finding.causes
    assert cause.key == "clock_skew" and cause.confidence >= 0.7
    assert "expired" in cause.title


def test_a_clock_behind_makes_tokens_not_yet_valid() -> None:
    finding = ClockSkewCheck().assess(ClockEvidence((_clock("auth-1", -45.0),), ()), ctx())
    assert finding.status is Status.CRIT and "behind" in finding.summary
    assert "not yet valid" in finding.causes[0].title


def test_skew_inside_the_leeway_warns_without_a_cause() -> None:
    finding = ClockSkewCheck().assess(ClockEvidence((_clock("auth-1", 18.0), _clock("auth-2", 0.1)), ()), ctx())
    assert finding.status is Status.WARN and finding.causes == ()
    assert ClockSkewCheck().assess(ClockEvidence((_clock("auth-1", 2.0),), ()), ctx()).status is Status.OK


def test_too_few_timestamped_lines_measure_nothing() -> None:
    evidence = ClockEvidence((PodClock("auth-1", None, (400.0, 401.0)),), ("auth-2",))
    assert ClockSkewCheck().assess(evidence, ctx()).status is Status.ERROR


def test_the_leeway_is_the_configured_threshold() -> None:
    strict = ctx()
    strict = CheckContext(strict.target, strict.thresholds.model_copy(update={"clock_skew_s": 5.0}),
                          strict.diagnosis, strict.dependencies, strict.now, strict.access_policy)
    assert ClockSkewCheck().assess(ClockEvidence((_clock("auth-1", 18.0),), ()), strict).status is Status.CRIT


# --- access_policy ------------------------------------------------------------------------------------


def _denial_logs() -> LogEvidence:
    lines = [log(f"WARN [business-logic] request_id=req-{i:06d} POST /orders 403 Permission denied: role viewer "
                 "lacks write:orders (client_id=partner-portal)", "bl-1") for i in range(40)]
    lines += [log("WARN [business-logic] request_id=req-000999 POST /orders 403 Permission denied: role editor "
                  "lacks write:discounts", "bl-2") for _ in range(5)]
    lines += [log("INFO [business-logic] request_id=req-000100 GET /orders 200 40ms") for _ in range(400)]
    return LogEvidence(tuple(lines), (), 2)


def test_denials_are_counted_by_role_and_permission_with_endpoints() -> None:
    found = denials(_denial_logs())
    assert [(d.role, d.permission, d.count) for d in found] == [("viewer", "write:orders", 40),
                                                                ("editor", "write:discounts", 5)]
    assert found[0].endpoints == ("POST /orders",)


def test_missing_permission_names_the_role_that_grants_it() -> None:
    finding = AccessPolicyCheck().assess(_denial_logs(), ctx("business-logic"))
    assert finding.status is Status.CRIT  # 45 of 445 lines
    (cause,) = finding.causes
    assert cause.key == "missing_permission"
    assert "viewer lacks write:orders" in cause.title and "grant editor" in cause.title
    assert any("granted by editor, admin" in line for line in cause.evidence)
    assert {f.label: f.value for f in finding.facts}["granted by"] == "editor, admin"


def test_a_role_unknown_to_the_policy_is_said() -> None:
    lines = tuple(log("403 Permission denied: role support lacks write:orders") for _ in range(5))
    finding = AccessPolicyCheck().assess(LogEvidence(lines, (), 1), ctx("business-logic"))
    assert "role support is not in the access policy" in finding.summary
    assert "editor, admin grant write:orders" in finding.summary


def test_a_denial_the_policy_allows_points_at_policy_drift() -> None:
    lines = tuple(log("403 Permission denied: role editor lacks read:orders") for _ in range(5))
    finding = AccessPolicyCheck().assess(LogEvidence(lines, (), 1), ctx("business-logic"))
    assert "differ from the ops config" in finding.summary


def test_no_denials_is_ok() -> None:
    lines = tuple(log("INFO GET /orders 200 12ms") for _ in range(50))
    finding = AccessPolicyCheck().assess(LogEvidence(lines, (), 1), ctx("business-logic"))
    assert finding.status is Status.OK and finding.causes == ()



def test_a_critical_403_share_is_a_permission_cause_without_a_proposal() -> None:
    current = stats("15m", 10_000, {403: 900}, [ep("POST /orders", 4_000, {403: 880})])
    finding = ForbiddenShareCheck().assess(ShareEvidence(current, stats("1h", 40_000, {403: 400}, [])), ctx())
    assert finding.status is Status.CRIT
    assert [(c.key, c.supports, c.proposals) for c in finding.causes] == [
        ("permission_refused", ("missing_permission",), ())]
    below = stats("15m", 10_000, {403: 300}, [ep("POST /orders", 4_000, {403: 300})])
    assert ForbiddenShareCheck().assess(ShareEvidence(below, below), ctx()).causes == ()


SERVER_NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _node_clock(pod: str, node: str, newest_after_s: float, app_skew: float = 0.0) -> PodClock:
    """A pod whose app and runtime timestamps agree (`app_skew` apart), its newest line stamped
    `newest_after_s` after the API server's clock (negative: before)."""
    clock = _clock(pod, app_skew, node)
    return replace(clock, newest=SERVER_NOW + timedelta(seconds=newest_after_s))


def test_a_node_clock_ahead_is_seen_though_in_pod_timestamps_agree() -> None:
    evidence = ClockEvidence((_node_clock("auth-1", "node-a", -0.5), _node_clock("auth-2", "node-b", 121.0)), (),
                             server_time=SERVER_NOW)
    finding = ClockSkewCheck().assess(evidence, ctx())
    assert finding.status is Status.CRIT
    facts = {f.label: f for f in finding.facts}
    assert facts["worst skew"].status is Status.OK  # the in-pod measure cannot see it, and says nothing
    assert facts["node clock ahead (at least)"].value == "120.0 s (node-b)"  # one second for the Date header
    (cause,) = finding.causes
    assert cause.key == "clock_skew" and "node node-b" in cause.title and "at least 120.0 s ahead" in cause.title
    assert any("node node-a (1 pod(s)): newest line 1.5 s before" in line and "at most that behind" in line
               for line in finding.evidence)


def test_the_node_measure_judges_when_no_line_carries_an_application_timestamp() -> None:
    bare = replace(PodClock("auth-1", "node-a", ()), newest=SERVER_NOW - timedelta(seconds=2))
    finding = ClockSkewCheck().assess(ClockEvidence((bare,), (), server_time=SERVER_NOW), ctx())
    assert finding.status is Status.OK
    assert "No node clock is ahead of the API server's by more than 15 s." in finding.summary


def test_a_quiet_node_is_not_called_behind() -> None:
    evidence = ClockEvidence((_node_clock("auth-1", "node-a", -600.0),), (), server_time=SERVER_NOW)
    finding = ClockSkewCheck().assess(evidence, ctx())
    assert finding.status is Status.OK and finding.causes == ()
    assert any("cannot tell apart" in line for line in finding.evidence)


def test_an_unreadable_server_clock_keeps_the_in_pod_measure_and_says_so() -> None:
    evidence = ClockEvidence((_clock("auth-1", 400.0),), (), server_error="kubernetes: HTTP 403 Forbidden")
    finding = ClockSkewCheck().assess(evidence, ctx())
    assert finding.status is Status.CRIT and finding.causes[0].key == "clock_skew"
    assert finding.evidence[-1] == "node clocks not measured: kubernetes: HTTP 403 Forbidden"
