"""Posting a diagnosis' findings with approval buttons under the causes that propose a fix.

The requests are stored before the messages go out (a button's value is the request id), and each is then
tied to the message that carries it, so a click from any other message is refused. Read-only mode offers
nothing; if the approvals store is down the findings still go out, without buttons.
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.model import Diagnosis
from bot.remediation import Offer, Remediation
from bot.render.approval_blocks import offer_buttons, offer_notes, request_ids_in
from bot.render.blocks import GuideLink, diagnosis_messages
from bot.store.approvals import ApprovalStoreError
from handlers.actions import settle_superseded
from handlers.slack_posting import post

log = logging.getLogger(__name__)


async def post_findings(
    client: AsyncWebClient,
    diag: Diagnosis,
    *,
    channel: str,
    thread_ts: str,
    requester: str,
    guide_link: GuideLink,
    flow: Remediation | None,
) -> None:
    """The thread replies of a diagnosis; with `flow`, its proposals as buttons. Raises SlackApiError."""
    offers = await _offers(flow, diag, requester, channel) if flow is not None else []
    buttons, notes = (offer_buttons(offers), offer_notes(offers)) if offers else (None, None)
    for message in diagnosis_messages(diag, guide_link=guide_link, proposal_buttons=buttons, proposal_notes=notes):
        ts = await post(client, channel, message, thread_ts)
        if flow is not None and offers:
            carried = request_ids_in(message)
            here = [o for o in offers if o.proposed is not None and o.proposed.request.id in carried]
            await flow.attach(here, channel, ts)
    if offers:
        await settle_superseded(client, offers)


async def _offers(flow: Remediation, diag: Diagnosis, requester: str, channel: str) -> list[Offer]:
    try:
        return await flow.offer(diag, requester, channel)
    except ApprovalStoreError as exc:
        log.warning("no approval buttons for %s: the approvals store failed: %s", diag.target.service, exc)
        return []
