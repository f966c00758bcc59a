"""Slack listeners. Thin: ack first, parse, call the core, render, post."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.remediation import Remediation, build_remediation
from bot.wiring import Deps
from handlers import actions, commands, events
from handlers.people import People


def register(app: AsyncApp, deps: Deps, flow: Remediation | None = None) -> None:
    flow = flow or build_remediation(deps)
    commands.register(app, deps, flow)
    actions.register(app, deps, flow, People())
    events.register(app, deps, flow)
