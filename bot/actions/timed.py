"""What the timed changes (debug-logging, memory-bump) share: the value they replace is kept in a deployment
annotation, written in the same patch as the change, so the revert can run on any bot replica from the
cluster alone, whenever the approvals scheduler fires it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.actions.base import REVERT_PARAM, Outcome
from bot.actions.common import rfc3339
from bot.model import Proposal

# Annotation value meaning "there was no value": the revert then removes the setting instead of setting it.
UNSET = "<unset>"


@dataclass(frozen=True)
class TimedParams:
    """`revert`: go back to the recorded value. `value` is the new setting (ignored for a revert)."""

    minutes: int
    revert: bool
    value: str = ""


def recorded_or_current(annotations: dict[str, str], key: str, current: str | None) -> str:
    """Keep the first recorded value: a second execute (or a longer extension) must not record the
    temporary value as the one to return to."""
    return annotations.get(key) or (current if current is not None else UNSET)


def until(now: datetime, minutes: int) -> datetime:
    return now + timedelta(minutes=minutes)


def timed_outcome(action: str, summary: str, detail: tuple[str, ...], reverts_at: datetime) -> Outcome:
    return Outcome(
        ok=True,
        summary=f"{summary}; reverts automatically at {rfc3339(reverts_at)}",
        detail=detail,
        revert=Proposal(action, {REVERT_PARAM: "true"}, reason=f"automatic revert at {rfc3339(reverts_at)}"),
        reverts_at=reverts_at,
    )
