"""Which permission 403s deny, and which role would grant it, from the ops config's access policy.

Services log a denial as e.g. "Permission denied: role viewer lacks write:orders". Counting those by
(role, permission) and looking the permission up in the policy (the guide's viewer/editor/admin
example, with `*` wildcards) turns "403s" into "callers with role viewer need write:orders, which
editor and admin grant".
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from bot.access_policy import AccessPolicy
from bot.checks.auth_causes import MISSING_PERMISSION
from bot.checks.base import CheckContext, SourceSet
from bot.checks.error_logs import LogEvidence, read_recent_logs, unread_finding
from bot.checks.excerpts import excerpt
from bot.checks.formatting import percent
from bot.model import Cause, Fact, Finding, Status

GUIDE = "Permission Denied (403)"
MIN_LINES = 3
TOP_PAIRS = 5
_NAME = r"[A-Za-z][\w-]*"
_PERMISSION = r"(?:\*|[a-z][\w-]*):(?:\*|[a-z][\w-]*)"
# "Permission denied: role viewer lacks write:orders", "forbidden: role=viewer missing permission write:orders"
DENIAL = re.compile(
    rf"(?:permission denied|forbidden|access denied)\W.*?\brole[=: ]\s*[\"']?(?P<role>{_NAME})[\"']?"
    rf".*?\b(?:lacks|missing|without|requires|needs)\b(?:\s+permission)?\s+[\"']?(?P<perm>{_PERMISSION})",
    re.I,
)
ENDPOINT = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) (/\S*)")


@dataclass(frozen=True)
class Denial:
    role: str
    permission: str
    count: int
    endpoints: tuple[str, ...]
    example: str


def denials(evidence: LogEvidence) -> list[Denial]:
    """(role, permission) pairs the logs deny, most frequent first, with the endpoints they hit."""
    counts: Counter[tuple[str, str]] = Counter()
    endpoints: dict[tuple[str, str], Counter[str]] = {}
    examples: dict[tuple[str, str], str] = {}
    for line in evidence.lines:
        match = DENIAL.search(line.text)
        if match is None:
            continue
        pair = (match["role"].lower(), match["perm"].lower())
        counts[pair] += 1
        examples.setdefault(pair, excerpt(line.text, 300))
        where = ENDPOINT.search(line.text)
        if where:
            endpoints.setdefault(pair, Counter())[f"{where[1]} {where[2]}"] += 1
    return [
        Denial(role, perm, n, tuple(e for e, _ in endpoints.get((role, perm), Counter()).most_common(3)),
               examples[(role, perm)])
        for (role, perm), n in counts.most_common()
    ]


def explain(policy: AccessPolicy, denial: Denial) -> str:
    """One sentence: what the policy says about this role and permission."""
    granting = policy.granting(denial.permission)
    if denial.role not in policy.roles:
        known = ", ".join(policy.roles) or "none"
        grant = f"; {', '.join(granting)} grant {denial.permission}" if granting else ""
        return f"role {denial.role} is not in the access policy (roles: {known}){grant}"
    if policy.grants(denial.role, denial.permission):
        return (f"the policy says {denial.role} grants {denial.permission}, yet the service denied it: "
                "the service's roles differ from the ops config's access policy")
    if not granting:
        return f"no role in the access policy grants {denial.permission}"
    return f"{denial.role} lacks {denial.permission}; granted by {', '.join(granting)}"


class AccessPolicyCheck:
    """Denied permissions in recent logs, explained by the ops config's access policy (who grants them)."""

    name = "access_policy"
    title = "Denied permissions"
    guide_section = GUIDE

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> LogEvidence:
        return await read_recent_logs(sources, ctx)

    def assess(self, evidence: LogEvidence, ctx: CheckContext) -> Finding:
        if not evidence.lines:
            return unread_finding(self, evidence)
        found = denials(evidence)
        total = sum(d.count for d in found)
        if total < MIN_LINES:
            summary = f"{total} permission denials in the last {len(evidence.lines):,} log lines."
            return Finding(self.name, self.title, Status.OK, summary,
                           facts=(Fact("denials", f"{total}"),), guide_section=GUIDE)
        policy = ctx.access_policy
        top = found[0]
        share = top.count / total
        status = Status.CRIT if total / len(evidence.lines) >= ctx.thresholds.error_rate else Status.WARN
        facts = (
            Fact("denials", f"{total:,} of {len(evidence.lines):,} lines", None, status),
            Fact("most denied", f"{top.role} → {top.permission} ({percent(share)})"),
            Fact("granted by", ", ".join(policy.granting(top.permission)) or "no role"),
        )
        lines = tuple(f"{d.count:,}x role {d.role} denied {d.permission}{_at(d)}: {explain(policy, d)}"
                      for d in found[:TOP_PAIRS])
        summary = f"{total:,} permission denials; most: {explain(policy, top)} ({top.count:,}, {percent(share)})."
        return Finding(self.name, self.title, status, summary, facts=facts, evidence=lines,
                       causes=(_cause(policy, top, total),), guide_section=GUIDE)


def _at(denial: Denial) -> str:
    return f" on {', '.join(denial.endpoints)}" if denial.endpoints else ""


def _cause(policy: AccessPolicy, denial: Denial, total: int) -> Cause:
    granting = policy.granting(denial.permission)
    fix = f"grant {granting[0]} (or add {denial.permission} to {denial.role})" if granting else \
        f"add {denial.permission} to a role"
    return Cause(
        key=MISSING_PERMISSION,
        title=f"Role {denial.role} lacks {denial.permission}{_at(denial)}: {fix}",
        confidence=round(0.35 + 0.55 * denial.count / total, 2),
        evidence=(f"{denial.count:,} of {total:,} denials: {denial.example}", explain(policy, denial)),
        guide_section=GUIDE,
    )
