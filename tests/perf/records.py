"""Hand-made source records for the performance checks' `assess` tests."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.checks.base import CheckContext
from bot.config import load_ops_config
from bot.engine import context_for
from bot.sources.records import ContainerSpec, ContainerState, ContainerUsage, HpaInfo, PodInfo, PodUsage

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
MIB = 1024**2
GIB = 1024**3
CONFIG = load_ops_config(None)


def ctx(service: str = "data-processor", dependencies: tuple[str, ...] | None = None) -> CheckContext:
    context = context_for(CONFIG, CONFIG.target(service), NOW)
    return context if dependencies is None else replace(context, dependencies=dependencies)


def pod(name: str, *, cpu_limit: float | None = 2.0, memory_limit: int | None = 2 * GIB,
        cpu_request: float | None = 1.0, running_for: timedelta = timedelta(hours=1), restarts: int = 0,
        last_reason: str | None = None,
        last_exit: int | None = None) -> PodInfo:
    started = NOW - running_for
    return PodInfo(
        name=name, phase="Running", ready=True, created=started, images=("registry.example.com/x:1.0",),
        containers=(ContainerState("app", True, restarts, last_terminated_reason=last_reason, last_exit_code=last_exit,
                                   started_at=started),),
        started=started,
        specs=(ContainerSpec("app", "registry.example.com/x:1.0", cpu_request=cpu_request, cpu_limit=cpu_limit,
                             memory_request=1 * GIB, memory_limit=memory_limit),),
    )


def usage(name: str, *, cpu: float = 0.5, memory: int = 500 * MIB, at: datetime = NOW) -> PodUsage:
    return PodUsage(name, at, (ContainerUsage("app", cpu, memory),))


def hpa(current: int, maximum: int, *, util: int | None = 50, target: int = 70,
        limited: bool = False) -> HpaInfo:
    conditions = (("ScalingLimited", "True" if limited else "False",
                   "TooManyReplicas" if limited else "DesiredWithinRange", ""),)
    return HpaInfo("data-processor", 2, maximum, current, current, target, util, conditions)
