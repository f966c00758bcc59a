"""Slack's Block Kit limits, and the helpers that keep rendered text inside them.

Slack rejects a whole message (`invalid_blocks`) when one field is a character too long, so the renderer
never relies on luck: every dynamic string goes through `truncate`/`truncate_mrkdwn`, and the finished
blocks are checked with `check_blocks` before they leave the renderer. The numbers are Slack's documented
limits (reference/slack.md §5); nothing here imports a Slack library.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate
from typing import Any

MAX_BLOCKS = 50
SECTION_TEXT = 3000
HEADER_TEXT = 150
FIELD_TEXT = 2000
MAX_FIELDS = 10
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
BUTTON_URL = 3000
FALLBACK_TEXT = 3000
BLOCK_ID = 255
ACTION_ID = 255
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
CONFIRM_BUTTON = 30

ELLIPSIS = "…"

# What a character becomes once escaped for mrkdwn (see escape_mrkdwn).
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


class BlockLimitError(ValueError):
    """The renderer produced blocks Slack would reject: a bug in the renderer, never in the input."""


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack treats as control characters; leave everything else alone.

    `&` goes first so the entities produced for `<` and `>` are not escaped twice."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int, what: str = "characters") -> str:
    """Cut `text` to at most `limit` characters, saying how much was left out.

    `what` names the unit of the count. With `what="lines"` whole lines are kept where at least one fits
    and the omitted lines are counted; otherwise characters are counted, whatever noun `what` is."""
    return _fit(text, limit, what, escape=False)


def truncate_mrkdwn(text: str, limit: int, what: str = "characters") -> str:
    """Escape `text` for mrkdwn and cut it so the *escaped* result fits `limit`.

    Escaping first and cutting afterwards could split an entity (`&am`) and would count escaped
    characters the reader never typed; this cuts the raw text instead and counts raw characters."""
    return _fit(text, limit, what, escape=True)


def _fit(text: str, limit: int, what: str, *, escape: bool) -> str:
    render: Callable[[str], str] = escape_mrkdwn if escape else _identity
    whole = render(text)
    if len(whole) <= limit:
        return whole
    if limit <= 0:
        return ""
    if what == "lines":
        by_lines = _fit_lines(text, limit, render) if "\n" in text else None
        if by_lines is not None:
            return by_lines
        # Not one whole line fits: cut inside the first and count what a reader can still measure.
        what = "characters"
    return _fit_chars(text, limit, what, escape, render)


def _identity(text: str) -> str:
    return text


def _more(count: int, what: str) -> str:
    return f"{ELLIPSIS} ({count:,} more {what})"


def _fit_chars(text: str, limit: int, what: str, escape: bool, render: Callable[[str], str]) -> str:
    # widths[k] = rendered length of text[:k]; it only grows with k, so the longest prefix that still
    # fits is a bisection. The note's length shrinks as more is kept, so a second pass may keep a bit more.
    widths = [0, *accumulate(len(_ESCAPES.get(c, c)) if escape else 1 for c in text)]
    total = len(text)
    kept = -1
    note_len = len(_more(total, what))
    for _ in range(3):
        candidate = bisect_right(widths, limit - note_len) - 1
        if candidate < 0 or widths[candidate] + len(_more(total - candidate, what)) > limit:
            break
        kept = candidate
        note_len = len(_more(total - kept, what))
    if kept < 0:
        # Not even the note fits: a bare ellipsis is the most honest thing left.
        bare = bisect_right(widths, limit - len(ELLIPSIS)) - 1
        return render(text[:bare]) + ELLIPSIS if bare >= 0 else ELLIPSIS[:limit]
    return render(text[:kept]) + _more(total - kept, what)


def _fit_lines(text: str, limit: int, render: Callable[[str], str]) -> str | None:
    lines = text.split("\n")
    used = 0
    kept = 0
    for index, line in enumerate(lines):
        cost = len(render(line)) + (1 if index else 0)
        note = "\n" + _more(len(lines) - index - 1, "lines")
        if used + cost + len(note) > limit:
            break
        used += cost
        kept += 1
    if kept == 0:
        return None
    return render("\n".join(lines[:kept])) + "\n" + _more(len(lines) - kept, "lines")


# -- validation ---------------------------------------------------------------------------------------------

_TEXT_TYPES = {"plain_text", "mrkdwn"}
_BUTTON_STYLES = {"primary", "danger"}


def check_message(message: dict[str, Any]) -> list[str]:
    """`check_blocks` plus the top-level fallback `text`, which Slack needs for notifications."""
    problems = []
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append("text: fallback text is missing or empty")
    elif len(text) > FALLBACK_TEXT:
        problems.append(f"text: {len(text):,} characters, max {FALLBACK_TEXT:,}")
    blocks = message.get("blocks", [])
    if not isinstance(blocks, list):
        return [*problems, "blocks: not a list"]
    return problems + check_blocks(blocks)


def check_blocks(blocks: list[dict[str, Any]]) -> list[str]:
    """Every Block Kit limit the blocks break, each as `path: reason`; [] when Slack would accept them."""
    problems: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"blocks: {len(blocks)} blocks, max {MAX_BLOCKS}")
    seen_ids: set[str] = set()
    for index, block in enumerate(blocks):
        path = f"blocks[{index}]"
        if not isinstance(block, dict):
            problems.append(f"{path}: not an object")
            continue
        problems += _check_block_id(block, path, seen_ids)
        checker = _BLOCK_CHECKERS.get(str(block.get("type")))
        if checker is None:
            problems.append(f"{path}: unsupported block type {block.get('type')!r}")
            continue
        problems += checker(block, f"{path} ({block['type']})")
    return problems


def _check_block_id(block: dict[str, Any], path: str, seen: set[str]) -> list[str]:
    if "block_id" not in block:
        return []
    block_id = block["block_id"]
    if not isinstance(block_id, str) or not block_id:
        return [f"{path}: block_id must be a non-empty string"]
    problems = []
    if len(block_id) > BLOCK_ID:
        problems.append(f"{path}: block_id is {len(block_id)} characters, max {BLOCK_ID}")
    if block_id in seen:
        problems.append(f"{path}: block_id {block_id!r} is not unique in the message")
    seen.add(block_id)
    return problems


def _check_text(obj: Any, path: str, limit: int, types: set[str] = _TEXT_TYPES) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{path}: missing text object"]
    if obj.get("type") not in types:
        return [f"{path}: text type {obj.get('type')!r} is not one of {sorted(types)}"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"{path}: text is empty"]
    if len(text) > limit:
        return [f"{path}: text is {len(text):,} characters, max {limit:,}"]
    return []


def _check_section(block: dict[str, Any], path: str) -> list[str]:
    problems = []
    if "text" in block:
        problems += _check_text(block["text"], f"{path}.text", SECTION_TEXT)
    fields = block.get("fields")
    if fields is not None:
        if not isinstance(fields, list) or not fields:
            return [*problems, f"{path}.fields: must be a non-empty list"]
        if len(fields) > MAX_FIELDS:
            problems.append(f"{path}.fields: {len(fields)} fields, max {MAX_FIELDS}")
        for i, item in enumerate(fields):
            problems += _check_text(item, f"{path}.fields[{i}]", FIELD_TEXT)
    if "text" not in block and fields is None:
        problems.append(f"{path}: needs text or fields")
    return problems


def _check_header(block: dict[str, Any], path: str) -> list[str]:
    return _check_text(block.get("text"), f"{path}.text", HEADER_TEXT, {"plain_text"})


def _check_context(block: dict[str, Any], path: str) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"{path}.elements: must be a non-empty list"]
    problems = []
    if len(elements) > CONTEXT_ELEMENTS:
        problems.append(f"{path}.elements: {len(elements)} elements, max {CONTEXT_ELEMENTS}")
    for i, element in enumerate(elements):
        if isinstance(element, dict) and element.get("type") == "image":
            continue
        # Context text has no documented cap of its own; a section's is the sane bound.
        problems += _check_text(element, f"{path}.elements[{i}]", SECTION_TEXT)
    return problems


def _check_actions(block: dict[str, Any], path: str) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"{path}.elements: must be a non-empty list"]
    problems = []
    if len(elements) > ACTIONS_ELEMENTS:
        problems.append(f"{path}.elements: {len(elements)} elements, max {ACTIONS_ELEMENTS}")
    action_ids: set[str] = set()
    for i, element in enumerate(elements):
        where = f"{path}.elements[{i}]"
        if not isinstance(element, dict) or element.get("type") != "button":
            problems.append(f"{where}: only buttons are rendered here")
            continue
        problems += _check_button(element, where, action_ids)
    return problems


def _check_button(button: dict[str, Any], path: str, action_ids: set[str]) -> list[str]:
    problems = _check_text(button.get("text"), f"{path}.text", BUTTON_TEXT, {"plain_text"})
    action_id = button.get("action_id")
    if action_id is not None:
        if not isinstance(action_id, str) or not action_id or len(action_id) > ACTION_ID:
            problems.append(f"{path}.action_id: must be 1..{ACTION_ID} characters")
        elif action_id in action_ids:
            problems.append(f"{path}.action_id: {action_id!r} is not unique in the block")
        else:
            action_ids.add(action_id)
    problems += _check_length(button, "value", path, BUTTON_VALUE)
    problems += _check_length(button, "url", path, BUTTON_URL)
    if "style" in button and button["style"] not in _BUTTON_STYLES:
        problems.append(f"{path}.style: {button['style']!r} is not primary or danger (omit it for default)")
    if "confirm" in button:
        problems += _check_confirm(button["confirm"], f"{path}.confirm")
    return problems


def _check_length(obj: dict[str, Any], key: str, path: str, limit: int) -> list[str]:
    if key not in obj:
        return []
    value = obj[key]
    if not isinstance(value, str):
        return [f"{path}.{key}: must be a string"]
    if len(value) > limit:
        return [f"{path}.{key}: {len(value):,} characters, max {limit:,}"]
    return []


def _check_confirm(confirm: Any, path: str) -> list[str]:
    if not isinstance(confirm, dict):
        return [f"{path}: must be an object"]
    problems = _check_text(confirm.get("title"), f"{path}.title", CONFIRM_TITLE, {"plain_text"})
    problems += _check_text(confirm.get("text"), f"{path}.text", CONFIRM_TEXT)
    problems += _check_text(confirm.get("confirm"), f"{path}.confirm", CONFIRM_BUTTON, {"plain_text"})
    problems += _check_text(confirm.get("deny"), f"{path}.deny", CONFIRM_BUTTON, {"plain_text"})
    if "style" in confirm and confirm["style"] not in _BUTTON_STYLES:
        problems.append(f"{path}.style: {confirm['style']!r} is not primary or danger")
    return problems


def _check_divider(block: dict[str, Any], path: str) -> list[str]:
    extra = set(block) - {"type", "block_id"}
    return [f"{path}: a divider has no content, found {sorted(extra)}"] if extra else []


_BLOCK_CHECKERS: dict[str, Callable[[dict[str, Any], str], list[str]]] = {
    "section": _check_section,
    "header": _check_header,
    "context": _check_context,
    "actions": _check_actions,
    "divider": _check_divider,
}
