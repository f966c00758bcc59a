"""Did the fix work? Wait for the action to settle, re-run the symptom's runbook, compare before and after.

The comparison reads the runbook's symptom check (its first check, which measures the symptom itself): a
lower status is better. At the same unhealthy status its key number decides: the fact that gave the finding
its status before (p99 for a latency warning, not the first fact p50), read on the same fact afterwards;
moving back towards its threshold is better, with a tolerance so that noise reads as "unchanged". Healthy
before and after is unchanged, saying how the number moved if it did. An action with no symptom to re-measure
(`ChecksItself`: scale-to-zero, restore-replicas, maintenance, debug-logging) is judged by its own check
instead, read the same way (`compare_reached`); one whose direct effect a diagnosis check measures
(`VerifiedByCheck`: cancel-query by long_queries) by that check.
Core only: no Slack.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.actions.base import ActionEnv, ActionError, ChecksItself
from bot.model import Fact, Finding, Proposal, Status, Symptom, Target
from bot.sources.errors import SourceError

log = logging.getLogger(__name__)

# Rollouts of a few replicas finish in a minute or two; past this, waiting longer tells nothing new and
# the verdict says the rollout had not settled.
SETTLE_TIMEOUT_S = 300.0
SETTLE_POLL_S = 2.0
# A key number moving by less than this share of itself is noise, not a change.
RELATIVE_TOLERANCE = 0.10
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_UNJUDGEABLE = frozenset({Status.ERROR, Status.NO_DATA})


class Trend(StrEnum):
    BETTER = "better"
    UNCHANGED = "unchanged"
    WORSE = "worse"
    UNKNOWN = "unknown"  # nothing to compare: no runbook, a failed check, or no baseline


@dataclass(frozen=True)
class Verification:
    """The verdict on one executed request. `before`/`after` are the symptom check's findings."""

    request_id: str
    service: str
    symptom: Symptom | None
    trend: Trend
    note: str
    before: Finding | None = None
    after: Finding | None = None
    settled: bool = True
    revert: Proposal | None = None

    @property
    def key_fact_before(self) -> Fact | None:
        return key_facts(self.before, self.after)[0]

    @property
    def key_fact_after(self) -> Fact | None:
        return key_facts(self.before, self.after)[1]


def key_fact(finding: Finding | None) -> Fact | None:
    """The fact that decided the finding's status (the first one at that status when it is not OK), else the
    first fact: a latency warning is about its p99, not the p50 listed first."""
    if finding is None or not finding.facts:
        return None
    if finding.status is not Status.OK:
        deciding = next((f for f in finding.facts if f.status is finding.status), None)
        if deciding is not None:
            return deciding
    return finding.facts[0]


def same_fact(finding: Finding | None, label: str) -> Fact | None:
    return next((f for f in finding.facts if f.label == label), None) if finding is not None else None


def key_facts(before: Finding | None, after: Finding | None) -> tuple[Fact | None, Fact | None]:
    """The key fact before and the same fact (same label) after, so both sides speak of one number. Without a
    key fact before, the after side's own; with no such label after, none (it was not measured again)."""
    was = key_fact(before)
    return (was, same_fact(after, was.label)) if was is not None else (None, key_fact(after))


def first_number(text: str | None) -> float | None:
    """`12.1 %` -> 12.1, `1,204 ms` -> 1204, `2/3` -> 2."""
    match = _NUMBER.search(text) if text else None
    return float(match.group().replace(",", "")) if match else None


def key_number(finding: Finding | None) -> float | None:
    fact = key_fact(finding)
    return number(fact)


def number(fact: Fact | None) -> float | None:
    return first_number(fact.value) if fact is not None else None


def _lower_is_better(fact: Fact | None) -> bool | None:
    """Which way is healthy for the key number: away from where it crossed its threshold. None if unknown."""
    value, limit = (first_number(fact.value), first_number(fact.threshold)) if fact is not None else (None, None)
    if value is None or limit is None or value == limit:
        return None
    return value > limit


def _shown(value: float) -> str:
    """A key number as people read it: 1204 -> "1,204" (never "1.204e+03"), 12.5 -> "12.5"."""
    return f"{value:,.0f}" if value.is_integer() else f"{value:,g}"


def _moved(old: float, new: float) -> bool:
    return abs(new - old) > RELATIVE_TOLERANCE * max(abs(old), abs(new))


def _healthy_both(was: Fact | None, now: Fact | None) -> str:
    """Healthy before and after: the symptom was not there, so nothing changed it; but a number that clearly
    moved (connections 5 -> 0 after terminate-idle) is said, so the verdict does not read as "nothing happened"."""
    old, new = number(was), number(now)
    if was is None or old is None or new is None or not _moved(old, new):
        return "healthy before and after"
    direction = "down" if new < old else "up"
    return f"healthy before and after; {was.label} went {direction} from {_shown(old)} to {_shown(new)}"


def compare(before: Finding | None, after: Finding | None) -> tuple[Trend, str]:
    """Pure: the trend from the symptom check's finding before to the one after, and why."""
    if before is None or after is None:
        return Trend.UNKNOWN, "no measurement from before the action to compare with" if after else "no result"
    if after.status in _UNJUDGEABLE:
        return Trend.UNKNOWN, f"the check could not measure afterwards: {after.summary}"
    if before.status in _UNJUDGEABLE:
        return Trend.UNKNOWN, "the check had not measured before the action"
    if after.status.rank != before.status.rank:
        trend = Trend.BETTER if after.status.rank < before.status.rank else Trend.WORSE
        return trend, f"status {before.status} → {after.status}"
    was, now = key_facts(before, after)
    if after.status is Status.OK:
        return Trend.UNCHANGED, _healthy_both(was, now)
    old, new, lower = number(was), number(now), _lower_is_better(was)
    if was is None or old is None or new is None or lower is None:
        return Trend.UNCHANGED, f"status still {after.status}"
    if not _moved(old, new):
        return Trend.UNCHANGED, f"status still {after.status}; {was.label} moved by less than 10 %"
    improved = new < old if lower else new > old
    direction = "down" if new < old else "up"
    return ((Trend.BETTER if improved else Trend.WORSE),
            f"status still {after.status}; {was.label} went {direction} from {_shown(old)} to {_shown(new)}")


def compare_reached(before: Finding | None, after: Finding | None) -> tuple[Trend, str]:
    """Pure: `compare` for an action's own check, where OK means the state the action is meant to reach; the
    reason is said in the check's own words (its summary)."""
    trend, why = compare(before, after)
    if before is None or after is None or trend is Trend.UNKNOWN:
        return trend, why
    if before.status is Status.OK and after.status is Status.OK:
        return Trend.UNCHANGED, f"already so before the action: {after.summary}"
    if after.status is Status.OK:
        return trend, after.summary
    return trend, f"{after.summary} (before: {before.summary}; {why})"


async def measure_itself(action: ChecksItself[Any], name: str, env: ActionEnv, target: Target,
                         params: Any) -> Finding:
    """The action's own check; any failure is an ERROR finding (verification says it could not measure), as
    `engine.run_check` does for a diagnosis check: a bug here must not stop an approval or its verdict."""
    try:
        return await action.check(env, target, params)
    except (SourceError, ActionError) as exc:
        return _unmeasured(name, str(exc))
    except Exception as exc:
        log.exception("the %s check failed", name)
        return _unmeasured(name, f"The check itself failed ({type(exc).__name__}); see the bot's logs.")


def _unmeasured(name: str, summary: str) -> Finding:
    return Finding(check=name, title=f"{name} check", status=Status.ERROR, summary=summary)


async def wait_settled(
    settled: Callable[[], Awaitable[bool]],
    *,
    timeout_s: float = SETTLE_TIMEOUT_S,
    poll_s: float = SETTLE_POLL_S,
) -> bool:
    """Poll `settled` until True or the timeout; a failing read counts as not settled yet."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if await settled():
                return True
        except (SourceError, ActionError):
            pass  # a read failing mid-rollout is retried until the deadline, never fatal here
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(poll_s)
