"""Rendering a Diagnosis: Block Kit for Slack (`blocks`), terminal text (`text`), JSON (`jsonout`).

This module holds the wording the three share, so Slack and the terminal never describe the same diagnosis
differently. Nothing here knows Slack markup; `blocks` adds it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.model import Proposal, Status, Symptom
from bot.verdict import confidence_word

STATUS_EMOJI = {
    Status.CRIT: ":red_circle:",
    Status.WARN: ":large_orange_circle:",
    Status.ERROR: ":warning:",
    Status.NO_DATA: ":white_circle:",
    Status.OK: ":large_green_circle:",
}

STATUS_WORD = {
    Status.CRIT: "critical",
    Status.WARN: "warning",
    Status.ERROR: "check failed",
    Status.NO_DATA: "no data",
    Status.OK: "ok",
}


def symptom_words(symptom: Symptom) -> str:
    """`high_error_rate` -> `high error rate`: the vocabulary is for machines, people read words."""
    if symptom is Symptom.UNKNOWN:
        return "quick sweep (no symptom given)"
    return symptom.value.replace("_", " ")


def confidence_text(confidence: float) -> str:
    """`high, 87 %`: the word is what people act on, the number lets them compare causes."""
    return f"{confidence_word(confidence)}, {round(confidence * 100)} %"


def duration_text(duration_ms: float) -> str:
    if duration_ms < 1000:
        return f"{duration_ms:.0f} ms"
    return f"{duration_ms / 1000:.1f} s"


def fact_text(label: str, value: str, threshold: str | None) -> str:
    return f"{label}: {value}" + (f" (threshold {threshold})" if threshold else "")


# How each remediation reads in a sentence, with the parameters the phrase shows. The names are the stable
# action vocabulary of DESIGN.md; an unknown action, or a parameter the phrase would hide, falls back to the
# plain `action k=v` label so nothing the approver should see goes missing.
_Phrase = tuple[frozenset[str], Callable[[Mapping[str, str]], str]]
_PHRASES: Mapping[str, _Phrase] = {
    "scale": (frozenset({"replicas"}), lambda p: f"scale to {p['replicas']} replicas" if p else "scale"),
    "restart": (frozenset(), lambda p: "rollout restart"),
    "rollback": (frozenset({"to_revision"}), lambda p: f"rollback to revision {p['to_revision']}" if p
                 else "rollback to the previous revision"),
    "delete-pod": (frozenset({"pod"}), lambda p: f"delete pod {p['pod']}" if p else "delete a pod"),
    "flush-cache": (frozenset(), lambda p: "flush the cache"),
    "terminate-idle": (frozenset({"older_than"}),
                       lambda p: f"terminate DB connections idle for over {p.get('older_than', '1h')}"),
    "cancel-query": (frozenset({"pid"}), lambda p: f"cancel query {p['pid']}" if p else "cancel a query"),
    "debug-logging": (frozenset({"minutes"}),
                      lambda p: f"debug logging for {p['minutes']} min" if p else "debug logging"),
    "scale-to-zero": (frozenset(), lambda p: "scale to zero"),
    "restore-replicas": (frozenset(), lambda p: "restore replicas"),
}


def proposal_phrase(proposal: Proposal) -> str:
    entry = _PHRASES.get(proposal.action)
    if entry is None or set(proposal.params) - entry[0]:
        return proposal.label
    return entry[1](proposal.params)


def proposal_sentence(proposal: Proposal) -> str:
    """`Proposed: rollback to revision 6 — needs approval (roll back to revision 6 (app:2.4.1))`."""
    reason = f" ({proposal.reason})" if proposal.reason else ""
    return f"Proposed: {proposal_phrase(proposal)} — needs approval{reason}"
