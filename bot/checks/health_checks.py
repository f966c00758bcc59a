"""The health endpoint check by check (`curl localhost:8080/health`), and the kubelet's verdict on it:
how many pods pass their readiness probe."""

from __future__ import annotations

from dataclasses import dataclass

from bot.checks.base import CheckContext, SourceSet
from bot.model import Cause, Fact, Finding, Status
from bot.sources.errors import SourceError
from bot.sources.records import HealthReport, PodInfo

SECTION = "Failed Health Checks"
HEALTHY = {"healthy", "ok", "up", "pass"}
# Which explanation a failing check of the health endpoint points at; the generic one for anything else.
CHECK_KEYS = {"database": "health_database", "db": "health_database", "postgres": "health_database",
              "redis": "health_cache", "cache": "health_cache"}
# The same explanation as the broader dependency_health check gives, so the two combine into one line.
BROADER = {"health_database": ("database",), "health_cache": ("cache", "dependency"),
           "health_dependency": ("dependency",), "health_check": ("dependency",)}


@dataclass(frozen=True)
class HealthEvidence:
    report: HealthReport
    pods: tuple[PodInfo, ...] | None  # None: the pods could not be read
    pods_error: str | None = None


class HealthChecksCheck:
    """Health endpoint per check (database, redis, dependencies), overall status, pods passing readiness."""

    name = "health_checks"
    title = "Health checks"
    guide_section = SECTION

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> HealthEvidence:
        report = await sources.metrics.health(ctx.target.service)
        try:
            pods = await sources.kube.pods(ctx.target)
        except SourceError as exc:
            # The endpoint's own answer is the main evidence; say the pods are unknown rather than fail.
            return HealthEvidence(report, None, str(exc))
        return HealthEvidence(report, tuple(pods))

    def assess(self, evidence: HealthEvidence, ctx: CheckContext) -> Finding:
        report = evidence.report
        failing_checks = {k: v for k, v in sorted(report.checks.items()) if v.lower() not in HEALTHY}
        failing_deps = {k: v for k, v in sorted(report.dependencies.items()) if v.lower() not in HEALTHY}
        overall = _status_of(report.status)
        readiness, ready_fact = _readiness(evidence)
        status = max(overall, readiness, key=lambda s: s.rank)
        facts = [Fact("health", report.status, None, overall), ready_fact]
        facts += [Fact(f"check {k}", v, None, _status_of(v)) for k, v in sorted(report.checks.items())]
        facts += [Fact(f"dependency {k}", v, None, _status_of(v)) for k, v in sorted(report.dependencies.items())]
        causes = _causes(failing_checks, failing_deps)
        return Finding(self.name, self.title, status, _summary(report, failing_checks, failing_deps, ready_fact),
                       facts=tuple(facts), causes=causes, guide_section=self.guide_section)


def _status_of(state: str) -> Status:
    state = state.lower()
    if state in HEALTHY:
        return Status.OK
    return Status.WARN if state == "degraded" else Status.CRIT


def _readiness(evidence: HealthEvidence) -> tuple[Status, Fact]:
    if evidence.pods is None:
        return Status.OK, Fact("pods ready", "unknown", None, Status.ERROR)
    total = len(evidence.pods)
    ready = sum(1 for p in evidence.pods if p.ready)
    status = Status.CRIT if total and ready == 0 else Status.WARN if ready < total else Status.OK
    return status, Fact("pods ready", f"{ready}/{total}", f"{total}/{total}", status)


def _summary(report: HealthReport, checks: dict[str, str], deps: dict[str, str], ready: Fact) -> str:
    parts = [f"/health says {report.status}"]
    if checks:
        parts.append("failing checks: " + ", ".join(f"{k} {v}" for k, v in checks.items()))
    if deps:
        parts.append("failing dependencies: " + ", ".join(f"{k} {v}" for k, v in deps.items()))
    parts.append(f"{ready.value} pods pass their readiness probe")
    return "; ".join(parts) + "."


def _causes(checks: dict[str, str], deps: dict[str, str]) -> tuple[Cause, ...]:
    causes: dict[str, Cause] = {}
    for name, state in checks.items():
        key = CHECK_KEYS.get(name.lower(), "health_check")
        title = {"health_database": "Health check fails on the database (DB ping)",
                 "health_cache": f"Health check fails on the cache ({name})"}.get(key, f"Health check '{name}' fails")
        _add(causes, Cause(key, title, 0.7 if state.lower() == "unhealthy" else 0.5,
                           (f"/health check {name}: {state}",), SECTION, supports=BROADER[key]))
    for name, state in deps.items():
        _add(causes, Cause("health_dependency", f"Dependency unavailable: {name}",
                           0.7 if state.lower() == "unhealthy" else 0.5, (f"/health dependency {name}: {state}",),
                           SECTION, supports=BROADER["health_dependency"]))
    return tuple(causes.values())


def _add(causes: dict[str, Cause], cause: Cause) -> None:
    """One cause per key; a second failing dependency adds its evidence and names itself in the title."""
    known = causes.get(cause.key)
    if known is None:
        causes[cause.key] = cause
        return
    causes[cause.key] = Cause(known.key, f"{known.title}, {cause.title.rsplit(': ', 1)[-1]}",
                              max(known.confidence, cause.confidence), known.evidence + cause.evidence,
                              known.guide_section, supports=known.supports)
