"""Approvals as Block Kit: the proposal buttons, the preview modal, the settled line that replaces the
buttons, re-proposals and the verification verdict. Plain dicts, every limit enforced, wording from
`approval_text`.

A button carries only the opaque request id (`value`); the modal carries it in `private_metadata`, with the
channel and message ts of the button that opened it (from the click's signed container). Those are lookup
keys and the origin a submission is checked against, never a statement of who clicked or what to run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.approvals import Proposed
from bot.model import Proposal
from bot.remediation import Offer, Review
from bot.render import proposal_phrase
from bot.render.approval_text import preview_lines, request_phrase, verification_lines
from bot.render.blocks import ProposalButton, ProposalNote
from bot.render.limits import (
    BUTTON_TEXT,
    FALLBACK_TEXT,
    SECTION_TEXT,
    BlockLimitError,
    check_blocks,
    check_message,
    escape_mrkdwn,
    truncate,
    truncate_mrkdwn,
)
from bot.verification import Trend, Verification

Block = dict[str, Any]
SlackMessage = dict[str, Any]

REVIEW_ACTION = "review_request"  # a proposal button; action_id is REVIEW_ACTION-<n> (unique per block)
DENY_ACTION = "deny_request"  # the Deny button inside the preview modal
MODAL_CALLBACK = "approval_modal"  # submitting the modal approves
MODAL_TITLE = "Review remediation"
MODAL_MAX_BLOCKS = 100
_TREND_EMOJI = {
    Trend.BETTER: ":white_check_mark:",
    Trend.UNCHANGED: ":large_yellow_circle:",
    Trend.WORSE: ":red_circle:",
    Trend.UNKNOWN: ":grey_question:",
}


def mention(user: str) -> str:
    """Slack user ids become mentions; anything else (`opsbot`, `cli:alice`) stays text."""
    return f"<@{user}>" if user[:1] in "UW" and user[1:].isalnum() and user.isupper() else truncate_mrkdwn(user, 80)


def review_button(request_id: str, proposal: Proposal, number: int) -> Block:
    return {
        "type": "button",
        "action_id": f"{REVIEW_ACTION}-{number}",
        "text": {"type": "plain_text", "text": truncate(f"Review: {proposal_phrase(proposal)}", BUTTON_TEXT)},
        "value": request_id,
        "style": "primary",
    }


def proposal_message(proposed: Proposed, heading: str) -> SlackMessage:
    """A standalone proposal in the thread (a re-proposal, a revert offer) with its review button."""
    request = proposed.request
    text = f"{heading}\n*Proposed:* {truncate_mrkdwn(request_phrase(request), 500)} — needs approval"
    blocks = [
        _section(text, f"proposal-{request.id}"),
        {"type": "actions", "block_id": f"proposal-{request.id}-actions",
         "elements": [review_button(request.id, _proposal_of(proposed), 1)]},
    ]
    return _checked({"text": truncate(f"Proposed: {request_phrase(request)}", FALLBACK_TEXT), "blocks": blocks})


def notice_message(text: str) -> SlackMessage:
    return _checked({"text": truncate(text, FALLBACK_TEXT), "blocks": [_section(truncate_mrkdwn(text, SECTION_TEXT),
                                                                                  "notice")]})


def verification_message(v: Verification, revert: Proposed | None) -> SlackMessage:
    lines = verification_lines(v, escape_mrkdwn)
    text = truncate("\n".join(lines), SECTION_TEXT - 30)
    blocks: list[Block] = [_section(f"{_TREND_EMOJI[v.trend]} {text}", f"verify-{v.request_id}")]
    if revert is not None:
        blocks.append({"type": "actions", "block_id": f"verify-{v.request_id}-revert",
                       "elements": [review_button(revert.request.id, _proposal_of(revert), 1)]})
    return _checked({"text": truncate(verification_lines(v)[0], FALLBACK_TEXT), "blocks": blocks})


# -- the preview modal ---------------------------------------------------------------------------------------


def loading_view(request_id: str) -> dict[str, Any]:
    """Opened at once with the click's trigger_id (valid 3 s); the preview replaces it when computed."""
    return _view(request_id, [_section(":hourglass_flowing_sand: Computing the preview (server-side dry run)…",
                                       "loading")])


def preview_view(review: Review, channel: str | None, message_ts: str | None) -> dict[str, Any]:
    """The preview modal for a click on the button in `channel` / `message_ts` (the click's container): its
    submission is approved only if the request was posted in that very message."""
    assert review.request is not None
    request_id = review.request.id
    body = "\n".join(preview_lines(review, mention, escape_mrkdwn))
    blocks: list[Block] = [_section(truncate(body, SECTION_TEXT), "preview")]
    if review.may_deny:  # the requester (withdraw) or someone holding the approving role
        blocks.append({"type": "actions", "block_id": "preview-deny", "elements": [{
            "type": "button", "action_id": DENY_ACTION, "style": "danger",
            "text": {"type": "plain_text", "text": "Deny"}, "value": request_id,
        }]})
    submit = None if review.approve_refused else "Dry run" if review.dry_run else "Approve"
    return _view(request_id, blocks, submit=submit, origin=_origin(channel, message_ts),
                 close="Cancel" if submit else "Close")


def notice_view(request_id: str, text: str) -> dict[str, Any]:
    """The modal once nothing more can be done in it (a refusal, a denial)."""
    return _view(request_id, [_section(truncate_mrkdwn(text, SECTION_TEXT), "notice")], close="Close")


def request_id_of(view: dict[str, Any]) -> str | None:
    """The request id the modal was opened for (a lookup key only)."""
    return _metadata(view, "request_id")


def channel_of(view: dict[str, Any]) -> str | None:
    """The channel of the button that opened the modal (where a private answer can go)."""
    return _metadata(view, "channel")


def message_ts_of(view: dict[str, Any]) -> str | None:
    """The ts of the message whose button opened the modal."""
    return _metadata(view, "message_ts")


def _metadata(view: dict[str, Any], key: str) -> str | None:
    try:
        meta = json.loads(str(view.get("private_metadata") or "{}"))
    except ValueError:
        return None
    value = meta.get(key) if isinstance(meta, dict) else None
    return value if isinstance(value, str) and value else None


def _origin(channel: str | None, message_ts: str | None) -> dict[str, str]:
    return {key: value for key, value in (("channel", channel), ("message_ts", message_ts)) if value}


def _view(request_id: str, blocks: list[Block], *, submit: str | None = None, close: str = "Cancel",
          origin: dict[str, str] | None = None) -> dict[str, Any]:
    problems = check_blocks(blocks)
    if problems or len(blocks) > MODAL_MAX_BLOCKS:
        raise BlockLimitError("; ".join(problems) or "too many blocks for a modal")
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "title": {"type": "plain_text", "text": MODAL_TITLE},
        "close": {"type": "plain_text", "text": close},
        # The origin: a submission must come from the message the request was posted in, and a later failure
        # (the approvals database down) can still answer privately in its channel.
        "private_metadata": json.dumps({"request_id": request_id, **(origin or {})}),
        "blocks": blocks,
    }
    if submit:
        view["submit"] = {"type": "plain_text", "text": submit}
    return view


# -- settling the buttons in a posted message ------------------------------------------------------------------


def settle_buttons(blocks: list[Block], request_id: str, line: str, stamp: str) -> list[Block] | None:
    """The message's blocks with the request's buttons replaced by `line` (mrkdwn, already escaped, e.g.
    `decision_line(..., who=mention, esc=escape_mrkdwn)`); None when the message has no such buttons.

    Other requests' buttons in the same message stay. Rewritten blocks get new ids (`stamp`), because Slack
    keys cached block state by block_id across updates."""
    out: list[Block] = []
    found = False
    for block in blocks:
        if block.get("type") != "actions":
            out.append(block)
            continue
        elements = block.get("elements") or []
        kept = [e for e in elements if e.get("value") != request_id]
        if len(kept) == len(elements):
            out.append(block)
            continue
        found = True
        base = str(block.get("block_id", "actions"))[:200]
        if kept:
            out.append({**block, "block_id": f"{base}-{stamp}", "elements": kept})
        out.append({"type": "context", "block_id": f"{base}-settled-{stamp}",
                    "elements": [{"type": "mrkdwn", "text": truncate(line, SECTION_TEXT)}]})
    if not found:
        return None
    problems = check_blocks(out)
    if problems:
        raise BlockLimitError("; ".join(problems))
    return out


# -- small builders -----------------------------------------------------------------------------------------


def _proposal_of(proposed: Proposed) -> Proposal:
    return Proposal(proposed.request.action, proposed.request.params)


def _section(text: str, block_id: str) -> Block:
    return {"type": "section", "block_id": block_id[:255], "text": {"type": "mrkdwn", "text": text[:SECTION_TEXT]}}


def _checked(message: SlackMessage) -> SlackMessage:
    problems = check_message(message)
    if problems:
        raise BlockLimitError("; ".join(problems))
    return message


# -- buttons under a diagnosis' causes ------------------------------------------------------------------------


def offer_buttons(offers: Sequence[Offer]) -> ProposalButton:
    """The `proposal_buttons` seam of `diagnosis_messages`: a button for each proposal that was stored as a
    request (matched by identity: the renderer passes the diagnosis' own Proposal objects)."""
    by_proposal = {id(o.proposal): o.proposed for o in offers if o.proposed is not None}
    numbers = {key: n for n, key in enumerate(by_proposal, 1)}

    def button(proposal: Proposal) -> dict[str, Any] | None:
        proposed = by_proposal.get(id(proposal))
        return review_button(proposed.request.id, proposal, numbers[id(proposal)]) if proposed else None

    return button


def offer_notes(offers: Sequence[Offer]) -> ProposalNote:
    """The `proposal_notes` seam of `diagnosis_messages`: why a proposal got no button (nothing to change,
    blocked, the approvals store refused it), so the line does not read "needs approval" with nothing to click."""
    why = {id(o.proposal): o.unavailable for o in offers if o.proposed is None and o.unavailable}
    return lambda proposal: why.get(id(proposal))


def request_ids_in(message: SlackMessage) -> set[str]:
    """The request ids whose buttons a rendered message carries (to record where each was posted)."""
    return {
        str(element.get("value"))
        for block in message.get("blocks") or []
        if block.get("type") == "actions"
        for element in block.get("elements") or []
        if str(element.get("action_id", "")).startswith(REVIEW_ACTION)
    }
