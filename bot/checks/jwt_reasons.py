"""Why tokens are rejected: the 401 reasons the services log (expired, signature, format, revoked, ...).

The guide's four causes of "Invalid JWT token" each leave a different message in the logs; counting
them says which one is behind a surge of 401s. Reasons are grouped into the guide's causes (cause keys
`jwt_expired`, `jwt_signature`, `jwt_format`, `jwt_blacklisted`); a token "not yet valid" points at a
clock, so it counts towards `clock_skew`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from bot.checks.base import CheckContext, SourceSet
from bot.checks.error_logs import LogEvidence, read_recent_logs, unread_finding
from bot.checks.excerpts import excerpt
from bot.checks.formatting import percent
from bot.model import Cause, Fact, Finding, Status

# A line is about a rejected token only if it says so; "token" alone also appears in 429s and issuance.
AUTH_FAILURE = re.compile(r"\b401\b|invalid (jwt|token)|unauthori[sz]ed|\bjwt\b", re.I)
MIN_LINES = 3  # fewer rejections than this are background, not a cause
# Shares of log lines that report a rejected token. Not the guide's 5 %: that is a share of requests, which
# unauthorized_share measures; services write several lines per request, or none, so lines are not requests.
# This check says why tokens are rejected; the share only says whether there are enough rejections to
# matter. As for error lines (error_logs): a healthy auth service rejects a few stale tokens all day, which
# stays under 1 %; above it they are worth a look, above 10 % they dominate the logs.
WARN_SHARE = 0.01
CRIT_SHARE = 0.10
TOP_PODS = 3
GUIDE = "Invalid JWT Token (401)"


@dataclass(frozen=True)
class Reason:
    name: str
    pattern: re.Pattern[str]
    cause: str


# First match wins, so the specific reasons (kid, alg) come before the generic "signature".
REASONS = (
    Reason("expired", re.compile(r"\bexpired\b|ExpiredSignature|exp claim", re.I), "jwt_expired"),
    Reason("not yet valid", re.compile(r"not yet valid|ImmatureSignature|issued in the future|\bnbf\b", re.I),
           "clock_skew"),
    Reason("blacklisted", re.compile(r"blacklist|revoked|denylist|logged out", re.I), "jwt_blacklisted"),
    Reason("unsupported alg", re.compile(r"unsupported alg|algorithm \S+ not (allowed|supported)|alg[= ]none", re.I),
           "jwt_signature"),
    Reason("missing kid", re.compile(r"\bkid\b", re.I), "jwt_signature"),
    Reason("signature", re.compile(r"signature", re.I), "jwt_signature"),
    Reason("format", re.compile(r"malformed|not enough segments|wrong number of segments|invalid (token )?format|"
                                r"DecodeError|invalid (base64|header|payload)|invalid padding", re.I), "jwt_format"),
)

CAUSE_TITLES = {
    "jwt_expired": "Clients send expired tokens (older than the token lifetime) and do not refresh",
    "jwt_signature": "Token signatures cannot be verified (signing key rotated, unknown kid or algorithm)",
    "jwt_format": "Malformed tokens (not three base64url parts, bad header)",
    "jwt_blacklisted": "Revoked tokens (blacklisted after logout) are still being used",
    "clock_skew": "Tokens are not yet valid: a clock is off",
}


@dataclass(frozen=True)
class ReasonCount:
    reason: Reason
    count: int
    pods: tuple[str, ...]
    example: str


def classify(text: str) -> Reason | None:
    if not AUTH_FAILURE.search(text):
        return None
    return next((r for r in REASONS if r.pattern.search(text)), None)


def count_reasons(evidence: LogEvidence) -> list[ReasonCount]:
    counts: Counter[str] = Counter()
    pods: dict[str, Counter[str]] = {}
    examples: dict[str, str] = {}
    by_name = {r.name: r for r in REASONS}
    for line in evidence.lines:
        reason = classify(line.text)
        if reason is None:
            continue
        counts[reason.name] += 1
        pods.setdefault(reason.name, Counter())[line.pod] += 1
        examples.setdefault(reason.name, excerpt(line.text, 300))
    return [
        ReasonCount(by_name[name], n, tuple(p for p, _ in pods[name].most_common(TOP_PODS)), examples[name])
        for name, n in counts.most_common()
    ]


class JwtReasonsCheck:
    """Reasons for rejected tokens in recent logs: expired, signature, format, blacklisted, alg, kid."""

    name = "jwt_reasons"
    title = "Token rejection reasons"
    guide_section = GUIDE

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> LogEvidence:
        return await read_recent_logs(sources, ctx)

    def assess(self, evidence: LogEvidence, ctx: CheckContext) -> Finding:
        if not evidence.lines:
            return unread_finding(self, evidence)
        reasons = count_reasons(evidence)
        total = sum(r.count for r in reasons)
        share = total / len(evidence.lines)
        status = (Status.OK if total < MIN_LINES or share < WARN_SHARE
                  else Status.CRIT if share >= CRIT_SHARE else Status.WARN)
        facts = [Fact("rejected-token lines", f"{total:,} of {len(evidence.lines):,} ({percent(share)})",
                      f"{percent(WARN_SHARE)} / {percent(CRIT_SHARE)} of lines", status)]
        facts += [Fact(r.reason.name, f"{r.count:,} ({percent(r.count / total)})") for r in reasons]
        lines = tuple(f"{r.count:,}x {r.reason.name} on {', '.join(r.pods)}: {r.example}" for r in reasons)
        if total == 0:
            summary = f"No rejected-token messages in the last {len(evidence.lines):,} log lines."
        else:
            top = reasons[0]
            summary = (f"{total:,} rejected-token messages in the last {len(evidence.lines):,} log lines; "
                       f"most common: {top.reason.name} ({percent(top.count / total)}).")
        causes = () if status is Status.OK else _causes(reasons, total)
        return Finding(self.name, self.title, status, summary, facts=tuple(facts), evidence=lines,
                       causes=causes, guide_section=GUIDE)


def _causes(reasons: list[ReasonCount], total: int) -> tuple[Cause, ...]:
    by_cause: dict[str, list[ReasonCount]] = {}
    for r in reasons:
        by_cause.setdefault(r.reason.cause, []).append(r)
    causes = []
    for key, group in by_cause.items():
        count = sum(r.count for r in group)
        if count < MIN_LINES:
            continue
        share = count / total
        causes.append(Cause(
            key=key,
            title=CAUSE_TITLES[key],
            # The dominant reason explains the surge; a reason seen in a tenth of the lines is background.
            confidence=round(0.2 + 0.6 * share, 2),
            evidence=tuple(f"{r.count:,} of {total:,} rejections: {r.reason.name}, e.g. {r.example}" for r in group),
            guide_section=GUIDE,
            # Tokens that look expired on some pods are what a fast pod clock produces: when a skewed clock
            # is found, expiry folds into it rather than standing as a separate explanation.
            supports=("clock_skew",) if key == "jwt_expired" else (),
        ))
    return tuple(causes)
