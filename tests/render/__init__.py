"""Hand-built diagnoses for the renderer tests: a realistic bad deploy and a pathological flood."""

from __future__ import annotations

from bot.model import Cause, Diagnosis, Fact, Finding, Proposal, Status, Symptom, Target

TARGET = Target("auth-service", namespace="default", selector="app=auth-service", deployment="auth-service")

TRACEBACK = "\n".join([
    "412x on 3 pod(s) e.g. req-7f3a, req-9b21: ERROR Unhandled exception in POST /login "
    "<script>alert(1)</script>",
    "Traceback (most recent call last):",
    '  File "/app/auth/views.py", line 88, in login',
    "    if user.tier < limits.max_tier & flags.strict:",
    '  File "/app/auth/tokens.py", line 41, in issue',
    "    return jwt.encode({'sub': user.id} , key=<redacted>)",
    "TypeError: '<' not supported between instances of 'NoneType' and 'int' -> see ```docs```",
    "  hint: ping <@U0000BAD> & <!channel>",
])

ROLLBACK = Proposal("rollback", {"to_revision": "6"}, "roll back to revision 6 (auth-service:2.4.1)")

DEPLOY = Cause(
    key="deploy",
    title="Bug in recent deployment: revision 7 (auth-service:2.5.0)",
    confidence=0.87,
    evidence=(
        "revision 7 (auth-service:2.5.0) rolled out 12 min ago",
        "change-cause: deploy 2.5.0 <fast-track> & skip canary",
        "412 log lines: ERROR Unhandled exception in POST /login <script>alert(1)</script>",
        "previous: revision 6 (auth-service:2.4.1)",
    ),
    guide_section="High Error Rates",
    proposals=(ROLLBACK,),
)

TIMEOUTS = Cause("timeout", "Upstream timeouts", 0.32, ("17 log lines: upstream timed out",),
                 "Timeout Errors")


def bad_deploy() -> Diagnosis:
    findings = (
        Finding(
            "error_rate", "Error rate", Status.CRIT,
            "Error rate 12.1 % over 5m (above the 5.0 % threshold); 5xx 1,210, 4xx 37.",
            facts=(
                Fact("error rate", "12.1 %", "5.0 %", Status.CRIT),
                Fact("requests", "10,000 in 5m"),
                Fact("5xx", "1,210 (12.1 %)"),
                Fact("4xx", "37 (0.4 %)"),
            ),
            evidence=("by status: 500: 1,180, 503: 30, 401: 37", "/login: 1,100 errors of 4,000 (27.5 %)"),
            guide_section="High Error Rates", duration_ms=41.0,
        ),
        Finding(
            "error_logs", "Recent error logs", Status.CRIT,
            "429 ERROR lines in the last 1,000 lines of 3 pod(s) (2 distinct).",
            facts=(Fact("error lines", "429 of 1,000", None, Status.CRIT), Fact("warnings", "12")),
            evidence=(TRACEBACK, "17x on 1 pod(s): ERROR upstream timed out after 5000ms"),
            causes=(TIMEOUTS,), guide_section="High Error Rates", duration_ms=230.0,
        ),
        Finding(
            "recent_rollout", "Recent deployments", Status.WARN,
            "Revision 7 (auth-service:2.5.0) was rolled out 12 min ago, replacing revision 6.",
            facts=(Fact("revision", "7"), Fact("image", "auth-service:2.5.0"),
                   Fact("rolled out", "12 min ago")),
            evidence=("rev 7: auth-service:2.5.0, 12 min ago — deploy 2.5.0",
                      "rev 6: auth-service:2.4.1, 3 days ago"),
            causes=(DEPLOY,), guide_section="High Error Rates", duration_ms=88.0,
        ),
        Finding(
            "dependency_health", "Dependency health", Status.OK,
            "Service and all its dependencies report healthy; the circuit breaker is closed.",
            facts=(Fact("health", "healthy", "healthy"), Fact("database", "healthy")),
            guide_section="High Error Rates", duration_ms=12.0,
        ),
    )
    causes = (DEPLOY, TIMEOUTS)
    return Diagnosis(TARGET, Symptom.HIGH_ERROR_RATE, findings, causes, "High Error Rates", 1234.0)


def flood(findings: int = 40, evidence: int = 20, evidence_chars: int = 5000, facts: int = 12) -> Diagnosis:
    """Every budget blown at once: many findings, many huge evidence lines, more facts than fields."""
    statuses = list(Status)

    def finding(n: int) -> Finding:
        line = f"<script>finding {n}</script> & " + "x" * evidence_chars
        return Finding(
            f"check_{n}", f"Check number {n}", statuses[n % len(statuses)], f"Summary {n} <b>&</b>",
            facts=tuple(Fact(f"fact {k}", f"value {k} <{k}>", "1", Status.WARN) for k in range(facts)),
            evidence=tuple(line[:evidence_chars] for _ in range(evidence)),
            causes=(Cause(f"cause_{n}", f"Cause {n}", 0.1, tuple(f"ev {k}" for k in range(8))),),
            guide_section="High Error Rates", duration_ms=float(n),
        )

    items = tuple(finding(n) for n in range(findings))
    causes = tuple(c for f in items for c in f.causes)
    return Diagnosis(TARGET, Symptom.HIGH_ERROR_RATE, items, causes, None, 9876.0)
