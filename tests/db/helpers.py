"""Shared pieces of the database tests: a check context with chosen thresholds, hand-made records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.checks.base import CheckContext
from bot.config import load_ops_config
from bot.engine import context_for
from bot.sources.db_records import AppConnections, ConnectionUsage

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CONFIG = load_ops_config(None)
TARGET = CONFIG.target("business-logic")


def ctx(**thresholds: Any) -> CheckContext:
    """The packaged context for business-logic with some thresholds changed."""
    base = context_for(CONFIG, TARGET, NOW)
    return replace(base, thresholds=base.thresholds.model_copy(update=thresholds))


def usage(total: int, *, idle: int = 0, in_tx: int = 0, max_connections: int = 100, idle_oldest_s: float | None = None,
          idle_over_hour: int = 0, in_tx_oldest_s: float | None = None) -> ConnectionUsage:
    active = total - idle - in_tx
    return ConnectionUsage(
        max_connections=max_connections,
        superuser_reserved=3,
        total=total,
        by_state={"active": active, "idle": idle, "idle in transaction": in_tx},
        by_application=(AppConnections("orders-api", total, active, idle, in_tx),),
        idle=idle,
        idle_oldest_s=idle_oldest_s if idle else None,
        idle_over_hour=idle_over_hour,
        idle_in_transaction=in_tx,
        idle_in_transaction_oldest_s=in_tx_oldest_s if in_tx else None,
    )
