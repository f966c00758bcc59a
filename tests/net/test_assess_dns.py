"""The pure `assess` of the DNS failure checks over hand-made evidence: outcomes, wording, causes."""

from datetime import UTC, datetime, timedelta

from bot.checks.coredns import CoreDnsCheck, CoreDnsEvidence
from bot.checks.dns_resolution import DnsEvidence, DnsResolutionCheck, ServiceNames
from bot.checks.service_endpoints import ServiceEndpointsCheck, ServiceView, selector_text
from bot.config import load_ops_config
from bot.engine import context_for
from bot.model import Status
from bot.sources.dns import NameResolution, Outcome
from bot.sources.records import ContainerState, EndpointAddress, PodInfo, ServiceEndpoints
from bot.verdict import rank_causes

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CONFIG = load_ops_config(None)
CTX = context_for(CONFIG, CONFIG.target("api-gateway"), NOW)
SERVER = "127.0.0.1:5353"


def names(service: str, outcome: Outcome, *, dependency: bool = False) -> ServiceNames:
    forms = (service, f"{service}.default", f"{service}.default.svc.cluster.local")
    if outcome is Outcome.RESOLVED:
        lookups = tuple(NameResolution(f, outcome, ("10.96.1.2",), forms[2], 3.0) for f in forms)
    else:
        lookups = tuple(NameResolution(f, outcome, (), None, 2000.0, "no answer within 2 s") for f in forms)
    return ServiceNames(service, dependency, lookups)


def test_everything_resolving_is_ok_and_names_the_addresses() -> None:
    evidence = DnsEvidence(SERVER, (names("api-gateway", Outcome.RESOLVED),
                                    names("auth-service", Outcome.RESOLVED, dependency=True)))
    finding = DnsResolutionCheck().assess(evidence, CTX)
    assert finding.status is Status.OK and finding.causes == ()
    assert "All 6 names of api-gateway and its dependencies (auth-service) resolve" in finding.summary
    assert {f.label: f.value for f in finding.facts}["auth-service (dependency)"] == "10.96.1.2"


def test_timeouts_blame_the_dns_server_and_fold_into_coredns_down() -> None:
    evidence = DnsEvidence(SERVER, (names("api-gateway", Outcome.TIMEOUT),
                                    names("auth-service", Outcome.TIMEOUT, dependency=True)))
    finding = DnsResolutionCheck().assess(evidence, CTX)
    assert finding.status is Status.CRIT
    assert finding.summary == f"6 of 6 lookups failed via {SERVER}: 6 timed out."
    (cause,) = finding.causes
    assert cause.key == "dns_server_failing" and cause.confidence == 0.7
    assert cause.supports == ("coredns_down",)
    assert finding.evidence == (
        "api-gateway: all 3 forms TIMEOUT (up to 2000 ms): no answer within 2 s "
        "[api-gateway, api-gateway.default, api-gateway.default.svc.cluster.local]",
        "auth-service: all 3 forms TIMEOUT (up to 2000 ms): no answer within 2 s "
        "[auth-service, auth-service.default, auth-service.default.svc.cluster.local]",
    )


def test_some_server_failures_are_a_weaker_signal() -> None:
    evidence = DnsEvidence(SERVER, (names("api-gateway", Outcome.RESOLVED),
                                    names("auth-service", Outcome.SERVFAIL, dependency=True)))
    finding = DnsResolutionCheck().assess(evidence, CTX)
    assert finding.summary == f"3 of 6 lookups failed via {SERVER}: 3 answered SERVFAIL."
    (cause,) = finding.causes
    assert cause.key == "dns_server_failing" and cause.confidence == 0.5
    assert "servfail" in cause.title


def test_nxdomain_names_the_service_and_folds_into_a_missing_service() -> None:
    evidence = DnsEvidence(SERVER, (names("api-gateway", Outcome.RESOLVED),
                                    names("auth-service", Outcome.NXDOMAIN, dependency=True)))
    finding = DnsResolutionCheck().assess(evidence, CTX)
    assert finding.status is Status.CRIT
    (cause,) = finding.causes
    assert cause.key == "dns_unresolvable" and cause.title.startswith("auth-service: name does not resolve")
    assert cause.supports == ("service_missing",)
    assert cause.evidence == ("NXDOMAIN for auth-service, auth-service.default, "
                              "auth-service.default.svc.cluster.local",)


def test_no_names_is_no_data() -> None:
    assert DnsResolutionCheck().assess(DnsEvidence(SERVER, ()), CTX).status is Status.NO_DATA


def endpoints(name: str, ready: int, not_ready: int = 0, *, selector: dict[str, str] | None = None,
              exists: bool = True) -> ServiceEndpoints:
    addresses = tuple(EndpointAddress(f"10.244.0.{i}", f"{name}-{i}", i < ready) for i in range(ready + not_ready))
    return ServiceEndpoints(name, "default", exists, "10.96.1.2" if exists else None,
                            {"app": name} if selector is None else selector, (8080,), addresses)


def pod(name: str, labels: dict[str, str], *, ready: bool = True, waiting: str | None = None) -> PodInfo:
    return PodInfo(name, "Running", ready, NOW, ("img",), (ContainerState("c", ready, 0, waiting),), labels=labels)


def test_services_with_ready_endpoints_are_ok() -> None:
    finding = ServiceEndpointsCheck().assess((ServiceView(endpoints("api-gateway", 4), False),
                                              ServiceView(endpoints("auth-service", 2, 1), True)), CTX)
    assert finding.status is Status.OK
    assert "All 2 Services exist and have ready endpoints (6 addresses)" in finding.summary
    facts = {f.label: (f.value, f.status) for f in finding.facts}
    assert facts["auth-service (dependency)"] == ("2 ready, 1 not ready", Status.WARN)


def test_a_missing_service_is_named() -> None:
    gone = ServiceView(endpoints("auth-service", 0, exists=False), True)
    finding = ServiceEndpointsCheck().assess((ServiceView(endpoints("api-gateway", 4), False), gone), CTX)
    assert finding.status is Status.CRIT
    (cause,) = finding.causes
    assert cause.key == "service_missing" and cause.title == "Service auth-service does not exist in namespace default"


def test_selector_mismatch_names_the_selector_and_the_pods_labels() -> None:
    labels = {"app": "auth-service", "app.kubernetes.io/version": "2.4.1", "pod-template-hash": "abc"}
    view = ServiceView(endpoints("auth-service", 0, selector={"app": "auth-svc"}), False, selected=(),
                       workload=(pod("auth-service-1", labels), pod("auth-service-2", labels)))
    finding = ServiceEndpointsCheck().assess((view,), CTX)
    (cause,) = finding.causes
    assert cause.key == "no_endpoints" and cause.confidence == 0.8
    assert "selector app=auth-svc matches no pods" in cause.title
    assert "labelled app=auth-service,app.kubernetes.io/version=2.4.1" in cause.title
    assert "pod-template-hash" not in cause.title
    assert finding.summary.startswith("Traffic to auth-service has nowhere to go")


def test_selected_pods_none_ready() -> None:
    view = ServiceView(endpoints("auth-service", 0, 2), False,
                       selected=(pod("a-1", {"app": "auth-service"}, ready=False, waiting="CrashLoopBackOff"),
                                 pod("a-2", {"app": "auth-service"}, ready=False)))
    (cause,) = ServiceEndpointsCheck().assess((view,), CTX).causes
    assert cause.key == "no_endpoints" and cause.confidence == 0.6
    assert "none of its 2 pods is ready" in cause.title
    assert "a-1: CrashLoopBackOff, a-2: Running" in cause.evidence


def test_selector_text_refuses_what_it_would_not_send() -> None:
    assert selector_text({"b": "2", "a": "1"}) == "a=1,b=2"
    assert selector_text({}) is None
    assert selector_text({"app": "x y"}) is None


def coredns_pod(name: str, *, ready: bool, restarts: int = 0, waiting: str | None = None) -> PodInfo:
    state = ContainerState("coredns", ready, restarts, waiting, "Error" if restarts else None, 1 if restarts else None,
                           NOW - timedelta(minutes=3) if restarts else None)
    return PodInfo(name, "Running", ready, NOW, ("coredns",), (state,), namespace="kube-system")


def test_coredns_healthy() -> None:
    evidence = CoreDnsEvidence((coredns_pod("coredns-a", ready=True), coredns_pod("coredns-b", ready=True)))
    finding = CoreDnsCheck().assess(evidence, CTX)
    assert finding.status is Status.OK and finding.summary == "CoreDNS healthy: 2/2 pods ready, 0 restarts."


def test_coredns_down_quotes_the_crash_and_ranks_above_the_dns_symptom() -> None:
    pods = (coredns_pod("coredns-a", ready=False, restarts=9, waiting="CrashLoopBackOff"),
            coredns_pod("coredns-b", ready=False, restarts=8, waiting="CrashLoopBackOff"))
    log = ("[INFO] plugin/reload: Running configuration SHA512 = 1234",
           '[FATAL] plugin/loop: Loop (127.0.0.1:46117 -> :53) detected for zone "."')
    finding = CoreDnsCheck().assess(CoreDnsEvidence(pods, "coredns-a", log), CTX)
    assert finding.status is Status.CRIT
    assert finding.summary.startswith("CoreDNS down: 0/2 pods ready, 17 restarts. Last crash: [FATAL] plugin/loop")
    (cause,) = finding.causes
    assert cause.key == "coredns_down" and cause.confidence == 0.8
    assert "CrashLoopBackOff" in cause.title
    line = "coredns-a: NOT ready, CrashLoopBackOff, 9 restarts, last terminated Error exit 1 3 min ago"
    assert line in finding.evidence
    assert not any("[INFO]" in line for line in finding.evidence)
    dns = DnsResolutionCheck().assess(DnsEvidence(SERVER, (names("api-gateway", Outcome.TIMEOUT),)), CTX)
    ranked = rank_causes([dns, finding], "dns_resolution", ())
    assert [c.key for c in ranked] == ["coredns_down"]
    assert ranked[0].confidence == 0.94  # 1 - (1 - 0.8) * (1 - 0.7)


def test_coredns_partly_ready_or_restarting_warns() -> None:
    partial = CoreDnsCheck().assess(CoreDnsEvidence((coredns_pod("a", ready=True),
                                                     coredns_pod("b", ready=False, waiting="CrashLoopBackOff"))), CTX)
    assert partial.status is Status.WARN and partial.causes[0].confidence == 0.4
    flapping = CoreDnsCheck().assess(CoreDnsEvidence((coredns_pod("a", ready=True, restarts=3),)), CTX)
    assert flapping.status is Status.WARN and "3 restarts" in flapping.causes[0].title
    assert CoreDnsCheck().assess(CoreDnsEvidence(()), CTX).status is Status.NO_DATA


def test_forms_failing_differently_are_listed_one_by_one() -> None:
    forms = ("auth-service", "auth-service.default", "auth-service.default.svc.cluster.local")
    mixed = ServiceNames("auth-service", True, (
        NameResolution(forms[0], Outcome.NXDOMAIN, (), None, 4.0),
        NameResolution(forms[1], Outcome.NXDOMAIN, (), None, 4.0),
        NameResolution(forms[2], Outcome.RESOLVED, ("10.96.1.2",), forms[2], 2.0),
    ))
    finding = DnsResolutionCheck().assess(DnsEvidence(SERVER, (names("api-gateway", Outcome.RESOLVED), mixed)), CTX)
    assert finding.summary == f"2 of 6 lookups failed via {SERVER}: 2 do not exist (NXDOMAIN)."
    assert finding.evidence == ("auth-service -> NXDOMAIN after 4 ms", "auth-service.default -> NXDOMAIN after 4 ms",
                                "auth-service.default.svc.cluster.local -> 10.96.1.2 (as "
                                "auth-service.default.svc.cluster.local, 2 ms)")
    # Only some forms fail: a namespace or search-domain slip, a weaker signal than a name that is gone.
    assert finding.causes[0].confidence == 0.4


def test_a_resolver_that_denies_the_api_servers_name_is_not_the_cluster_dns() -> None:
    probe = NameResolution("kubernetes.default.svc.cluster.local", Outcome.NXDOMAIN, (), None, 2.0)
    evidence = DnsEvidence("system resolver", (names("api-gateway", Outcome.NXDOMAIN),), probe)
    finding = DnsResolutionCheck().assess(evidence, CTX)
    assert finding.status is Status.NO_DATA and finding.causes == ()
    assert "not the cluster's DNS" in finding.summary and "dns.nameservers" in finding.summary


def test_a_probe_that_times_out_is_a_failing_server_not_a_foreign_one() -> None:
    probe = NameResolution("kubernetes.default.svc.cluster.local", Outcome.TIMEOUT, (), None, 2000.0)
    evidence = DnsEvidence(SERVER, (names("api-gateway", Outcome.TIMEOUT),), probe)
    finding = DnsResolutionCheck().assess(evidence, CTX)
    assert finding.status is Status.CRIT
    assert [c.key for c in finding.causes] == ["dns_server_failing"]
