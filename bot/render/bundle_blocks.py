"""Slack messages of the support bundle: the "Compile support bundle" button under a diagnosis, the root
message of `/diagnose bundle`, and the comment that goes with the uploaded archive.

The button's value names the service and symptom; a click re-validates both against the ops config, so the
value is a lookup key, never trusted input.
"""

from __future__ import annotations

from typing import Any

from bot.config import OpsConfig
from bot.model import Diagnosis, Symptom
from bot.render.limits import BUTTON_VALUE, FALLBACK_TEXT, SECTION_TEXT, check_message, escape_mrkdwn, truncate_mrkdwn

BUNDLE_ACTION = "compile_support_bundle"
BUNDLE_BLOCK = "support-bundle"
BUTTON_LABEL = "Compile support bundle"
SlackMessage = dict[str, Any]


def bundle_button(service: str, symptom: Symptom) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": BUNDLE_ACTION,
        "text": {"type": "plain_text", "text": BUTTON_LABEL},
        "value": f"{service}|{symptom.value}"[:BUTTON_VALUE],
    }


def with_bundle_button(message: SlackMessage, diag: Diagnosis) -> SlackMessage:
    """`message` with the bundle button under it (a copy; the blocks passed in are not changed)."""
    block = {"type": "actions", "block_id": BUNDLE_BLOCK,
             "elements": [bundle_button(diag.target.service, diag.symptom)]}
    out = {**message, "blocks": [*message.get("blocks", []), block]}
    return out if not check_message(out) else message


def button_target(value: str, config: OpsConfig) -> tuple[str, Symptom] | None:
    """(service, symptom) from a bundle button's value, or None when either is not a known one."""
    service, _, symptom = value.partition("|")
    if service not in config.services:
        return None
    try:
        return service, Symptom(symptom)
    except ValueError:
        return service, Symptom.UNKNOWN


def bundle_root_message(service: str, requester: str) -> SlackMessage:
    text = (f":package: Compiling the support bundle for *{escape_mrkdwn(service)}* (asked by <@{requester}>) — "
            "the archive follows in the thread.")
    return {"text": text[:FALLBACK_TEXT],
            "blocks": [{"type": "section", "block_id": "bundle-root", "text": {"type": "mrkdwn", "text": text}}]}


def bundle_comment(summary_line: str) -> str:
    """The comment posted with the archive: what is in it, in one paragraph."""
    return (f":package: {truncate_mrkdwn(summary_line, SECTION_TEXT - 300)}\n"
            "`summary.md` is for people, `bundle.json` for tools, `manifest.json` holds checksums and what was "
            "redacted or left out.")


def bundle_failed_text(service: str) -> str:
    return f":warning: The support bundle for *{escape_mrkdwn(service)}* could not be compiled; see the bot's logs."
