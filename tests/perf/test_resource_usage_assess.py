"""`resource_usage` assess: CPU vs limits (saturation, throttling, bounded scale-out) and memory vs limits."""

from bot.checks.resource_usage import ResourceEvidence, ResourceUsageCheck
from bot.model import Status
from tests.perf.records import GIB, MIB, ctx, hpa, pod, usage

CHECK = ResourceUsageCheck()


def _evidence(cpus: list[float], memories: list[int] | None = None, **kwargs: object) -> ResourceEvidence:
    names = [f"dp-{i}" for i in range(len(cpus))]
    memories = memories or [800 * MIB] * len(cpus)
    pods = tuple(pod(n) for n in names)
    samples = tuple(usage(n, cpu=c, memory=m) for n, c, m in zip(names, cpus, memories, strict=True))
    kwargs.setdefault("replicas", len(cpus))
    return ResourceEvidence(pods, samples, **kwargs)  # type: ignore[arg-type]


def test_mean_cpu_at_the_threshold_is_saturation_with_a_bounded_scale_out() -> None:
    finding = CHECK.assess(_evidence([1.6, 1.6, 1.6]), ctx())  # exactly 80 % of a 2-core limit
    assert finding.status is Status.CRIT
    (cause,) = finding.causes
    assert cause.key == "cpu_saturation" and cause.confidence == 0.7
    (proposal,) = cause.proposals
    assert proposal.action == "scale" and proposal.params == {"replicas": "4"}  # at least one more pod
    assert "no HPA" in " ".join(cause.evidence)


def test_just_under_the_threshold_is_fine() -> None:
    finding = CHECK.assess(_evidence([1.59, 1.59, 1.59]), ctx())
    assert finding.status is Status.OK and finding.causes == ()


def test_pods_at_the_limit_are_called_throttled_honestly() -> None:
    finding = CHECK.assess(_evidence([1.95, 1.9, 1.7, 1.7]), ctx())
    cause = finding.causes[0]
    assert cause.confidence == 0.8
    throttling = next(line for line in cause.evidence if "throttled" in line)
    assert throttling.startswith("2 pods use >= 95.0 %") and "no throttling counter" in throttling
    assert next(f for f in finding.facts if f.label.startswith("pods at the CPU limit")).value == "2 of 4"


def test_scale_out_follows_the_hpa_rule_and_stops_at_the_hpa_maximum() -> None:
    # 10 pods at 96 %: ceil(10 * 0.96 / 0.8) = 12, but the HPA allows at most 11.
    finding = CHECK.assess(_evidence([1.92] * 10, hpa=hpa(10, 11)), ctx())
    assert finding.causes[0].proposals[0].params == {"replicas": "11"}
    # With no HPA the guide's 20 is the ceiling: 18 pods at 96 % would want 22.
    finding = CHECK.assess(_evidence([1.92] * 18), ctx())
    assert finding.causes[0].proposals[0].params == {"replicas": "20"}


def test_no_scale_proposal_when_the_hpa_is_at_its_maximum_or_unknown() -> None:
    at_max = CHECK.assess(_evidence([1.9] * 15, hpa=hpa(15, 15, util=190)), ctx())
    cause = at_max.causes[0]
    assert cause.key == "cpu_saturation" and cause.proposals == ()
    assert any("HPA at its maximum (15/15)" in line for line in cause.evidence)
    unknown = CHECK.assess(_evidence([1.9] * 3, hpa_error="kubernetes: HTTP 403 Forbidden"), ctx())
    assert unknown.causes[0].proposals == ()


def test_one_hot_pod_is_uneven_load_not_service_saturation() -> None:
    finding = CHECK.assess(_evidence([1.9, 0.4, 0.4]), ctx())
    assert finding.status is Status.WARN
    cause = finding.causes[0]
    assert cause.title.startswith("Uneven load: 1 of 3") and cause.confidence < 0.5 and cause.proposals == ()


def test_memory_near_the_limit_is_pressure_that_supports_a_leak() -> None:
    finding = CHECK.assess(_evidence([0.5, 0.5], [int(1.85 * GIB), 900 * MIB]), ctx())  # 92.5 % of 2Gi
    assert finding.status is Status.CRIT
    (cause,) = finding.causes
    assert cause.key == "memory_pressure" and cause.supports == ("memory_leak",)
    assert [p.label for p in cause.proposals] == ["delete-pod pod=dp-0", "memory-bump limit=4Gi minutes=60"]
    assert cause.evidence == ("dp-0: 1,894 MiB of 2,048 MiB (92.5 %)",)


def test_memory_below_the_line_but_within_ten_points_warns() -> None:
    finding = CHECK.assess(_evidence([0.5], [int(1.7 * GIB)]), ctx())  # 85 %
    assert finding.status is Status.WARN and finding.causes == ()


def test_no_limits_or_requests_is_no_data_not_ok() -> None:
    pods = (pod("dp-0", cpu_limit=None, memory_limit=None, cpu_request=None),)
    finding = CHECK.assess(ResourceEvidence(pods, (usage("dp-0", cpu=3.0),)), ctx())
    assert finding.status is Status.NO_DATA and finding.causes == ()
    assert "No CPU limit or request set" in finding.summary and "No memory limit set" in finding.summary
    facts = {f.label: f for f in finding.facts}
    assert facts["CPU limit"].value.startswith("none set") and facts["memory limit"].value.startswith("none set")


def test_no_cpu_limit_compares_with_requests_as_the_hpa_does() -> None:
    pods = tuple(pod(f"dp-{i}", cpu_limit=None) for i in range(2))
    busy = CHECK.assess(ResourceEvidence(pods, (usage("dp-0", cpu=0.9), usage("dp-1", cpu=0.8))), ctx())
    assert busy.status is Status.WARN  # 85 % of the 1-core requests; never critical without a quota
    assert {f.label: f.value for f in busy.facts}["CPU of request (mean, as the HPA measures)"] == "85.0 %"
    assert "No CPU limit set" in busy.summary and busy.causes == ()
    idle = CHECK.assess(ResourceEvidence(pods, (usage("dp-0", cpu=0.2), usage("dp-1", cpu=0.2))), ctx())
    assert idle.status is Status.OK  # judged against the requests, and within them
    assert "No CPU limit set; CPU at 20.0 % of the requests" in idle.summary


def test_the_scale_proposal_starts_from_the_deployments_replicas() -> None:
    # 3 pods report metrics at 90 %, but the deployment already runs 5 replicas (2 just started): the
    # HPA rule gives ceil(3 * 0.9 / 0.8) = 4 from the sampled pods, fewer than running; from 5 it is 6.
    finding = CHECK.assess(_evidence([1.8, 1.8, 1.8], replicas=5), ctx())
    assert finding.causes[0].proposals[0].params == {"replicas": "6"}
    assert "5 -> 6 pods" in finding.causes[0].proposals[0].reason
    unknown = CHECK.assess(_evidence([1.8, 1.8, 1.8], replicas=None), ctx())
    assert unknown.causes[0].proposals == ()


def test_no_samples_is_no_data() -> None:
    finding = CHECK.assess(ResourceEvidence((pod("dp-0"),), ()), ctx())
    assert finding.status is Status.NO_DATA and "(1 listed by the API server)" in finding.summary
