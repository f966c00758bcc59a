"""The service's circuit breaker as its health endpoint reports it: closed, half-open or open.

An open breaker fails calls fast instead of letting them time out; it is a consequence, so its cause
folds into an upstream timeout or a failing dependency when another check found one. The guide:
wait for the recovery timeout (30 s), check downstream dependencies, fix the root cause before resetting.
"""

from __future__ import annotations

from bot.checks.base import CheckContext, SourceSet
from bot.model import Cause, Fact, Finding, Status
from bot.sources.records import HealthReport

GUIDE = "Service Unavailable (503)"
HEALTHY = {"healthy", "ok", "up", "pass"}


def normalise(state: str) -> str:
    """`half_open`, `half-open`, `HalfOpen` -> `half-open`."""
    flat = state.strip().lower().replace("_", "").replace("-", "").replace(" ", "")
    return "half-open" if flat == "halfopen" else flat


class CircuitBreakerCheck:
    """Circuit breaker state from the health endpoint; open -> wait, check downstream, fix the cause."""

    name = "circuit_breaker"
    title = "Circuit breaker"
    guide_section = GUIDE

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> HealthReport:
        return await sources.metrics.health(ctx.target.service)

    def assess(self, evidence: HealthReport, ctx: CheckContext) -> Finding:
        if evidence.circuit_breaker is None:
            return Finding(self.name, self.title, Status.NO_DATA,
                           f"{evidence.service}'s health endpoint reports no circuit breaker.", guide_section=GUIDE)
        state = normalise(evidence.circuit_breaker)
        recovery = ctx.thresholds.circuit_breaker_recovery_s
        downstream = sorted(f"{name} {status}" for name, status in evidence.dependencies.items()
                            if status.lower() not in HEALTHY)
        facts = (
            Fact("state", state, None, Status.OK if state == "closed" else
                 Status.CRIT if state == "open" else Status.WARN),
            Fact("recovery timeout", f"{recovery} s"),
            Fact("unhealthy downstream", ", ".join(downstream) or "none"),
        )
        if state == "closed":
            return Finding(self.name, self.title, Status.OK, "Circuit breaker closed: calls flow normally.",
                           facts=facts, guide_section=GUIDE)
        advice = _advice(recovery, downstream)
        lines = (advice, *(f"downstream {d}" for d in downstream))
        if state == "open":
            cause = Cause("circuit_open", f"Circuit breaker open: calls fail fast. {advice}", 0.5, lines, GUIDE,
                          supports=("upstream_timeout", "dependency"))
            summary = f"Circuit breaker OPEN: calls fail fast. {advice}"
            return Finding(self.name, self.title, Status.CRIT, summary, facts=facts, evidence=lines,
                           causes=(cause,), guide_section=GUIDE)
        if state != "half-open":
            return Finding(self.name, self.title, Status.WARN,
                           f"Circuit breaker in a state opsbot does not know: {evidence.circuit_breaker!r}.",
                           facts=facts, guide_section=GUIDE)
        cause = Cause("circuit_open", f"Circuit breaker {state}: trial calls decide whether it closes again", 0.3,
                      lines, GUIDE, supports=("upstream_timeout", "dependency"))
        summary = f"Circuit breaker {state}: it opened recently and is letting trial calls through. {advice}"
        return Finding(self.name, self.title, Status.WARN, summary, facts=facts, evidence=lines, causes=(cause,),
                       guide_section=GUIDE)


def _advice(recovery_s: int, downstream: list[str]) -> str:
    check = f"check downstream dependencies ({', '.join(downstream)})" if downstream else \
        "check downstream dependencies"
    return f"Wait for the recovery timeout ({recovery_s} s), {check}, fix the root cause before resetting."
