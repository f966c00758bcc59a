"""Cluster DNS as a pod sees it, through dnspython's async resolver (`nslookup NAME` from the guide).

Search-domain expansion is done here, not by the system resolver: a relative name (`auth-service`,
`auth-service.default`) is tried with the search list a pod in NAMESPACE gets from its resolv.conf
(`NAMESPACE.svc.DOMAIN svc.DOMAIN DOMAIN`, ndots 5), then as given; a name that already ends with the
cluster domain is asked for as is. Doing it here gives the same answers wherever the bot runs, and
says which fully qualified name answered. Every name has one deadline (`timeout_s`) covering its whole
expansion, so a DNS server that never answers costs one timeout, not one per search domain.

Names are built only from configured service names, namespaces and the configured cluster domain.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from enum import StrEnum

import dns.asyncresolver
import dns.exception
import dns.resolver

from bot.sources.errors import SourceError

SOURCE = "dns"


class Outcome(StrEnum):
    RESOLVED = "resolved"
    NXDOMAIN = "nxdomain"  # the server says no such name
    NO_ANSWER = "no_answer"  # the name exists but has no A record
    SERVFAIL = "servfail"  # the server answered, but with a failure (SERVFAIL, REFUSED)
    UNREACHABLE = "unreachable"  # the query could not be delivered (connection refused: nothing listens)
    TIMEOUT = "timeout"  # no answer within the deadline

    @property
    def server_problem(self) -> bool:
        """The DNS server failed us, as opposed to telling us the name does not exist."""
        return self in (Outcome.SERVFAIL, Outcome.UNREACHABLE, Outcome.TIMEOUT)


@dataclass(frozen=True)
class NameResolution:
    """One name looked up the way a pod would: what came back, from which expansion, how long it took."""

    name: str
    outcome: Outcome
    addresses: tuple[str, ...] = ()
    answered_as: str | None = None  # the fully qualified name that answered
    duration_ms: float = 0.0
    detail: str = ""


class DnsSource:
    """Resolves A records with a per-name deadline. Without nameservers, the system resolver's are used."""

    def __init__(self, nameservers: tuple[str, ...] = (), port: int = 53, cluster_domain: str = "cluster.local",
                 timeout_s: float = 2.0) -> None:
        self.nameservers = nameservers
        self.port = port
        self.cluster_domain = cluster_domain.strip(".")
        self.timeout_s = timeout_s
        self._resolver: dns.asyncresolver.Resolver | None = None

    @property
    def server(self) -> str:
        """Which server is asked, for findings ("127.0.0.1:5353", "system resolver")."""
        if not self.nameservers:
            return "system resolver"
        return ", ".join(f"{ns}:{self.port}" for ns in self.nameservers)

    def service_names(self, service: str, namespace: str) -> tuple[str, str, str]:
        """`NAME`, `NAME.NAMESPACE`, `NAME.NAMESPACE.svc.DOMAIN`: the forms the guide asks to try."""
        return service, f"{service}.{namespace}", f"{service}.{namespace}.svc.{self.cluster_domain}"

    def search_list(self, namespace: str) -> tuple[str, ...]:
        domain = self.cluster_domain
        return f"{namespace}.svc.{domain}", f"svc.{domain}", domain

    def candidates(self, name: str, namespace: str) -> tuple[str, ...]:
        """The absolute names a pod in `namespace` would ask for, in order."""
        if name == self.cluster_domain or name.endswith(f".{self.cluster_domain}"):
            return (f"{name}.",)
        return (*(f"{name}.{suffix}." for suffix in self.search_list(namespace)), f"{name}.")

    async def resolve_service(self, service: str, namespace: str) -> tuple[NameResolution, ...]:
        names = self.service_names(service, namespace)
        return tuple(await asyncio.gather(*(self.resolve(name, namespace) for name in names)))

    async def resolve(self, name: str, namespace: str) -> NameResolution:
        resolver = self._get_resolver()
        started = time.perf_counter()
        deadline = started + self.timeout_s
        outcome, detail = Outcome.NXDOMAIN, ""
        for candidate in self.candidates(name, namespace):
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                outcome, detail = Outcome.TIMEOUT, f"no answer within {self.timeout_s:g} s"
                break
            try:
                answer = await resolver.resolve(candidate, "A", search=False, lifetime=remaining)
            except dns.resolver.NXDOMAIN:
                continue  # like a pod's resolver: try the next search domain
            except dns.resolver.NoAnswer:
                outcome, detail = Outcome.NO_ANSWER, f"{candidate} exists but has no A record"
                continue
            except dns.exception.Timeout:
                outcome, detail = Outcome.TIMEOUT, f"no answer within {self.timeout_s:g} s"
                break
            except dns.resolver.NoNameservers as exc:
                outcome, detail = _server_failure(exc), _failure_detail(exc)
                break
            except (dns.exception.DNSException, OSError) as exc:
                # Not an answer about the name (no route to the server, a malformed reply): the lookup
                # itself failed, so the check reports an error rather than a verdict.
                raise SourceError(SOURCE, f"looking up {candidate} via {self.server}: {type(exc).__name__}") from exc
            addresses = tuple(sorted(rdata.to_text() for rdata in answer))
            return NameResolution(name, Outcome.RESOLVED, addresses, candidate.rstrip("."), _ms(started))
        return NameResolution(name, outcome, (), None, _ms(started), detail)

    def _get_resolver(self) -> dns.asyncresolver.Resolver:
        if self._resolver is None:
            self._resolver = self._build_resolver()
        return self._resolver

    def _build_resolver(self) -> dns.asyncresolver.Resolver:
        try:
            resolver = dns.asyncresolver.Resolver(configure=not self.nameservers)
        except dns.resolver.NoResolverConfiguration as exc:
            raise SourceError(SOURCE, "no nameservers configured and the system has none (resolv.conf)") from exc
        if self.nameservers:
            resolver.nameservers = list(self.nameservers)
            resolver.port = self.port
        # No retry of a SERVFAIL: a pod's resolver reports it at once, and so should the check.
        resolver.retry_servfail = False
        resolver.timeout = self.timeout_s
        resolver.lifetime = self.timeout_s
        resolver.cache = None
        return resolver


def _server_failure(exc: dns.resolver.NoNameservers) -> Outcome:
    """SERVFAIL when some server answered with a failure code; UNREACHABLE when none answered at all."""
    # dnspython records (server, tcp, port, error or rcode text, response) per attempt.
    errors = exc.kwargs.get("errors") or []
    answered = any(len(entry) >= 5 and entry[4] is not None for entry in errors)
    return Outcome.SERVFAIL if answered or not errors else Outcome.UNREACHABLE


def _failure_detail(exc: dns.resolver.NoNameservers) -> str:
    # dnspython's message names each server and what it answered (SERVFAIL, REFUSED, ...).
    text = str(exc)
    return text if len(text) <= 200 else text[:197] + "..."


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
