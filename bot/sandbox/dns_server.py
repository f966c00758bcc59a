"""The sandbox's cluster DNS: a small UDP server answering from the FakeCluster's Services.

    <service>.<namespace>.svc.<cluster domain>  A  -> the Service's ClusterIP (headless: its ready
                                                      endpoint IPs)
    any other name                                  -> NXDOMAIN (no upstream forwarding in the sandbox)

Only fully qualified names are answered, as CoreDNS does: search-domain expansion of short names
(`auth-service`, `auth-service.default`) is the client's job, as a pod's resolv.conf makes it
(`bot/sources/dns.py` does it the same way). Answers are read live from the cluster, so a deleted or
renamed Service stops resolving at once.

While no CoreDNS pod is ready (`coredns.coredns_ready`), queries get what clients of a real cluster
get: no answer at all (`when_down: timeout`) or SERVFAIL (`when_down: servfail`).

Runs in its own thread with a blocking socket, so a bot that blocks its event loop cannot starve it.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import Any, Literal

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from .coredns import coredns_ready
from .kube.cluster import FakeCluster

TTL = 5
_POLL_S = 0.2  # how often the serving thread looks at the stop flag
_MAX_DATAGRAM = 4096

WhenDown = Literal["timeout", "servfail"]


class SandboxDnsServer:
    """`start()` binds 127.0.0.1:PORT (0 = any free port) and serves until `stop()`."""

    def __init__(self, cluster: FakeCluster, *, cluster_domain: str = "cluster.local",
                 when_down: WhenDown = "timeout", host: str = "127.0.0.1", port: int = 0) -> None:
        self.cluster = cluster
        self.zone = dns.name.from_text(cluster_domain)
        self.when_down = when_down
        self.host = host
        self.port = port
        self.queries = 0  # datagrams received, answered or not: tests and the console can see traffic
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> int:
        if self._thread is not None:
            return self.port
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        sock.settimeout(_POLL_S)
        self._sock = sock
        self.port = int(sock.getsockname()[1])
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name=f"sandbox-dns-{self.port}", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        """Stop serving and close the socket. Idempotent."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=5)
        if self._sock is not None:
            self._sock.close()
        self._thread = self._sock = None

    def __enter__(self) -> SandboxDnsServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def _serve(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._stop.is_set():
            try:
                wire, client = sock.recvfrom(_MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError:
                return  # socket closed under us
            self.queries += 1
            reply = self.answer(wire)
            if reply is not None:
                sock.sendto(reply, client)

    def answer(self, wire: bytes) -> bytes | None:
        """The reply to one query datagram; None means stay silent (CoreDNS down, or not a DNS query)."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if not coredns_ready(self.cluster):
            if self.when_down == "timeout":
                return None
            return _reply(query, dns.rcode.SERVFAIL)
        if len(query.question) != 1:
            return _reply(query, dns.rcode.FORMERR)
        question = query.question[0]
        addresses = self._lookup(question.name)
        if addresses is None:
            return _reply(query, dns.rcode.NXDOMAIN)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if question.rdtype == dns.rdatatype.A and addresses:
            response.answer.append(
                dns.rrset.from_text_list(question.name, TTL, dns.rdataclass.IN, dns.rdatatype.A, addresses)
            )
        # Other types (AAAA on an IPv4-only cluster) for an existing name: NOERROR with no records.
        return response.to_wire()

    def _lookup(self, name: dns.name.Name) -> list[str] | None:
        """Addresses of `<service>.<namespace>.svc.<zone>`; None when there is no such Service."""
        if not name.is_subdomain(self.zone):
            return None
        labels = [label.decode("ascii", "replace").lower() for label in name.relativize(self.zone).labels]
        if len(labels) != 3 or labels[2] != "svc":
            return None
        service, namespace = labels[0], labels[1]
        found = self.cluster.get("Service", namespace, service)
        if found is None:
            return None
        cluster_ip = (found.get("spec") or {}).get("clusterIP")
        if cluster_ip and cluster_ip != "None":
            return [str(cluster_ip)]
        return _ready_endpoint_ips(self.cluster.get("Endpoints", namespace, service))


def _reply(query: dns.message.Message, rcode: int) -> bytes:
    response = dns.message.make_response(query)
    response.set_rcode(dns.rcode.Rcode(rcode))
    return response.to_wire()


def _ready_endpoint_ips(endpoints: dict[str, Any] | None) -> list[str]:
    subsets = (endpoints or {}).get("subsets") or []
    return sorted({str(a["ip"]) for subset in subsets for a in subset.get("addresses") or [] if a.get("ip")})
