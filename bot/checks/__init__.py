"""The registry of checks. Adding a diagnosis: one module, one line here, runbook data, fixtures."""

from __future__ import annotations

from bot.checks.base import Check
from bot.checks.dependency_health import DependencyHealthCheck
from bot.checks.error_logs import ErrorLogsCheck
from bot.checks.error_rate import ErrorRateCheck
from bot.checks.recent_rollout import RecentRolloutCheck

CHECKS: dict[str, Check] = {
    check.name: check
    for check in (
        ErrorRateCheck(),
        ErrorLogsCheck(),
        DependencyHealthCheck(),
        RecentRolloutCheck(),
    )
}
