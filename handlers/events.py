"""Events API listeners. Every subscribed event must match a listener, or Bolt answers 404 and Slack
retries it (and eventually disables the subscription). Messages and mentions go to alert triage
(handlers/alerts.py): a mention the bot cannot place is answered there with the help text."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.remediation import Remediation
from bot.wiring import Deps
from handlers import alerts


def register(app: AsyncApp, deps: Deps, flow: Remediation | None = None) -> None:
    # One listener per event type (Bolt runs only the first match): alerts registers message and app_mention.
    alerts.register(app, deps, flow)
