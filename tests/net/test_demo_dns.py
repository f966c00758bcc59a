"""`opsbot demo` points the DNS checks at the sandbox's own DNS server, never at the host's resolver."""

import io

from bot.demo import run_demo


def test_demo_resolves_through_the_sandbox_dns() -> None:
    out = io.StringIO()
    assert run_demo(io.StringIO("/diagnose api-gateway dns\n"), out) == 0
    transcript = out.getvalue()
    assert "[ OK ] DNS resolution — All 9 names of api-gateway and its dependencies" in transcript
    assert "resolve (via 127.0.0.1:" in transcript
    assert "[ OK ] Cluster DNS (CoreDNS) — CoreDNS healthy: 2/2 pods ready" in transcript
