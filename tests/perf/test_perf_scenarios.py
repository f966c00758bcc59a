"""The performance runbooks against their sandbox scenarios: the planted cause ranks first, for the right
reason; a failing source yields an `error` finding while the other findings still arrive."""

from pathlib import Path

from bot.model import Diagnosis, Finding, Status, Symptom
from tests.perf.platform import UNREACHABLE, diagnose, sandbox


def _finding(diagnosis: Diagnosis, check: str) -> Finding:
    return next(f for f in diagnosis.findings if f.check == check)


async def test_memory_leak_scenario_points_at_the_leak(tmp_path: Path) -> None:
    async with sandbox("memory-leak") as running:
        result = await diagnose(running, tmp_path, "business-logic", Symptom.MEMORY_LEAK)
    top = result.likely_cause
    assert top is not None and top.key == "memory_leak"
    # The growth rate the scenario plants (300Mi/h) is what the pods' ages and the samples show.
    growth = next(f for f in _finding(result, "memory_trend").facts if f.label == "growth across pod ages")
    slope = int(growth.value.removeprefix("+").split(" ")[0].replace(",", ""))
    assert 270 <= slope <= 330
    assert any("OOMKilled (exit 137)" in line for line in top.evidence)
    assert {p.action for p in top.proposals} == {"delete-pod", "restart", "memory-bump"}


async def test_cpu_saturation_scenario_blames_cpu_with_the_hpa_at_max(tmp_path: Path) -> None:
    async with sandbox("cpu-saturation") as running:
        result = await diagnose(running, tmp_path, "data-processor", Symptom.CPU_SATURATION)
    top = result.likely_cause
    assert top is not None and top.key == "cpu_saturation"
    # The HPA at its maximum corroborates and explains why it persists; scaling above it would be undone.
    assert any("HPA at its maximum (15/15)" in line for line in top.evidence)
    assert top.proposals == ()
    assert _finding(result, "hpa_headroom").status is Status.CRIT


async def test_slow_dependency_scenario_names_the_slow_upstream(tmp_path: Path) -> None:
    async with sandbox("slow-dependency") as running:
        result = await diagnose(running, tmp_path, "api-gateway", Symptom.HIGH_LATENCY)
    top = result.likely_cause
    assert top is not None and top.key == "dependency" and "business-logic" in top.title
    assert any(line.startswith("business-logic P95 455 ms") for line in top.evidence)
    # The local suspects are ruled out by the numbers, not left silent.
    assert _finding(result, "resource_usage").status is Status.OK
    assert _finding(result, "hpa_headroom").status is Status.OK


async def test_healthy_platform_has_no_latency_suspects(tmp_path: Path) -> None:
    async with sandbox("healthy") as running:
        result = await diagnose(running, tmp_path, "api-gateway", Symptom.HIGH_LATENCY)
    assert _finding(result, "latency").status is Status.OK
    assert all(c.confidence < 0.4 for c in result.causes)


async def test_high_latency_with_the_metrics_api_down_still_reports_kubernetes(tmp_path: Path) -> None:
    async with sandbox("slow-dependency") as running:
        result = await diagnose(running, tmp_path, "api-gateway", Symptom.HIGH_LATENCY, metrics_url=UNREACHABLE)
    latency = _finding(result, "latency")
    assert latency.status is Status.ERROR and "metrics API" in latency.summary
    assert _finding(result, "resource_usage").status is Status.OK
    assert _finding(result, "hpa_headroom").status is Status.OK


async def test_cpu_saturation_with_the_metrics_api_down_still_finds_saturation(tmp_path: Path) -> None:
    async with sandbox("cpu-saturation") as running:
        result = await diagnose(running, tmp_path, "data-processor", Symptom.CPU_SATURATION, metrics_url=UNREACHABLE)
    assert _finding(result, "latency").status is Status.ERROR
    assert result.likely_cause is not None and result.likely_cause.key == "cpu_saturation"


async def test_memory_leak_without_metrics_server_is_an_error_not_a_gap(tmp_path: Path) -> None:
    async with sandbox("memory-leak") as running:
        running.cluster.metrics_available = False
        result = await diagnose(running, tmp_path, "business-logic", Symptom.MEMORY_LEAK)
    for check in ("memory_trend", "resource_usage"):
        finding = _finding(result, check)
        assert finding.status is Status.ERROR and "metrics.k8s.io is not available" in finding.summary
    # The pods still tell of the OOM kill.
    assert _finding(result, "pod_status").status is not Status.ERROR
