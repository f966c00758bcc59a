"""The service's health endpoint: its own checks (database, cache), dependencies, circuit breaker."""

from __future__ import annotations

from bot.checks.base import CheckContext, SourceSet
from bot.model import Cause, Fact, Finding, Status
from bot.sources.records import HealthReport

HEALTHY = {"healthy", "ok", "up", "pass"}


class DependencyHealthCheck:
    """Health endpoint: database, dependencies and circuit breaker state."""

    name = "dependency_health"
    title = "Dependency health"
    guide_section = "High Error Rates"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> HealthReport:
        return await sources.metrics.health(ctx.target.service)

    def assess(self, evidence: HealthReport, ctx: CheckContext) -> Finding:
        bad_checks = {k: v for k, v in evidence.checks.items() if v.lower() not in HEALTHY}
        bad_deps = {k: v for k, v in evidence.dependencies.items() if v.lower() not in HEALTHY}
        breaker = evidence.circuit_breaker
        facts = [Fact("health", evidence.status, None, Status.OK if evidence.status in HEALTHY else Status.WARN)]
        facts += [Fact(name, state) for name, state in sorted(evidence.checks.items())]
        facts += [Fact(f"dependency {name}", state) for name, state in sorted(evidence.dependencies.items())]
        if breaker:
            facts.append(Fact("circuit breaker", breaker, None, Status.OK if breaker == "closed" else Status.WARN))
        causes: list[Cause] = []
        if "database" in bad_checks:
            # What the endpoint says, not a diagnosis: "degraded" may be a lock or a slow query as much as a
            # lost connection. A long-running query found in pg_stat_activity is the more specific
            # explanation, so this folds into it when present.
            state = bad_checks["database"]
            causes.append(Cause("database", f"Database reported {state} by the health endpoint", 0.8,
                                (f"health check database: {state}",), "High Error Rates",
                                supports=("long_running_query",)))
        if bad_deps or {k for k in bad_checks if k != "database"}:
            failing = {**{k: v for k, v in bad_checks.items() if k != "database"}, **bad_deps}
            # A dependency that times out is what the timeout check calls an upstream timeout: one explanation.
            causes.append(Cause("dependency", "Service dependency failure", 0.8,
                                tuple(f"{k}: {v}" for k, v in sorted(failing.items())), "High Error Rates",
                                supports=("upstream_timeout",)))
        if breaker and breaker != "closed":
            # The same key as the circuit_breaker check's, so the two views of one breaker combine; an open
            # breaker is the consequence of a failing upstream when one is found.
            causes.append(Cause("circuit_open", f"Circuit breaker {breaker}", 0.6,
                                (f"recovery timeout {ctx.thresholds.circuit_breaker_recovery_s} s",),
                                "Service Unavailable (503)", supports=("upstream_timeout", "dependency")))
        status = Status.CRIT if causes else Status.OK
        if not causes:
            summary = "Service and all its dependencies report healthy; the circuit breaker is closed."
        else:
            names = sorted(set(bad_checks) | set(bad_deps))
            summary = f"Unhealthy: {', '.join(names) or 'circuit breaker'}."
        return Finding(self.name, self.title, status, summary, facts=tuple(facts), causes=tuple(causes),
                       guide_section=self.guide_section)
