"""Remediations: one module per action (params, risk, preview, execute, verify).

`ACTIONS` maps the stable action names (DESIGN.md) to their implementation."""

from __future__ import annotations

from typing import Any

from bot.actions.base import Action

ACTIONS: dict[str, Action[Any]] = {}
