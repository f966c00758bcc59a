"""Ranking causes across all findings of a diagnosis.

Findings of different checks that point at the same explanation (same cause key) are combined with a
noisy-or, so independent evidence raises confidence; a cause that only corroborates another (an
unhandled exception corroborates "bad deploy") folds into it when present. If the runbook's first check
says the symptom itself is absent right now, every suspect is discounted: there is nothing to explain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from bot.model import Cause, Finding, Proposal, Status

ABSENT_SYMPTOM_DISCOUNT = 0.3


def rank_causes(
    findings: Sequence[Finding], symptom_check: str | None, allowed_actions: Iterable[str]
) -> tuple[Cause, ...]:
    allowed = set(allowed_actions)
    causes = [cause for finding in findings for cause in finding.causes]
    keys = {cause.key for cause in causes}
    groups: dict[str, list[Cause]] = {}
    for cause in causes:
        key = next((k for k in cause.supports if k in keys), cause.key)
        groups.setdefault(key, []).append(cause)
    symptom = next((f for f in findings if symptom_check and f.check == symptom_check), None)
    discount = symptom is not None and symptom.status is Status.OK
    ranked = [_finish(_combine(key, group), allowed, discount) for key, group in groups.items()]
    return tuple(sorted(ranked, key=lambda c: -c.confidence))


def _combine(key: str, group: list[Cause]) -> Cause:
    # The title comes from the cause that is itself the explanation, not from one that only supports it.
    lead = next((c for c in group if c.key == key), group[0])
    others = [c for c in group if c is not lead]
    unexplained = 1.0
    for cause in group:
        unexplained *= 1 - cause.confidence
    return Cause(
        key=key,
        title=lead.title,
        confidence=1 - unexplained,
        evidence=lead.evidence + tuple(line for c in others for line in c.evidence),
        guide_section=lead.guide_section or next((c.guide_section for c in others if c.guide_section), None),
        proposals=_unique(lead.proposals + tuple(p for c in others for p in c.proposals)),
    )


def _unique(proposals: tuple[Proposal, ...]) -> tuple[Proposal, ...]:
    """One proposal per action: two checks suggesting `memory-bump` with slightly different limits would
    otherwise become two buttons for the same fix. The lead cause's (listed first) wins."""
    seen: dict[str, Proposal] = {}
    for proposal in proposals:
        seen.setdefault(proposal.action, proposal)
    return tuple(seen.values())


def _finish(cause: Cause, allowed: set[str], discount: bool) -> Cause:
    confidence = cause.confidence * (ABSENT_SYMPTOM_DISCOUNT if discount else 1.0)
    return replace(
        cause,
        confidence=round(min(confidence, 0.99), 2),
        proposals=tuple(p for p in cause.proposals if p.action in allowed),
    )


def confidence_word(confidence: float) -> str:
    return "high" if confidence >= 0.7 else "medium" if confidence >= 0.4 else "low"
