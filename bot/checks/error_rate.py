"""Error rate from the metrics API against the guide's 5 %, split 5xx vs 4xx and by endpoint."""

from __future__ import annotations

from bot.checks.auth_causes import refused_permission, rejected_tokens
from bot.checks.base import CheckContext, SourceSet, graded
from bot.checks.formatting import percent
from bot.model import Cause, Fact, Finding, Status
from bot.sources.records import ErrorStats


class ErrorRateCheck:
    """Error rate vs the 5 % threshold, 5xx/4xx split, worst endpoints."""

    name = "error_rate"
    title = "Error rate"
    guide_section = "High Error Rates"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> ErrorStats:
        return await sources.metrics.errors(ctx.target.service, ctx.diagnosis.metrics_period)

    def assess(self, evidence: ErrorStats, ctx: CheckContext) -> Finding:
        limit = ctx.thresholds.error_rate
        rate = evidence.error_rate
        if evidence.requests == 0:
            return Finding(self.name, self.title, Status.NO_DATA, "No requests in the window.",
                           guide_section=self.guide_section)
        status = graded(rate, limit / 2, limit)
        server = sum(n for code, n in evidence.by_status.items() if code >= 500)
        client = sum(n for code, n in evidence.by_status.items() if 400 <= code < 500)
        facts = [
            Fact("error rate", percent(rate), f"{percent(limit)}", status),
            Fact("requests", f"{evidence.requests:,} in {evidence.period}"),
            Fact("5xx", f"{server:,} ({percent(server / evidence.requests)})"),
            Fact("4xx", f"{client:,} ({percent(client / evidence.requests)})"),
        ]
        codes = ", ".join(f"{code}: {n:,}" for code, n in sorted(evidence.by_status.items(), key=lambda kv: -kv[1]))
        worst = sorted(evidence.by_endpoint, key=lambda e: -e.errors)[:3]
        evidence_lines = [f"by status: {codes}"] if codes else []
        evidence_lines += [
            f"{e.endpoint}: {e.errors:,} errors of {e.requests:,} ({percent(e.errors / max(e.requests, 1))})"
            for e in worst
            if e.errors
        ]
        summary = (
            f"Error rate {percent(rate)} over {evidence.period} "
            f"({'above' if rate >= limit else 'below'} the {percent(limit)} threshold); "
            f"5xx {server:,}, 4xx {client:,}."
        )
        return Finding(
            self.name,
            self.title,
            status,
            summary,
            facts=tuple(facts),
            evidence=tuple(evidence_lines),
            causes=self._causes(evidence, server, client, status),
            guide_section=self.guide_section,
        )

    def _causes(self, evidence: ErrorStats, server: int, client: int, status: Status) -> tuple[Cause, ...]:
        if status is Status.OK:
            return ()
        unauthorized = evidence.by_status.get(401, 0)
        if client > server and unauthorized > client / 2:
            return (rejected_tokens((f"{unauthorized:,} of {client:,} 4xx are 401",)),)
        forbidden = evidence.by_status.get(403, 0)
        if client > server and forbidden > client / 2:
            return (refused_permission((f"{forbidden:,} of {client:,} 4xx are 403",)),)
        if client > server:
            return (
                Cause(
                    key="client_errors",
                    title="Mostly 4xx: check authentication, request validation and rate limits",
                    confidence=0.4,
                    evidence=(f"4xx {client:,} vs 5xx {server:,}",),
                    guide_section="High Error Rates",
                ),
            )
        return ()
