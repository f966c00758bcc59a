"""Alert triage: what a message in #ops-support says is wrong, where, and how badly.

`triage_event(event, config)` reads one Slack message event and returns a `TriageResult` (the
`opsbot triage` contract of DESIGN.md). Pure: no I/O and no Slack client; the handler decides what to post.
"""

from bot.triage.result import TriageResult
from bot.triage.route import triage_event

__all__ = ["TriageResult", "triage_event"]
