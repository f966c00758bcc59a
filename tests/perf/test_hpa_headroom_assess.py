"""`hpa_headroom` assess: at max (the HPA cannot help), headroom, scaling up, not able to scale, no HPA."""

from dataclasses import replace

from bot.checks.hpa_headroom import HpaEvidence, HpaHeadroomCheck
from bot.model import Status
from bot.sources.records import DeploymentInfo
from tests.perf.records import ctx, hpa

CHECK = HpaHeadroomCheck()
DEPLOYMENT = DeploymentInfo("data-processor", "default", "uid-1", 4, 4, 4, 15, 15, 15, 15,
                            ("registry.example.com/data-processor:1.9.0",), False, "1.9.0", ())


def test_at_max_and_busy_is_critical_and_proposes_no_scale() -> None:
    finding = CHECK.assess(HpaEvidence(DEPLOYMENT, hpa(15, 15, util=181, limited=True)), ctx())
    assert finding.status is Status.CRIT
    assert "15/15" in finding.summary and "It cannot add pods" in finding.summary
    (cause,) = finding.causes
    assert cause.key == "hpa_at_max" and cause.supports == ("cpu_saturation",) and cause.proposals == ()
    assert cause.confidence == 0.6
    assert any("maxReplicas" in line and "would be undone by the HPA" in line for line in cause.evidence)


def test_scaling_limited_counts_as_at_max_even_before_current_reaches_it() -> None:
    finding = CHECK.assess(HpaEvidence(DEPLOYMENT, hpa(14, 15, util=150, limited=True)), ctx())
    assert finding.causes[0].key == "hpa_at_max"


def test_at_max_but_below_target_is_a_weak_warning() -> None:
    finding = CHECK.assess(HpaEvidence(DEPLOYMENT, hpa(15, 15, util=55)), ctx())
    assert finding.status is Status.WARN and finding.causes[0].confidence == 0.3


def test_headroom_is_ok() -> None:
    finding = CHECK.assess(HpaEvidence(DEPLOYMENT, hpa(4, 12, util=48)), ctx())
    assert finding.status is Status.OK and finding.causes == ()
    assert finding.summary.startswith("HPA has headroom: 4 replicas of at most 12")


def test_above_target_under_max_is_scaling_up() -> None:
    info = replace(hpa(4, 12, util=95), desired_replicas=6)
    finding = CHECK.assess(HpaEvidence(DEPLOYMENT, info), ctx())
    assert finding.status is Status.WARN and "wants 6 replicas (now 4, max 12)" in finding.summary


def test_an_hpa_that_cannot_compute_is_said() -> None:
    info = replace(hpa(4, 12, util=None), conditions=(
        ("ScalingActive", "False", "FailedGetResourceMetric", "unable to get metrics for resource cpu"),))
    finding = CHECK.assess(HpaEvidence(DEPLOYMENT, info), ctx())
    assert finding.status is Status.WARN and finding.causes[0].key == "hpa_inactive"
    assert "FailedGetResourceMetric" in finding.summary


def test_no_hpa_is_said_plainly() -> None:
    finding = CHECK.assess(HpaEvidence(DEPLOYMENT, None), ctx())
    assert finding.status is Status.OK and "No HorizontalPodAutoscaler" in finding.summary
    assert "stays at 15 replicas" in finding.summary
