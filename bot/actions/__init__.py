"""Remediations: one module per action (params, risk, preview, execute, verify).

`ACTIONS` maps the stable action names (DESIGN.md) to their implementation."""

from __future__ import annotations

from typing import Any

from bot.actions.base import Action
from bot.actions.cancel_query import CancelQuery
from bot.actions.debug_logging import DebugLogging
from bot.actions.delete_pod import DeletePod
from bot.actions.flush_cache import FlushCache
from bot.actions.maintenance import Maintenance
from bot.actions.memory_bump import MemoryBump
from bot.actions.restart import Restart
from bot.actions.restore_replicas import RestoreReplicas
from bot.actions.rollback import Rollback
from bot.actions.scale import Scale
from bot.actions.scale_to_zero import ScaleToZero
from bot.actions.terminate_idle import TerminateIdle

_ALL: tuple[Action[Any], ...] = (
    Scale(), Restart(), Rollback(), DeletePod(), FlushCache(), TerminateIdle(), CancelQuery(), DebugLogging(),
    MemoryBump(), ScaleToZero(), RestoreReplicas(), Maintenance(),
)
ACTIONS: dict[str, Action[Any]] = {action.name: action for action in _ALL}
