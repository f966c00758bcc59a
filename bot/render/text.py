"""A Diagnosis for a terminal (`opsbot diagnose`, `opsbot demo`): plain text, optional ANSI colour.

A terminal has no size limits, so nothing is cut here. It does interpret control characters, so log
lines lose theirs: a log line must not be able to recolour, clear or rewrite the operator's screen.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.model import Cause, Diagnosis, Fact, Finding, Status
from bot.render import (
    STATUS_WORD,
    confidence_text,
    duration_text,
    fact_text,
    proposal_sentence,
    symptom_words,
)

GuideLink = Callable[[str | None], str | None]

STATUS_TAG = {
    Status.CRIT: "[CRIT]",
    Status.WARN: "[WARN]",
    Status.OK: "[ OK ]",
    Status.ERROR: "[ERR ]",
    Status.NO_DATA: "[NODATA]",
}

_COLOUR = {
    Status.CRIT: "\x1b[31m",  # red
    Status.WARN: "\x1b[33m",  # yellow
    Status.ERROR: "\x1b[35m",  # magenta: the check failed, which is not the same as the service failing
    Status.NO_DATA: "\x1b[90m",  # grey
    Status.OK: "\x1b[32m",  # green
}
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_RESET = "\x1b[0m"

# Every C0/C1 control character except newline and tab, and DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

INDENT = "    "


def _no_guide(section: str | None) -> str | None:
    return None


def diagnosis_text(diag: Diagnosis, *, guide_link: GuideLink = _no_guide, color: bool = False) -> str:
    style = _Style(color)
    lines = [_header(diag, style), ""]
    lines += _verdict(diag, guide_link, style)
    for finding in sorted(diag.findings, key=lambda f: -f.status.rank):
        lines.append("")
        lines += _finding(finding, guide_link, style)
    return "\n".join(lines) + "\n"


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def status(self, status: Status, text: str) -> str:
        return f"{_COLOUR[status]}{text}{_RESET}" if self.color else text

    def bold(self, text: str) -> str:
        return f"{_BOLD}{text}{_RESET}" if self.color else text

    def dim(self, text: str) -> str:
        return f"{_DIM}{text}{_RESET}" if self.color else text


def _clean(text: str) -> str:
    return _CONTROL.sub("?", text)


def _header(diag: Diagnosis, style: _Style) -> str:
    status = diag.status
    target = diag.target
    return (
        f"{style.bold(_clean(target.service))} ({_clean(target.namespace)}) — {symptom_words(diag.symptom)}: "
        f"{style.status(status, STATUS_WORD[status].upper())} · {len(diag.findings)} checks "
        f"in {duration_text(diag.duration_ms)}"
    )


def _verdict(diag: Diagnosis, guide_link: GuideLink, style: _Style) -> list[str]:
    if not diag.causes:
        lines = ["Likely cause: none stood out; see the findings below."]
    else:
        first, *others = diag.causes
        lines = [f"Likely cause: {style.bold(_clean(first.title))} ({confidence_text(first.confidence)})"]
        lines += _cause_details(first, guide_link)
        for cause in others:
            lines.append(f"Also possible: {_clean(cause.title)} ({confidence_text(cause.confidence)})")
            lines += _cause_details(cause, guide_link)
    runbook = _guide(diag.guide_section, guide_link)
    if runbook:
        lines.append(f"Runbook: {runbook}")
    return lines


def _cause_details(cause: Cause, guide_link: GuideLink) -> list[str]:
    lines = [f"{INDENT}- {_indent_more(_clean(line))}" for line in cause.evidence]
    guide = _guide(cause.guide_section, guide_link)
    if guide:
        lines.append(f"{INDENT}Guide: {guide}")
    lines += [f"{INDENT}{_clean(proposal_sentence(p))}" for p in cause.proposals]
    return lines


def _finding(finding: Finding, guide_link: GuideLink, style: _Style) -> list[str]:
    tag = style.status(finding.status, STATUS_TAG[finding.status])
    lines = [f"{tag} {style.bold(_clean(finding.title))} — {_clean(finding.summary)}"]
    lines += [f"{INDENT}{_fact(fact, style)}" for fact in finding.facts]
    previous = ""
    for excerpt in finding.evidence:
        if "\n" in previous or (previous and "\n" in excerpt):
            lines.append(f"{INDENT}|")  # a traceback must not run into the next excerpt
        lines += [f"{INDENT}| {style.dim(_clean(line))}" for line in excerpt.split("\n")]
        previous = excerpt
    guide = _guide(finding.guide_section, guide_link)
    meta = f"{finding.check}, {duration_text(finding.duration_ms)}" + (f", guide: {guide}" if guide else "")
    lines.append(f"{INDENT}{style.dim('(' + _clean(meta) + ')')}")
    return lines


def _fact(fact: Fact, style: _Style) -> str:
    text = _clean(fact_text(fact.label, fact.value, fact.threshold))
    if fact.status is Status.OK:
        return text
    return f"{text} {style.status(fact.status, STATUS_TAG[fact.status])}"


def _guide(section: str | None, guide_link: GuideLink) -> str | None:
    if section is None:
        return None
    url = guide_link(section)
    return f"{_clean(section)} <{_clean(url)}>" if url else _clean(section)


def _indent_more(text: str) -> str:
    # Multi-line evidence stays under its bullet instead of falling back to the left margin.
    return text.replace("\n", "\n" + INDENT + "  ")
