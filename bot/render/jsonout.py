"""A Diagnosis as JSON (`opsbot diagnose --json`): stable keys for scripts, nothing shortened or dropped.

Plain dicts of str/float/list/None only, so `json.dumps` needs no custom encoder. Statuses are their
vocabulary values (`crit`, `no_data`, ...), confidences are fractions in 0..1.
"""

from __future__ import annotations

from typing import Any

from bot.model import Cause, Diagnosis, Fact, Finding, Proposal


def diagnosis_json(diag: Diagnosis) -> dict[str, Any]:
    likely = diag.likely_cause
    return {
        "service": diag.target.service,
        "namespace": diag.target.namespace,
        "symptom": diag.symptom.value,
        "status": diag.status.value,
        "duration_ms": diag.duration_ms,
        "guide_section": diag.guide_section,
        "likely_cause": _cause(likely) if likely else None,
        "causes": [_cause(c) for c in diag.causes],
        "findings": [_finding(f) for f in diag.findings],
    }


def _cause(cause: Cause) -> dict[str, Any]:
    return {
        "key": cause.key,
        "title": cause.title,
        "confidence": cause.confidence,
        "evidence": list(cause.evidence),
        "guide_section": cause.guide_section,
        "proposals": [_proposal(p) for p in cause.proposals],
    }


def _proposal(proposal: Proposal) -> dict[str, Any]:
    return {"action": proposal.action, "params": dict(proposal.params), "reason": proposal.reason}


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "check": finding.check,
        "title": finding.title,
        "status": finding.status.value,
        "summary": finding.summary,
        "facts": [_fact(f) for f in finding.facts],
        "evidence": list(finding.evidence),
        # The check's own view, before ranking combined causes across findings (top-level `causes`).
        "causes": [_cause(c) for c in finding.causes],
        "guide_section": finding.guide_section,
        "duration_ms": finding.duration_ms,
    }


def _fact(fact: Fact) -> dict[str, Any]:
    return {
        "label": fact.label,
        "value": fact.value,
        "threshold": fact.threshold,
        "status": fact.status.value,
    }
