"""What the timed changes (debug-logging, memory-bump) share: the value they replace is kept in a deployment
annotation, written in the same patch as the change, so the revert can run on any bot replica from the
cluster alone, whenever the approvals scheduler fires it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.actions.base import REVERT_PARAM, Outcome, Preview
from bot.actions.common import rfc3339
from bot.model import Proposal, Target

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
    # HH:MM UTC as every time people read; the annotation keeps the exact moment.
    at = reverts_at.astimezone(UTC).strftime("%H:%M UTC")
    return Outcome(
        ok=True,
        summary=f"{summary}; reverts automatically at {at}",
        detail=detail,
        revert=Proposal(action, {REVERT_PARAM: "true"}, reason=f"automatic revert at {at}"),
        reverts_at=reverts_at,
    )


@dataclass(frozen=True)
class TimedChange:
    """What one timed change writes: the new setting (None removes it), the annotations, and a line to show."""

    value: str | None
    annotations: dict[str, str | None]
    line: str


@dataclass(frozen=True)
class TimedSetting:
    """Which setting a timed action changes and where it records the value to return to."""

    label: str  # as shown: "LOG_LEVEL", "limits.memory"
    before_key: str  # annotation holding the value before the change
    until_key: str  # annotation holding when the change reverts
    absent: str  # how a missing value reads: "unset", "no limit"

    def change(self, annotations: dict[str, str], current: str | None, params: TimedParams, wanted: str,
               reverts_at: datetime) -> TimedChange:
        """Forward: `wanted`, recording what it replaces. Revert: back to the recorded value, dropping both
        annotations, so the deployment carries no trace of the bot afterwards."""
        shown = current or self.absent
        if params.revert:
            before = annotations.get(self.before_key)
            value = None if before in (None, UNSET) else before
            return TimedChange(value, {self.before_key: None, self.until_key: None},
                               f"{self.label}: {shown} -> {value or self.absent}")
        recorded = {self.before_key: recorded_or_current(annotations, self.before_key, current),
                    self.until_key: rfc3339(reverts_at)}
        return TimedChange(wanted, dict(recorded), f"{self.label}: {shown} -> {wanted}")


def rolling_preview(target: Target, container: str, line: str, what: str, state: dict[str, str]) -> Preview:
    """The preview of a template change the API server's dry run accepted (it rolls the pods)."""
    return Preview(summary=f"{what} on {target.deployment} (rolls its pods)",
                   changes=(f"deployment/{target.deployment} container {container}: {line}",
                            "(server dry run accepted)"),
                   state=state)
