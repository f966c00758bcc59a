"""`/diagnose`: ephemeral ack at once, a root message in the channel, findings in its thread.

`/diagnose act ACTION SERVICE [k=v ...]` proposes any remediation (also those no diagnosis proposes, e.g.
debug-logging or maintenance) through the core, and posts its approval button in the channel."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import telemetry
from bot.approvals import ProposalError
from bot.diagnose_request import (
    ActCommand,
    BadRequest,
    BundleCommand,
    DiagnoseRequest,
    HelpRequest,
    JwtRequest,
    help_text,
    parse_act,
    parse_bundle,
    parse_diagnose,
)
from bot.jwt_inspect import inspect_text
from bot.remediation import Remediation
from bot.render.approval_blocks import mention, proposal_message
from bot.render.blocks import error_message, root_done_message, root_message
from bot.render.bundle_blocks import with_bundle_button
from bot.store.approvals import ApprovalStoreError
from bot.wiring import Deps
from handlers import bundle
from handlers.actions import settle_message
from handlers.proposals import post_findings
from handlers.slack_posting import post, slack_error_reason, update

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps, flow: Remediation | None = None) -> None:
    async def diagnose_command(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        act = parse_act(str(command.get("text", "")), deps.config, flow.action_names if flow else frozenset())
        if act is not None:
            await answer_act(ack, respond, client, flow, act, channel=str(command["channel_id"]),
                             user=str(command["user_id"]))
            return
        bundle_command = parse_bundle(str(command.get("text", "")), deps.config)
        if isinstance(bundle_command, BundleCommand):
            await bundle.answer_command(deps, ack, respond, client, bundle_command,
                                        channel=str(command["channel_id"]), user=str(command["user_id"]))
            telemetry.COMMANDS.labels("/diagnose", "bundle").inc()
            return
        parsed = parse_diagnose(str(command.get("text", "")), deps.config, deps.runnable)
        if bundle_command is not None:
            parsed = bundle_command  # `bundle` with a missing or unknown service: the usage answer
        if isinstance(parsed, HelpRequest):
            await ack(text=help_text(deps.config, deps.runnable))
            telemetry.COMMANDS.labels("/diagnose", "help").inc()
            return
        if isinstance(parsed, JwtRequest):
            # Only the requester sees the inspection: it goes back in the ack as an ephemeral reply, nothing
            # is posted in the channel, and the token is neither logged nor echoed.
            report = inspect_text(parsed.token, lifetime_s=deps.config.thresholds.token_lifetime_s)
            await ack(text=report, response_type="ephemeral")
            telemetry.COMMANDS.labels("/diagnose", "jwt").inc()
            return
        if isinstance(parsed, BadRequest):
            await ack(text=parsed.message)
            telemetry.COMMANDS.labels("/diagnose", "rejected").inc()
            return
        await ack(text=f"Diagnosing *{parsed.service}* ({parsed.symptom.value}) — findings follow in the thread.")
        telemetry.COMMANDS.labels("/diagnose", "accepted").inc()
        await run_diagnosis(
            deps, client, respond, parsed, channel=str(command["channel_id"]), user=str(command["user_id"]), flow=flow
        )

    app.command("/diagnose")(diagnose_command)
    bundle.register(app, deps)  # the "Compile support bundle" button under a diagnosis


async def answer_act(
    ack: AsyncAck,
    respond: AsyncRespond,
    client: AsyncWebClient,
    flow: Remediation | None,
    act: ActCommand | BadRequest,
    *,
    channel: str,
    user: str,
) -> None:
    """Propose through the core, then post the buttons message in the channel (as the demo's `propose`)."""
    if isinstance(act, BadRequest) or flow is None:
        await ack(text=act.message if isinstance(act, BadRequest) else "Actions are not offered by this bot.")
        telemetry.COMMANDS.labels("/diagnose", "rejected").inc()
        return
    await ack(text=f"Proposing *{act.action}* on *{act.service}* — the approval button follows in the channel.")
    telemetry.COMMANDS.labels("/diagnose", "act").inc()
    try:
        proposed = await flow.approvals.propose(act.action, act.service, dict(act.params), user, channel=channel,
                                                awaiting_message=True)
    except ProposalError as exc:
        await respond(text=f"Not proposed: {exc}", response_type="ephemeral")
        return
    except ApprovalStoreError as exc:
        log.warning("act %s on %s: the approvals store failed: %s", act.action, act.service, exc)
        await respond(text="The approvals database is unavailable; nothing was proposed. Try again shortly.",
                      response_type="ephemeral")
        return
    try:
        ts = await post(client, channel, proposal_message(proposed, f"{mention(user)} asks for approval:"))
    except SlackApiError as exc:
        await respond(text=f"Proposed, but I could not post it: {slack_error_reason(exc)}", response_type="ephemeral")
        return
    await flow.attach([proposed], channel, ts)
    for old in proposed.superseded:
        await settle_message(client, old, "Superseded by a newer proposal — nothing was changed.")


async def run_diagnosis(
    deps: Deps,
    client: AsyncWebClient,
    respond: AsyncRespond,
    request: DiagnoseRequest,
    *,
    channel: str,
    user: str,
    flow: Remediation | None = None,
) -> None:
    target = deps.config.target(request.service)
    try:
        root_ts = await post(client, channel, root_message(target, request.symptom, user))
    except SlackApiError as exc:
        await respond(text=slack_error_reason(exc), response_type="ephemeral")
        return
    started = time.perf_counter()
    try:
        diag = await deps.diagnose(request.service, request.symptom)
    except Exception:
        # The engine turns source failures into findings; reaching here is a bug, said in the thread.
        log.exception("diagnosis of %s failed", request.service)
        await post(client, channel, error_message("The diagnosis failed unexpectedly; see the bot's logs."), root_ts)
        return
    telemetry.DIAGNOSIS_SECONDS.labels(request.symptom.value).observe(time.perf_counter() - started)
    telemetry.DIAGNOSES.labels(request.symptom.value, diag.status.value).inc()
    for finding in diag.findings:
        telemetry.CHECKS.labels(finding.check, finding.status.value).inc()
    try:
        # With `flow`, the causes' proposals go out as approval buttons (handlers.proposals).
        await post_findings(client, diag, channel=channel, thread_ts=root_ts, requester=user,
                            guide_link=deps.config.guide_link, flow=flow)
        await update(client, channel, root_ts, with_bundle_button(root_done_message(diag, user), diag))
    except SlackApiError as exc:
        # The findings exist but Slack would not take them (after the 429 retries): say so privately.
        log.warning("posting findings for %s failed: %s", request.service, exc)
        await respond(text=f"The diagnosis finished but I could not post it: {slack_error_reason(exc)}",
                      response_type="ephemeral")
