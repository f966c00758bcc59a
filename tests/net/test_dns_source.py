"""DnsSource against the sandbox's DNS server over real UDP: answers, NXDOMAIN, SERVFAIL, silence."""

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.rcode
import pytest

from bot.config import load_ops_config
from bot.sandbox.coredns import NAMESPACE as KUBE_SYSTEM
from bot.sandbox.coredns import SELECTOR as COREDNS
from bot.sandbox.dns_server import SandboxDnsServer
from bot.sandbox.kube.cluster import FakeCluster
from bot.sandbox.runner import Sandbox
from bot.sources.dns import DnsSource, Outcome


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox("healthy") as running:
        yield running


def source_for(port: int, timeout_s: float = 1.0) -> DnsSource:
    return DnsSource(("127.0.0.1",), port, "cluster.local", timeout_s)


def cluster_ip(sandbox: Sandbox, name: str) -> str:
    service = sandbox.cluster.get("Service", "default", name)
    assert service is not None
    return str(service["spec"]["clusterIP"])


async def test_all_three_forms_resolve_to_the_cluster_ip(sandbox: Sandbox) -> None:
    results = await source_for(sandbox.dns_port).resolve_service("auth-service", "default")
    assert [r.name for r in results] == ["auth-service", "auth-service.default",
                                         "auth-service.default.svc.cluster.local"]
    for result in results:
        assert result.outcome is Outcome.RESOLVED
        assert result.addresses == (cluster_ip(sandbox, "auth-service"),)
        assert result.answered_as == "auth-service.default.svc.cluster.local"


async def test_short_names_expand_with_the_callers_namespace(sandbox: Sandbox) -> None:
    resolver = source_for(sandbox.dns_port)
    # From a pod in kube-system, `auth-service` is not a neighbour; `kube-dns` is.
    assert (await resolver.resolve("auth-service", "kube-system")).outcome is Outcome.NXDOMAIN
    found = await resolver.resolve("kube-dns", "kube-system")
    assert found.outcome is Outcome.RESOLVED and found.addresses == ("10.96.0.10",)
    assert (await resolver.resolve("auth-service.default", "kube-system")).outcome is Outcome.RESOLVED


async def test_unknown_name_is_nxdomain_after_every_search_domain(sandbox: Sandbox) -> None:
    before = sandbox.dns.queries
    result = await source_for(sandbox.dns_port).resolve("auth-svc", "default")
    assert result.outcome is Outcome.NXDOMAIN and result.addresses == ()
    assert sandbox.dns.queries - before == 4  # three search domains, then the name as given


async def test_a_deleted_service_stops_resolving_at_once() -> None:
    with Sandbox("healthy") as sandbox:
        resolver = source_for(sandbox.dns_port)
        assert (await resolver.resolve("data-processor", "default")).outcome is Outcome.RESOLVED
        sandbox.cluster.delete("Service", "default", "data-processor")
        assert (await resolver.resolve("data-processor", "default")).outcome is Outcome.NXDOMAIN


def _take_coredns_down(cluster: FakeCluster) -> None:
    for pod in cluster.list("Pod", KUBE_SYSTEM, label_selector=COREDNS):
        for condition in pod["status"]["conditions"]:
            if condition["type"] == "Ready":
                condition["status"] = "False"
        cluster.update(pod)


async def test_servfail_while_coredns_is_down() -> None:
    with Sandbox("healthy") as sandbox:
        sandbox.dns.when_down = "servfail"
        _take_coredns_down(sandbox.cluster)
        result = await source_for(sandbox.dns_port).resolve("auth-service", "default")
    assert result.outcome is Outcome.SERVFAIL
    assert "SERVFAIL" in result.detail
    assert result.duration_ms < 1000  # a SERVFAIL is an answer: no waiting for the deadline


async def test_no_answer_while_coredns_is_down_times_out_within_the_deadline() -> None:
    with Sandbox("healthy") as sandbox:
        _take_coredns_down(sandbox.cluster)
        started = time.perf_counter()
        results = await source_for(sandbox.dns_port, timeout_s=0.5).resolve_service("auth-service", "default")
        elapsed = time.perf_counter() - started
    assert {r.outcome for r in results} == {Outcome.TIMEOUT}
    # Three names in parallel, one deadline each, the whole search list included.
    assert elapsed < 1.5


async def test_a_server_that_never_answers_times_out() -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        result = await source_for(silent.getsockname()[1], timeout_s=0.4).resolve("auth-service", "default")
    finally:
        silent.close()
    assert result.outcome is Outcome.TIMEOUT
    assert "0.4 s" in result.detail


def test_candidates_follow_a_pods_resolv_conf() -> None:
    system = DnsSource(cluster_domain="cluster.local")
    assert system.candidates("auth-service", "default") == (
        "auth-service.default.svc.cluster.local.", "auth-service.svc.cluster.local.",
        "auth-service.cluster.local.", "auth-service.")
    assert system.candidates("auth-service.default.svc.cluster.local", "default") == (
        "auth-service.default.svc.cluster.local.",)
    assert system.server == "system resolver"
    assert source_for(5353).server == "127.0.0.1:5353"


def test_the_server_answers_other_types_with_no_records_and_headless_services_with_pod_ips() -> None:
    with Sandbox("healthy") as sandbox:
        server = SandboxDnsServer(sandbox.cluster)
        query = dns.message.make_query("auth-service.default.svc.cluster.local.", "AAAA")
        reply = server.answer(query.to_wire())
        assert reply is not None
        parsed = dns.message.from_wire(reply)
        assert parsed.rcode() == dns.rcode.NOERROR and parsed.answer == []

        service = sandbox.cluster.get("Service", "default", "business-logic")
        assert service is not None
        sandbox.cluster.delete("Service", "default", "business-logic")
        service["spec"]["clusterIP"] = "None"
        for key in ("uid", "resourceVersion", "creationTimestamp"):
            service["metadata"].pop(key, None)
        sandbox.cluster.create(service)
        query = dns.message.make_query("business-logic.default.svc.cluster.local.", "A")
        reply = server.answer(query.to_wire())
        assert reply is not None
        addresses = sorted(rdata.to_text() for rrset in dns.message.from_wire(reply).answer for rdata in rrset)
        pods = sandbox.cluster.list("Pod", "default", label_selector="app=business-logic")
        assert addresses == sorted(p["status"]["podIP"] for p in pods)
        assert server.answer(b"not a dns message") is None


async def test_sandbox_ops_config_points_the_bot_at_its_dns(tmp_path: Path) -> None:
    with Sandbox("healthy") as sandbox:
        path = sandbox.write_ops_config(tmp_path / "ops.yaml")
        assert f"OPSBOT_CONFIG={path}" in sandbox.env_lines()
        config = load_ops_config(path)
        assert config.dns.nameservers == ("127.0.0.1",) and config.dns.port == sandbox.dns_port
        # The overlay changes only DNS: the packaged services are all still there.
        assert set(config.services) == {"api-gateway", "auth-service", "data-processor", "business-logic"}
        configured = DnsSource(config.dns.nameservers, config.dns.port, config.dns.cluster_domain, 1.0)
        assert (await configured.resolve("api-gateway", "default")).outcome is Outcome.RESOLVED


async def test_a_replaced_coredns_pod_crashes_like_the_one_it_replaces() -> None:
    with Sandbox("dns-failure") as sandbox:
        doomed = sandbox.cluster.list("Pod", KUBE_SYSTEM, label_selector=COREDNS)[0]["metadata"]["name"]
        sandbox.cluster.delete("Pod", KUBE_SYSTEM, doomed)
        sandbox.cluster.reconcile()
        pods = sandbox.cluster.list("Pod", KUBE_SYSTEM, label_selector=COREDNS)
        assert len(pods) == 2 and doomed not in {p["metadata"]["name"] for p in pods}
        waiting = {p["status"]["containerStatuses"][0]["state"].get("waiting", {}).get("reason") for p in pods}
        assert waiting == {"CrashLoopBackOff"}
        result = await source_for(sandbox.dns_port, timeout_s=0.3).resolve("auth-service", "default")
    assert result.outcome is Outcome.TIMEOUT


async def test_a_query_that_cannot_be_sent_is_unreachable_not_servfail() -> None:
    # Port 0 cannot be sent to: the socket refuses at once. No DNS answer came back, so it is not a
    # SERVFAIL, but it is still the DNS server failing us, not the name being unknown.
    result = await source_for(0, timeout_s=1.0).resolve("auth-service", "default")
    assert result.outcome is Outcome.UNREACHABLE
    assert result.outcome.server_problem
    assert "Invalid argument" in result.detail
