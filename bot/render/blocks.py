"""A Diagnosis as Slack messages: plain Block Kit dicts, every limit enforced, nothing dropped silently.

The thread answer is the verdict (ranked causes) followed by the findings, worst first. Log excerpts can be
huge and full of `<`, `>`, `&` and backticks, so every dynamic string is escaped and bounded where it is
placed, findings that do not fit one message continue in the next, and whatever had to be left out is
counted and said. The finished messages are checked against the limits before they are returned: an
invalid message is a renderer bug and fails here, with the path, rather than as `invalid_blocks` at Slack.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from bot.model import Cause, Diagnosis, Fact, Finding, Proposal, Status, Symptom, Target
from bot.render import (
    STATUS_EMOJI,
    STATUS_WORD,
    confidence_text,
    duration_text,
    proposal_sentence,
    symptom_words,
)
from bot.render.limits import (
    ACTIONS_ELEMENTS,
    FALLBACK_TEXT,
    FIELD_TEXT,
    HEADER_TEXT,
    MAX_BLOCKS,
    MAX_FIELDS,
    SECTION_TEXT,
    BlockLimitError,
    check_message,
    escape_mrkdwn,
    truncate,
    truncate_mrkdwn,
)

SlackMessage = dict[str, Any]
Block = dict[str, Any]
GuideLink = Callable[[str | None], str | None]
ProposalButton = Callable[[Proposal], dict[str, Any] | None]
ProposalNote = Callable[[Proposal], str | None]  # why a proposal has no button, or None

# Per-finding budgets. They keep a realistic diagnosis in one message and a pathological one in a handful:
# the error-logs check keeps five log groups, and an eight-line traceback excerpt fits in 1,200 characters.
MAX_EXCERPTS = 5
EXCERPT_CHARS = 1200
MAX_FACTS = 20
CAUSE_EVIDENCE = 5
LINE_CHARS = 300
TITLE_CHARS = 200
URL_CHARS = 1000
# One block of every message stays free so the last one can always say what was left out.
CAPACITY = MAX_BLOCKS - 1

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


@dataclass
class _Omitted:
    """What the budgets left out, summed over the whole diagnosis for the closing note."""

    evidence: int = 0
    shortened: int = 0
    facts: int = 0

    def note(self) -> str | None:
        parts = []
        if self.evidence:
            parts.append(f"{self.evidence:,} evidence line{'s' * (self.evidence != 1)} omitted")
        if self.facts:
            parts.append(f"{self.facts:,} fact{'s' * (self.facts != 1)} omitted")
        if self.shortened:
            parts.append(f"{self.shortened:,} long excerpt{'s' * (self.shortened != 1)} shortened")
        return "; ".join(parts) if parts else None


@dataclass
class _Unit:
    """Blocks that belong together (one cause, one finding) and move to the next message as a whole."""

    blocks: list[Block]
    divider: bool = False


@dataclass
class _Render:
    guide_link: GuideLink
    proposal_buttons: ProposalButton | None
    proposal_notes: ProposalNote | None = None
    omitted: _Omitted = field(default_factory=_Omitted)


# -- public API ---------------------------------------------------------------------------------------------


def root_message(target: Target, symptom: Symptom, requester: str | None) -> SlackMessage:
    """The channel message the thread hangs off, posted before any check has run."""
    asked = f" (asked by {_mention(requester)})" if requester else ""
    line = f":mag: Diagnosing *{_esc(target.service, 200)}* — {symptom_words(symptom)}{asked}"
    where = f"namespace `{_esc(target.namespace, 200)}` · deployment `{_esc(target.deployment, 200)}`"
    blocks = [
        _section(line, "root"),
        _context([f"{where} · findings follow in the thread"], "root-context"),
    ]
    return _checked(_message(line, blocks))


def root_done_message(diag: Diagnosis, requester: str | None) -> SlackMessage:
    """The root message once the diagnosis is done: overall status, likely cause and confidence.

    Its block_ids differ from `root_message`'s because Slack caches blocks by id across an update."""
    status = diag.status
    head = (
        f"{STATUS_EMOJI[status]} *{_esc(diag.target.service, 200)}* — {symptom_words(diag.symptom)}: "
        f"*{STATUS_WORD[status]}*"
    )
    cause = diag.likely_cause
    verdict = (
        f"Likely cause: *{_esc(cause.title, TITLE_CHARS)}* ({confidence_text(cause.confidence)})"
        if cause
        else "No likely cause stood out."
    )
    asked = f" · asked by {_mention(requester)}" if requester else ""
    blocks = [
        _section(f"{head}\n{verdict}", "root-done"),
        _context([f"Diagnosed in {duration_text(diag.duration_ms)}{asked} · details in the thread"],
                 "root-done-context"),
    ]
    return _checked(_message(f"{head} — {verdict}", blocks))


def diagnosis_messages(
    diag: Diagnosis,
    *,
    guide_link: GuideLink,
    proposal_buttons: ProposalButton | None = None,
    proposal_notes: ProposalNote | None = None,
) -> list[SlackMessage]:
    """The thread replies: the verdict first, then every finding worst first, split over as many messages
    as the limits require. `proposal_buttons`, when given, turns a proposal into a button element (or None
    to show none); the buttons sit in actions blocks under their cause. `proposal_notes` says why a
    proposal was not offered, in place of "needs approval"."""
    render = _Render(guide_link, proposal_buttons, proposal_notes)
    units = _verdict_units(diag, render)
    units += [_Unit(_finding_blocks(i, f, render), divider=True) for i, f in enumerate(_worst_first(diag), 1)]
    pages = _pack(units)
    note = render.omitted.note()
    if note:
        service = _esc(diag.target.service, 200)
        pages[-1].append(_context(
            [f":scissors: To fit Slack's limits: {note}. Everything is in "
             f"`opsbot diagnose {service} {diag.symptom.value} --json`."],
            "omitted",
        ))
    messages = [_message(_fallback(diag, n, len(pages)), blocks) for n, blocks in enumerate(pages, 1)]
    _assert_valid(messages)
    return messages


def error_message(text: str) -> SlackMessage:
    """Something went wrong before a diagnosis existed (unknown service, the platform unreachable)."""
    line = f":warning: {_esc(text, SECTION_TEXT - 20)}"
    return _checked(_message(line, [_section(line, "error")]))


# -- verdict ------------------------------------------------------------------------------------------------


def _verdict_units(diag: Diagnosis, render: _Render) -> list[_Unit]:
    status = diag.status
    title = truncate(f"Diagnosis: {diag.target.service} — {symptom_words(diag.symptom)}", HEADER_TEXT)
    cause = diag.likely_cause
    lines = [
        f"{STATUS_EMOJI[status]} *Overall: {STATUS_WORD[status]}* · {len(diag.findings)} checks "
        f"in {duration_text(diag.duration_ms)} · namespace `{_esc(diag.target.namespace, 200)}`",
        f"*Likely cause:* {_esc(cause.title, TITLE_CHARS)} ({confidence_text(cause.confidence)})"
        if cause
        else "*No likely cause stood out* — see the findings below.",
    ]
    head = [
        {"type": "header", "block_id": "verdict-header", "text": {"type": "plain_text", "text": title}},
        _section("\n".join(lines), "verdict"),
    ]
    guide = _guide(diag.guide_section, render.guide_link, fallback="troubleshooting guide")
    if guide:
        head.append(_context([f":book: Runbook: {guide}"], "verdict-guide"))
    units = [_Unit(head)]
    units += [_Unit(_cause_blocks(i, c, render)) for i, c in enumerate(diag.causes, 1)]
    return units


def _cause_blocks(rank: int, cause: Cause, render: _Render) -> list[Block]:
    lines = [f"*{rank}. {_esc(cause.title, TITLE_CHARS)}* — {confidence_text(cause.confidence)}"]
    lines += [f"• {_esc(line, LINE_CHARS)}" for line in cause.evidence[:CAUSE_EVIDENCE]]
    hidden = len(cause.evidence) - CAUSE_EVIDENCE
    if hidden > 0:
        render.omitted.evidence += hidden
        lines.append(f"• _… {hidden:,} more not shown_")
    guide = _guide(cause.guide_section, render.guide_link)
    if guide:
        lines.append(f":book: Guide: {guide}")
    notes = render.proposal_notes
    lines += [_esc(proposal_sentence(p, notes(p) if notes else None), LINE_CHARS) for p in cause.proposals]
    blocks = [_section(_join_within(lines, SECTION_TEXT, render.omitted), f"cause-{rank}")]
    blocks += _proposal_actions(rank, cause.proposals, render.proposal_buttons)
    return blocks


def _proposal_actions(
    rank: int, proposals: Sequence[Proposal], buttons: ProposalButton | None
) -> list[Block]:
    """The seam for approval buttons: the caller builds each button, this places them under the cause."""
    if buttons is None:
        return []
    elements = [b for b in (buttons(p) for p in proposals) if b is not None]
    return [
        {"type": "actions", "block_id": f"cause-{rank}-actions-{n}", "elements": group}
        for n, group in enumerate(_button_groups(elements), 1)
    ]


def _button_groups(elements: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """At most 25 buttons per actions block, and no action_id twice in one block (Slack rejects that).

    A caller may well give every approve button the same action_id and tell them apart by value; such
    buttons go to separate blocks rather than having their action_id rewritten under the caller."""
    groups: list[list[dict[str, Any]]] = []
    ids: set[Any] = set()
    for element in elements:
        action_id = element.get("action_id")
        if not groups or len(groups[-1]) == ACTIONS_ELEMENTS or (action_id is not None and action_id in ids):
            groups.append([])
            ids = set()
        groups[-1].append(element)
        ids.add(action_id)
    return groups


# -- findings -----------------------------------------------------------------------------------------------


def _worst_first(diag: Diagnosis) -> list[Finding]:
    # The engine already orders them; a stable sort keeps its order among equals and guards the promise.
    return sorted(diag.findings, key=lambda f: -f.status.rank)


def _finding_blocks(index: int, finding: Finding, render: _Render) -> list[Block]:
    bid = f"finding-{index}"
    facts = list(finding.facts[:MAX_FACTS])
    render.omitted.facts += max(len(finding.facts) - MAX_FACTS, 0)
    field_groups = _chunks([_fact_field(f) for f in facts], MAX_FIELDS)
    head = _section(_finding_head(finding), bid, field_groups[0] if field_groups else None)
    blocks = [head]
    blocks += [_fields_only(group, f"{bid}-facts-{n}") for n, group in enumerate(field_groups[1:], 2)]
    blocks += [_section(text, f"{bid}-evidence-{n}")
               for n, text in enumerate(_evidence_sections(finding.evidence, render.omitted), 1)]
    blocks.append(_context(_finding_notes(finding, render), f"{bid}-context"))
    return blocks


def _finding_head(finding: Finding) -> str:
    head = (f"{STATUS_EMOJI[finding.status]} *{_esc(finding.title, TITLE_CHARS)}* — "
            f"{STATUS_WORD[finding.status]}")
    return f"{head}\n{_esc(finding.summary, SECTION_TEXT - len(head) - 1)}"


def _fact_field(fact: Fact) -> dict[str, str]:
    mark = "" if fact.status is Status.OK else f"{STATUS_EMOJI[fact.status]} "
    text = f"{mark}*{_esc(fact.label, 200)}:* {_esc(fact.value, 1500)}"
    if fact.threshold:
        text += f" (threshold {_esc(fact.threshold, 200)})"
    return {"type": "mrkdwn", "text": text[:FIELD_TEXT]}


def _evidence_sections(evidence: Sequence[str], omitted: _Omitted) -> list[str]:
    """Excerpts in code blocks, packed several to a section so a finding costs few of the 50 blocks.

    Single-line excerpts share a code block line by line; a multi-line one (a traceback) is set off by a
    blank line so it does not run into its neighbours."""
    shown = evidence[:MAX_EXCERPTS]
    omitted.evidence += max(len(evidence) - MAX_EXCERPTS, 0)
    fence = len("```\n\n```")
    groups: list[list[str]] = []
    size = 0
    for excerpt in shown:
        body = _excerpt_body(excerpt, omitted)
        if groups and size + 2 + len(body) + fence <= SECTION_TEXT:
            groups[-1].append(body)
            size += 2 + len(body)
        else:
            groups.append([body])
            size = len(body)
    return ["```\n" + _join_excerpts(group) + "\n```" for group in groups]


def _excerpt_body(excerpt: str, omitted: _Omitted) -> str:
    # A literal ``` inside a log line would close the code block early; a zero-width space defuses it.
    body = excerpt.replace("```", "`\u200b`\u200b`") if excerpt.strip() else "(empty)"
    fitted = truncate_mrkdwn(body, EXCERPT_CHARS, "lines")
    if fitted != escape_mrkdwn(body):
        omitted.shortened += 1
    return fitted


def _join_excerpts(bodies: list[str]) -> str:
    out = bodies[0]
    for before, body in pairwise(bodies):
        out += ("\n" if "\n" not in before and "\n" not in body else "\n\n") + body
    return out


def _finding_notes(finding: Finding, render: _Render) -> list[str]:
    notes = []
    guide = _guide(finding.guide_section, render.guide_link)
    if guide:
        notes.append(f":book: {guide}")
    notes.append(f"`{_esc(finding.check, 100)}` · {duration_text(finding.duration_ms)}")
    hidden = len(finding.evidence) - MAX_EXCERPTS
    if hidden > 0:
        notes.append(f"{hidden:,} more evidence line{'s' * (hidden != 1)} not shown")
    hidden_facts = len(finding.facts) - MAX_FACTS
    if hidden_facts > 0:
        notes.append(f"{hidden_facts:,} more fact{'s' * (hidden_facts != 1)} not shown")
    return notes


# -- packing into messages ----------------------------------------------------------------------------------


def _pack(units: Iterable[_Unit]) -> list[list[Block]]:
    """Fill messages unit by unit; a unit that does not fit the current message starts the next one."""
    pages: list[list[Block]] = [[]]
    dividers = 0
    for unit in units:
        page = pages[-1]
        needed = len(unit.blocks) + (1 if unit.divider and page else 0)
        if page and len(page) + needed > CAPACITY:
            page = []
            pages.append(page)
        if unit.divider and page:
            dividers += 1
            page.append({"type": "divider", "block_id": f"divider-{dividers}"})
        for chunk_no, chunk in enumerate(_chunks(unit.blocks, CAPACITY)):
            # Only a unit bigger than a whole message gets here more than once; it continues on a new page.
            if chunk_no:
                page = []
                pages.append(page)
            page.extend(chunk)
    return pages


def _fallback(diag: Diagnosis, page: int, pages: int) -> str:
    """The notification text; screen readers and old clients show only this."""
    base = f"{diag.target.service} — {symptom_words(diag.symptom)}"
    if page > 1:
        return _esc(f"{base}: findings, part {page} of {pages}", FALLBACK_TEXT)
    cause = diag.likely_cause
    verdict = (f"likely cause: {cause.title} ({confidence_text(cause.confidence)})" if cause
               else "no likely cause stood out")
    return _esc(f"{base}: {STATUS_WORD[diag.status]}, {verdict}", FALLBACK_TEXT)


def _checked(message: SlackMessage) -> SlackMessage:
    _assert_valid([message])
    return message


def _assert_valid(messages: Sequence[SlackMessage]) -> None:
    problems = [f"message {n}: {p}" for n, m in enumerate(messages, 1) for p in check_message(m)]
    if problems:
        raise BlockLimitError("; ".join(problems))


# -- small builders -----------------------------------------------------------------------------------------


def _message(fallback: str, blocks: list[Block]) -> SlackMessage:
    return {"text": fallback[:FALLBACK_TEXT], "blocks": blocks}


def _section(text: str, block_id: str, fields: list[dict[str, str]] | None = None) -> Block:
    block: Block = {"type": "section", "block_id": block_id, "text": {"type": "mrkdwn", "text": text}}
    if fields:
        block["fields"] = fields
    return block


def _fields_only(fields: list[dict[str, str]], block_id: str) -> Block:
    return {"type": "section", "block_id": block_id, "fields": fields}


def _context(texts: list[str], block_id: str) -> Block:
    return {
        "type": "context",
        "block_id": block_id,
        "elements": [{"type": "mrkdwn", "text": t[:SECTION_TEXT]} for t in texts if t],
    }


def _esc(text: str, limit: int) -> str:
    return truncate_mrkdwn(text, limit)


def _mention(requester: str) -> str:
    # Only a real user ID becomes a mention; anything else is shown as text, never as markup.
    return f"<@{requester}>" if _USER_ID.fullmatch(requester) else _esc(requester, 100)


def _guide(section: str | None, guide_link: GuideLink, fallback: str | None = None) -> str | None:
    """The guide section linked when a URL is known, else named; None when there is nothing to say."""
    url = guide_link(section)
    name = section or fallback
    if name is None:
        return None
    label = _esc(name, TITLE_CHARS)
    if url is None or len(url) > URL_CHARS:
        return f"_{label}_" if section else None
    # `|` ends the URL part of a Slack link, so it is percent-encoded like any other reserved character.
    return f"<{escape_mrkdwn(url).replace('|', '%7C')}|{label}>"


def _join_within(lines: list[str], limit: int, omitted: _Omitted) -> str:
    """Join lines while they fit; the ones that do not are counted, never cut mid-markup (a link, a bold)."""
    out: list[str] = []
    used = 0
    for n, line in enumerate(lines):
        rest = len(lines) - n
        # The last line needs no room for a note after it; any other must leave room to say what follows.
        reserve = len(f"\n_… {rest:,} more lines not shown_") if rest > 1 else 0
        if used + len(line) + reserve > limit:
            omitted.evidence += rest
            out.append(f"_… {rest:,} more lines not shown_")
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


def _chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]
