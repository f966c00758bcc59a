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


# How each remediation reads in a sentence. The names are the stable action vocabulary of DESIGN.md; every
# action has a phrase. The params a proposal pins after its preview (terminate-idle's `pids`, cancel-query's
# `query_start`) are what makes executing touch exactly what was previewed, not something to read: the
# phrase counts the pids and leaves the timestamp out (the audit trail keeps them exactly). An unknown
# action, or a parameter the phrase does not know, falls back to the plain `action k=v` label (empty values
# left out) so nothing the approver should see goes missing.
_Phrase = tuple[frozenset[str], Callable[[Mapping[str, str]], str]]


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _pids(text: str) -> int:
    return len([pid for pid in text.split(",") if pid.strip()])


def _terminate_idle(p: Mapping[str, str]) -> str:
    # Without older_than the configured default applies, which the preview pins; no guess shown meanwhile.
    idle = f" (idle > {p['older_than']})" if p.get("older_than") else ""
    if "pids" not in p:  # proposed by a diagnosis, before a preview listed the sessions
        return f"terminate idle DB connections{idle}"
    return f"terminate {_count(_pids(p['pids']), 'idle DB connection', 'idle DB connections')}{idle}"


def _timed(what: str, p: Mapping[str, str]) -> str:
    return f"{what} for {p['minutes']} min" if p.get("minutes") else what


def _is_revert(p: Mapping[str, str]) -> bool:
    return p.get("revert", "").strip().lower() in ("1", "true", "yes", "on")


def _maintenance(p: Mapping[str, str]) -> str:
    mode = (p.get("mode") or next((key for key in p if key in ("on", "off")), "")).strip().lower()
    if mode == "on":
        return "maintenance mode on (503 for every request)"
    if mode == "off":
        return "maintenance mode off (traffic back to the services)"
    return "maintenance mode"


_PHRASES: Mapping[str, _Phrase] = {
    "scale": (frozenset({"replicas"}), lambda p: f"scale to {p['replicas']} replicas" if p.get("replicas")
              else "scale the deployment"),
    "restart": (frozenset(), lambda p: "rollout restart"),
    "rollback": (frozenset({"to_revision"}), lambda p: f"rollback to revision {p['to_revision']}"
                 if p.get("to_revision") else "rollback to the previous revision"),
    "delete-pod": (frozenset({"pod"}), lambda p: f"delete pod {p['pod']}" if p.get("pod") else "delete a pod"),
    "flush-cache": (frozenset(), lambda p: "flush the platform cache"),
    "terminate-idle": (frozenset({"older_than", "pids"}), _terminate_idle),
    "cancel-query": (frozenset({"pid", "query_start"}),
                     lambda p: f"cancel query {p['pid']}" if p.get("pid") else "cancel a query"),
    "debug-logging": (frozenset({"minutes", "revert"}),
                      lambda p: "debug logging back off (revert)" if _is_revert(p)
                      else _timed("debug logging", p)),
    "memory-bump": (frozenset({"limit", "minutes", "revert"}),
                    lambda p: "memory limit back to its value before the bump (revert)" if _is_revert(p)
                    else _timed(f"raise the memory limit to {p['limit']}" if p.get("limit")
                                else "raise the memory limit", p)),
    "maintenance": (frozenset({"mode", "on", "off"}), _maintenance),
    "scale-to-zero": (frozenset(), lambda p: "scale to zero"),
    "restore-replicas": (frozenset(), lambda p: "restore replicas (as before scale-to-zero)"),
}


def proposal_phrase(proposal: Proposal) -> str:
    """`cancel query 2616`, `terminate 5 idle DB connections (idle > 1h)`: the action as a person says it."""
    entry = _PHRASES.get(proposal.action)
    if entry is None or set(proposal.params) - entry[0]:
        shown = " ".join(f"{k}={v}" for k, v in sorted(proposal.params.items()) if v.strip())
        return f"{proposal.action} {shown}".strip()
    return entry[1](proposal.params)


def proposal_sentence(proposal: Proposal, not_offered: str | None = None) -> str:
    """`Proposed: rollback to revision 6 — needs approval (roll back to revision 6 (app:2.4.1))`; with
    `not_offered`, why it has no button (`... — not offered: nothing to change — already runs 3 replicas`)."""
    if not_offered is not None:
        return f"Proposed: {proposal_phrase(proposal)} — not offered: {not_offered}"
    reason = f" ({proposal.reason})" if proposal.reason else ""
    return f"Proposed: {proposal_phrase(proposal)} — needs approval{reason}"
