"""Alert triage messages as Block Kit: what was understood (with snooze buttons), the counter line, the
closing note, the storm summary and the "could not place it" help. Every dynamic string is escaped."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from bot.render.limits import SECTION_TEXT, BlockLimitError, check_message, escape_mrkdwn, truncate_mrkdwn
from bot.triage.fingerprint import Fingerprint
from bot.triage.result import TriageResult
from bot.triage.storm import StormSummary

SlackMessage = dict[str, Any]
SNOOZE_ACTION_PREFIX = "triage_snooze:"
SUMMARY_LINES = 30  # the rest is counted in one line; the total always covers every alert


def _esc(text: str, limit: int = 200) -> str:
    return truncate_mrkdwn(escape_mrkdwn(text), limit)


def _clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime(epoch))


def span_text(seconds: float) -> str:
    """How long it fired, to the unit people think in: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def _message(text: str, blocks: list[dict[str, Any]]) -> SlackMessage:
    message = {"text": truncate_mrkdwn(text, 3000), "blocks": blocks}
    errors = check_message(message)
    if errors:
        raise BlockLimitError("; ".join(errors))
    return message


def _section(text: str, block_id: str) -> dict[str, Any]:
    return {"type": "section", "block_id": block_id, "text": {"type": "mrkdwn", "text": text}}


def _context(text: str, block_id: str) -> dict[str, Any]:
    return {"type": "context", "block_id": block_id, "elements": [{"type": "mrkdwn", "text": text}]}


def understood_message(
    result: TriageResult, fp: Fingerprint, *, window_s: float, snooze_choices_min: Sequence[int], diagnosing: bool
) -> SlackMessage:
    """The first reply in an alert's thread: what triage read, then (in later replies) the findings."""
    services = ", ".join(f"*{_esc(s, 80)}*" for s in fp.services)
    severity = result.severity or "not stated"
    line = (f":rotating_light: I read this as *{_esc(fp.symptom.value, 60)}* on {services} · "
            f"severity *{severity}* · source *{_esc(fp.source, 40)}*")
    if result.request_ids:
        line += "\nRequest IDs: " + ", ".join(f"`{_esc(r, 80)}`" for r in result.request_ids[:10])
    next_step = ("Diagnosing now — findings follow in this thread." if diagnosing
                 else "No runbook for this symptom; nothing to diagnose.")
    note = f"{next_step} Repeats within {span_text(window_s)} are counted here instead of re-diagnosed."
    buttons = [
        {"type": "button", "action_id": f"{SNOOZE_ACTION_PREFIX}{minutes}", "value": f"{fp.key}|{minutes}",
         "text": {"type": "plain_text", "text": f"Snooze {span_text(minutes * 60)}"}}
        for minutes in snooze_choices_min
    ]
    blocks = [_section(line, "triage-understood"), _context(note, "triage-next"),
              {"type": "actions", "block_id": "triage-snooze", "elements": buttons}]
    return _message(line, blocks)


def counter_message(count: int, first_seen: float, latest: float) -> SlackMessage:
    """The thread's counter line, edited in place as repeats arrive (one line, not one post per repeat)."""
    line = f":repeat: *Fired {count} times* since {_clock(first_seen)} (latest {_clock(latest)})"
    return _message(line, [_section(line, "triage-counter")])


def closing_message(fired_s: float | None, count: int | None) -> SlackMessage:
    how_long = f" after firing for *{span_text(fired_s)}*" if fired_s is not None else ""
    times = f" ({count} notification{'s' if count != 1 else ''})" if count else ""
    line = f":white_check_mark: *Resolved*{how_long}{times}."
    return _message(line, [_section(line, "triage-resolved")])


def snoozed_message(user: str, minutes: int, until: float) -> SlackMessage:
    line = (f":no_bell: <@{_esc(user, 40)}> snoozed this alert for {span_text(minutes * 60)} "
            f"(until {_clock(until)}); repeats are still counted.")
    return _message(line, [_section(line, "triage-snoozed")])


def storm_summary_message(summary: StormSummary) -> SlackMessage:
    head = (f":cloud_with_lightning: *Alert storm* — *{summary.total} alerts* since {_clock(summary.started)} "
            "counted here instead of one thread each")
    ranked = summary.ranked()
    lines = [f"• *{line.count}×* {_esc(line.label)}{' — resolved' if line.resolved else ''}"
             for line in ranked[:SUMMARY_LINES]]
    rest = ranked[SUMMARY_LINES:]
    if rest:
        lines.append(f"• and {len(rest)} more alert kinds, *{sum(r.count for r in rest)}×* in all")
    body = truncate_mrkdwn("\n".join(lines), SECTION_TEXT, "lines")
    blocks = [_section(head, "storm-head"), _section(body or "(nothing yet)", "storm-lines"),
              _context(f"Updated {_clock(summary.last_added)} · alerts already in a thread are counted there",
                       "storm-updated")]
    return _message(head, blocks)


def unplaced_message(help_text: str) -> SlackMessage:
    line = ":thinking_face: I could not tell which service this is about. Ask me with `/diagnose SERVICE [SYMPTOM]`."
    return _message(f"{line}\n{help_text}", [
        _section(line, "unplaced"), _section(truncate_mrkdwn(help_text, SECTION_TEXT, "lines"), "unplaced-help"),
    ])


def diagnosis_failed_message(service: str) -> SlackMessage:
    line = f":warning: The diagnosis of *{_esc(service, 80)}* failed unexpectedly; see the bot's logs."
    return _message(line, [_section(line, "triage-failed")])
