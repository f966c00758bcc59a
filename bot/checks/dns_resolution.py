"""Resolve the service's cluster names and its dependencies' from the bot (`nslookup auth-service`).

Each name is tried in the guide's three forms (`NAME`, `NAME.NAMESPACE`, the fully qualified
`NAME.NAMESPACE.svc.cluster.local`), from the point of view of a pod in the diagnosed service's
namespace: that is how the service itself looks its dependencies up.

With them, the API server's own name, `kubernetes.default.svc.<cluster domain>`, which every cluster's DNS
answers. If the resolver says that name does not exist, it is not the cluster's DNS (the bot runs outside
the cluster with no `dns.nameservers`, so the system resolver is asked): every cluster name would be
NXDOMAIN there, and reporting that as a DNS failure would be a false alarm. The check then has nothing to
judge. A probe that times out or fails is different: that is a failing DNS server, and is reported as one.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

from bot.checks.base import CheckContext, SourceSet
from bot.model import Cause, Fact, Finding, Status
from bot.sources.dns import NameResolution, Outcome

GUIDE = "DNS Resolution Failures"
# The API server's Service, which exists in every cluster: `kubernetes.default.svc.<cluster domain>`.
PROBE_NAME = "kubernetes.default"
OUTCOME_WORDS = {
    Outcome.NXDOMAIN: "do not exist (NXDOMAIN)",
    Outcome.NO_ANSWER: "have no A record",
    Outcome.SERVFAIL: "answered SERVFAIL",
    Outcome.UNREACHABLE: "could not reach the server",
    Outcome.TIMEOUT: "timed out",
}


@dataclass(frozen=True)
class ServiceNames:
    """The lookups of one service's names; `dependency` when it is one of the diagnosed service's."""

    service: str
    dependency: bool
    lookups: tuple[NameResolution, ...]

    @property
    def failed(self) -> tuple[NameResolution, ...]:
        return tuple(r for r in self.lookups if r.outcome is not Outcome.RESOLVED)


@dataclass(frozen=True)
class DnsEvidence:
    server: str
    services: tuple[ServiceNames, ...]
    # The lookup of `kubernetes.default.svc.<domain>`; None in evidence built without it.
    probe: NameResolution | None = None

    @property
    def not_cluster_dns(self) -> bool:
        """The resolver denies the one name every cluster DNS has: it is some other resolver."""
        return self.probe is not None and self.probe.outcome in (Outcome.NXDOMAIN, Outcome.NO_ANSWER)


class DnsResolutionCheck:
    """Resolves the service's and its dependencies' cluster names: NXDOMAIN, SERVFAIL, timeouts."""

    name = "dns_resolution"
    title = "DNS resolution"
    guide_section = GUIDE

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> DnsEvidence:
        namespace = ctx.target.namespace
        wanted = [(ctx.target.service, False), *((dep, True) for dep in ctx.dependencies)]
        # The probe runs alongside the names, not before them: against a DNS server that never answers,
        # one deadline for everything rather than two in a row.
        probe, results = await asyncio.gather(
            sources.dns.resolve(f"{PROBE_NAME}.svc.{sources.dns.cluster_domain}", namespace),
            asyncio.gather(*(sources.dns.resolve_service(name, namespace) for name, _ in wanted)),
        )
        services = tuple(
            ServiceNames(name, dependency, lookups)
            for (name, dependency), lookups in zip(wanted, results, strict=True)
        )
        return DnsEvidence(sources.dns.server, services, probe)

    def assess(self, evidence: DnsEvidence, ctx: CheckContext) -> Finding:
        if evidence.not_cluster_dns and evidence.probe is not None:
            return _not_cluster_dns(evidence.server, evidence.probe)
        lookups = [r for s in evidence.services for r in s.lookups]
        if not lookups:
            return Finding(self.name, self.title, Status.NO_DATA, "No names to resolve.", guide_section=GUIDE)
        failed = [r for r in lookups if r.outcome is not Outcome.RESOLVED]
        facts = tuple(_service_fact(s) for s in evidence.services)
        facts += (Fact("DNS server", evidence.server),)
        if not failed:
            return Finding(
                self.name, self.title, Status.OK,
                f"All {len(lookups)} names of {_who(evidence)} resolve (via {evidence.server}).",
                facts=facts, evidence=tuple(_line(r) for r in lookups[:3]), guide_section=GUIDE,
            )
        server_failed = [r for r in failed if r.outcome.server_problem]
        counts = Counter(r.outcome for r in failed)
        parts = ", ".join(f"{n} {OUTCOME_WORDS[outcome]}" for outcome, n in sorted(counts.items()))
        summary = f"{len(failed)} of {len(lookups)} lookups failed via {evidence.server}: {parts}."
        causes = _server_cause(server_failed, len(lookups), evidence.server) + _missing_causes(evidence)
        lines = tuple(line for names in evidence.services if names.failed for line in _failure_lines(names))
        return Finding(self.name, self.title, Status.CRIT, summary, facts=facts, evidence=lines, causes=causes,
                       guide_section=GUIDE)


def _not_cluster_dns(server: str, probe: NameResolution) -> Finding:
    return Finding(
        DnsResolutionCheck.name, DnsResolutionCheck.title, Status.NO_DATA,
        f"The bot's resolver ({server}) is not the cluster's DNS: it does not know {probe.name}, which every "
        "cluster DNS answers. Set dns.nameservers to the kube-dns ClusterIP to check name resolution.",
        facts=(Fact("DNS server", server), Fact(probe.name, probe.outcome.value)),
        evidence=(_line(probe),), guide_section=GUIDE,
    )


def _who(evidence: DnsEvidence) -> str:
    deps = [s.service for s in evidence.services if s.dependency]
    main = next((s.service for s in evidence.services if not s.dependency), "the service")
    return f"{main} and its dependencies ({', '.join(deps)})" if deps else main


def _service_fact(names: ServiceNames) -> Fact:
    label = f"{names.service}{' (dependency)' if names.dependency else ''}"
    if not names.failed:
        addresses = sorted({a for r in names.lookups for a in r.addresses})
        return Fact(label, ", ".join(addresses) or "resolves")
    outcomes = sorted({r.outcome.value for r in names.failed})
    return Fact(label, f"{len(names.failed)}/{len(names.lookups)} forms fail ({', '.join(outcomes)})",
                None, Status.CRIT)


def _failure_lines(names: ServiceNames) -> tuple[str, ...]:
    """One line per service when all its forms failed alike (the usual case), else one per form."""
    failed = names.failed
    if len(failed) == len(names.lookups) and len({(r.outcome, r.detail) for r in failed}) == 1:
        first = failed[0]
        slowest = max(r.duration_ms for r in failed)
        detail = f": {first.detail}" if first.detail else ""
        forms = ", ".join(r.name for r in failed)
        return (f"{names.service}: all {len(failed)} forms {first.outcome.value.upper()} "
                f"(up to {slowest:.0f} ms){detail} [{forms}]",)
    return tuple(_line(r) for r in names.lookups)


def _line(result: NameResolution) -> str:
    took = f"{result.duration_ms:.0f} ms"
    if result.outcome is Outcome.RESOLVED:
        return f"{result.name} -> {', '.join(result.addresses)} (as {result.answered_as}, {took})"
    detail = f": {result.detail}" if result.detail else ""
    return f"{result.name} -> {result.outcome.value.upper()} after {took}{detail}"


def _server_cause(server_failed: list[NameResolution], total: int, server: str) -> tuple[Cause, ...]:
    if not server_failed:
        return ()
    everything = len(server_failed) == total
    kinds = sorted({r.outcome.value for r in server_failed})
    return (
        Cause(
            key="dns_server_failing",
            title=f"The cluster DNS server is failing ({' / '.join(kinds)}): verify the DNS service is running",
            confidence=0.7 if everything else 0.5,
            evidence=(f"{len(server_failed)} of {total} lookups via {server}: {', '.join(kinds)}",),
            guide_section=GUIDE,
            # CoreDNS being down explains a failing DNS server; the coredns check says so when it is.
            supports=("coredns_down",),
        ),
    )


def _missing_causes(evidence: DnsEvidence) -> tuple[Cause, ...]:
    unresolved = [n for n in evidence.services if any(not r.outcome.server_problem for r in n.failed)]
    if not unresolved:
        return ()
    # Every form missing: the name is wrong or the Service is gone. Only some forms: a namespace slip.
    complete = any(len(n.failed) == len(n.lookups) for n in unresolved)
    names = ", ".join(n.service for n in unresolved)
    return (
        Cause(
            key="dns_unresolvable",
            title=f"{names}: name does not resolve (NXDOMAIN); check service names and namespaces",
            confidence=0.6 if complete else 0.4,
            evidence=tuple(
                f"NXDOMAIN for {', '.join(r.name for r in n.failed if not r.outcome.server_problem)}"
                for n in unresolved
            ),
            guide_section=GUIDE,
            # A missing Service is why its name does not exist; service_endpoints reports that.
            supports=("service_missing",),
        ),
    )
