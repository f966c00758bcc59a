"""The network scenarios diagnosed through their runbooks against the in-process sandbox (Kubernetes
API and metrics API over HTTP, cluster DNS over UDP): each ranks its planted cause first; a source that
fails or never answers yields its own finding while the others still arrive."""

import socket
import time
from pathlib import Path

import pytest
import yaml

from bot.model import Status, Symptom
from bot.sandbox.coredns import NAMESPACE as KUBE_SYSTEM
from bot.sandbox.coredns import SELECTOR as COREDNS
from bot.sandbox.dns_server import SandboxDnsServer
from bot.sandbox.kube.workloads import pod_is_ready
from bot.sandbox.runner import Sandbox
from bot.sandbox.scenario import list_scenarios, load_scenario
from tests.net.platform import finding, platform

PLATFORM_SERVICES = {"api-gateway", "auth-service", "data-processor", "business-logic"}


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unreachable_kubeconfig(sandbox: Sandbox, path: Path) -> Path:
    config = sandbox.kubeconfig()
    config["clusters"] = [{"name": "opsbot-sandbox", "cluster": {"server": f"http://127.0.0.1:{closed_port()}"}}]
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["dns-failure", "upstream-timeouts"])
def test_scenarios_are_listed_and_complete(name: str) -> None:
    assert name in dict(list_scenarios())
    assert {s.name for s in load_scenario(name).services} == PLATFORM_SERVICES


def test_coredns_is_healthy_unless_the_scenario_says_otherwise() -> None:
    for name, _ in list_scenarios():
        with Sandbox(name) as sandbox:
            pods = sandbox.cluster.list("Pod", KUBE_SYSTEM, label_selector=COREDNS)
            assert len(pods) == 2
            assert all(pod_is_ready(p) for p in pods) is (name != "dns-failure"), name


async def test_dns_failure_ranks_coredns_down_first(tmp_path: Path) -> None:
    with Sandbox("dns-failure") as sandbox:
        async with platform(sandbox, tmp_path) as deps:
            diag = await deps.diagnose("api-gateway", Symptom.DNS_FAILURE)
    top = diag.likely_cause
    assert top is not None and top.key == "coredns_down"
    assert any("[FATAL] plugin/loop: Loop" in line for line in top.evidence)
    resolution = finding(diag, "dns_resolution")
    assert resolution.status is Status.CRIT
    assert resolution.summary == f"9 of 9 lookups failed via 127.0.0.1:{sandbox.dns_port}: 9 timed out."
    # The Services themselves are fine: the names lead somewhere once DNS answers.
    assert finding(diag, "service_endpoints").status is Status.OK
    assert finding(diag, "coredns").status is Status.CRIT


async def test_upstream_timeouts_ranks_data_processor_first(tmp_path: Path) -> None:
    with Sandbox("upstream-timeouts") as sandbox:
        async with platform(sandbox, tmp_path) as deps:
            diag = await deps.diagnose("business-logic", Symptom.TIMEOUT)
    top = diag.likely_cause
    assert top is not None and top.key == "upstream_timeout"
    assert top.title.startswith("Upstream data-processor times out")
    assert any("504 Upstream data-processor timed out after 30s" in line for line in top.evidence)
    # Latency's and health's "slow dependency" and the half-open breaker fold into the same explanation.
    assert any("data-processor P95" in line for line in top.evidence)
    assert all(c.key != "dependency" for c in diag.causes)
    timeouts = finding(diag, "timeouts")
    assert timeouts.status is Status.CRIT
    facts = {f.label: f.value for f in timeouts.facts}
    assert facts["P99"].startswith("29,300 ms (97.7 %")
    assert timeouts.evidence[0].startswith("data-processor: ")
    assert finding(diag, "circuit_breaker").status is Status.WARN


async def test_a_selector_changed_by_a_refactor_leaves_no_endpoints(tmp_path: Path) -> None:
    data = yaml.safe_load(Path("bot/sandbox/scenarios/healthy.yaml").read_text(encoding="utf-8"))
    auth = next(s for s in data["services"] if s["name"] == "auth-service")
    auth["service"] = {"selector": {"app": "auth-svc"}}
    variant = tmp_path / "renamed-selector.yaml"
    variant.write_text(yaml.safe_dump(data), encoding="utf-8")
    with Sandbox(str(variant)) as sandbox:
        async with platform(sandbox, tmp_path) as deps:
            diag = await deps.diagnose("auth-service", Symptom.DNS_FAILURE)
    top = diag.likely_cause
    assert top is not None and top.key == "no_endpoints"
    assert "selector app=auth-svc matches no pods" in top.title and "app=auth-service" in top.title
    # DNS itself answers, so the suspect is discounted: the name resolves, it just leads nowhere.
    assert finding(diag, "dns_resolution").status is Status.OK
    assert top.confidence == pytest.approx(0.8 * 0.3)


async def test_the_healthy_platform_claims_no_network_cause(tmp_path: Path) -> None:
    with Sandbox("healthy") as sandbox:
        async with platform(sandbox, tmp_path) as deps:
            dns = await deps.diagnose("api-gateway", Symptom.DNS_FAILURE)
            slow = await deps.diagnose("business-logic", Symptom.TIMEOUT)
    assert dns.causes == ()
    assert {f.status for f in dns.findings} == {Status.OK}
    for check in ("timeouts", "dependency_health", "circuit_breaker"):
        assert finding(slow, check).status is Status.OK
    # The baseline's P95 sits on the 150 ms alert line (the latency check's business); with no request
    # anywhere near the timeout, any suspect it names is discounted to a low confidence.
    assert all(cause.confidence < 0.3 for cause in slow.causes)


async def test_a_resolver_outside_the_cluster_is_no_data_not_a_dns_failure(tmp_path: Path) -> None:
    """The bot run outside the cluster without dns.nameservers: its resolver (a real DNS server here, serving
    another zone, as an office or cloud resolver does) knows no cluster name. That is nothing to judge, not
    a critical DNS failure, and no name is blamed."""
    with Sandbox("healthy") as sandbox, SandboxDnsServer(sandbox.cluster, cluster_domain="corp.example") as other:
        config = tmp_path / "ops.yaml"
        config.write_text(yaml.safe_dump({"dns": {"nameservers": ["127.0.0.1"], "port": other.port}}))
        async with platform(sandbox, tmp_path, ops_config=config) as deps:
            diag = await deps.diagnose("api-gateway", Symptom.DNS_FAILURE)
    resolution = finding(diag, "dns_resolution")
    assert resolution.status is Status.NO_DATA
    assert "not the cluster's DNS" in resolution.summary
    assert "dns_unresolvable" not in {c.key for c in diag.causes}
    assert diag.status is not Status.CRIT


async def test_a_dns_server_that_never_answers_is_reported_within_the_timeout(tmp_path: Path) -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    ops = tmp_path / "silent-dns.yaml"
    ops.write_text(yaml.safe_dump({"dns": {"nameservers": ["127.0.0.1"], "port": silent.getsockname()[1],
                                           "timeout_s": 0.5}}), encoding="utf-8")
    try:
        with Sandbox("healthy") as sandbox:
            async with platform(sandbox, tmp_path, ops_config=ops) as deps:
                started = time.perf_counter()
                diag = await deps.diagnose("api-gateway", Symptom.DNS_FAILURE)
                elapsed = time.perf_counter() - started
    finally:
        silent.close()
    resolution = finding(diag, "dns_resolution")
    assert resolution.status is Status.CRIT
    assert "timed out" in resolution.summary
    assert elapsed < deps.config.diagnosis.check_timeout_s
    assert diag.likely_cause is not None and diag.likely_cause.key == "dns_server_failing"
    # The Kubernetes side still answered.
    assert finding(diag, "service_endpoints").status is Status.OK
    assert finding(diag, "coredns").status is Status.OK


async def test_dns_checks_still_arrive_when_the_api_server_is_unreachable(tmp_path: Path) -> None:
    with Sandbox("healthy") as sandbox:
        broken = unreachable_kubeconfig(sandbox, tmp_path / "broken-kubeconfig")
        async with platform(sandbox, tmp_path, kubeconfig=broken) as deps:
            diag = await deps.diagnose("api-gateway", Symptom.DNS_FAILURE)
    assert finding(diag, "service_endpoints").status is Status.ERROR
    assert "API server unreachable" in finding(diag, "coredns").summary
    assert finding(diag, "dns_resolution").status is Status.OK


async def test_timeout_checks_still_arrive_when_one_source_fails(tmp_path: Path) -> None:
    with Sandbox("upstream-timeouts") as sandbox:
        broken = unreachable_kubeconfig(sandbox, tmp_path / "broken-kubeconfig")
        async with platform(sandbox, tmp_path, kubeconfig=broken) as deps:
            no_kube = await deps.diagnose("business-logic", Symptom.TIMEOUT)
        async with platform(sandbox, tmp_path, metrics_url=f"http://127.0.0.1:{closed_port()}") as deps:
            no_metrics = await deps.diagnose("business-logic", Symptom.TIMEOUT)
    # The logs are unreadable, so the timeouts check cannot judge; the health endpoint still answers.
    assert finding(no_kube, "timeouts").status is Status.ERROR
    assert finding(no_kube, "circuit_breaker").status is Status.WARN
    assert finding(no_kube, "dependency_health").status is Status.CRIT
    assert no_kube.likely_cause is not None and no_kube.likely_cause.key == "dependency"
    # With the metrics API gone every check that reads it says so, and the diagnosis still completes;
    # long_queries reads PostgreSQL, not configured here.
    assert {f.check: f.status for f in no_metrics.findings} == {
        "timeouts": Status.ERROR, "latency": Status.ERROR, "dependency_health": Status.ERROR,
        "circuit_breaker": Status.ERROR, "long_queries": Status.NO_DATA}
    assert all("metrics API" in f.summary for f in no_metrics.findings if f.check != "long_queries")
