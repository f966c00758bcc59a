"""Slack listeners. Thin: ack first, parse, call the core, render, post."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.wiring import Deps
from handlers import commands, events


def register(app: AsyncApp, deps: Deps) -> None:
    commands.register(app, deps)
    events.register(app, deps)
