"""Small pure readings of pod records shared by the pod-health checks: probe windows, memory sizes,
container descriptions. No I/O."""

from __future__ import annotations

from datetime import datetime

from bot.checks.formatting import age
from bot.sources.records import ContainerState, PodInfo, ProbeSpec

# Waiting reasons of a container whose image could not be fetched.
IMAGE_PULL_REASONS = frozenset({"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"})
# Waiting reasons of a container Kubernetes could not even create (a missing Secret or ConfigMap key).
CONFIG_REASONS = frozenset({"CreateContainerConfigError", "CreateContainerError"})
# Reasons a container may legitimately wait in for a short while.
CREATING_REASONS = frozenset({"ContainerCreating", "PodInitializing"})

# Explanations of *why* a container crash-loops or a probe fails. A bare "crash loop" or "probe failing"
# cause lists them in `supports`, so it folds into whichever explanation another check found (first wins).
CRASH_EXPLANATIONS = ("oom_killed", "missing_dependency", "port_conflict", "config_error", "unhandled_exception",
                      "slow_startup", "probe_failing")
PROBE_EXPLANATIONS = ("slow_startup", "health_database", "health_dependency", "health_cache", "health_check")

_GI = 1024**3
_MI = 1024**2


def describe_container(pod: PodInfo, state: ContainerState, now: datetime) -> str:
    """One line as `kubectl get pod` + `describe` would tell it: phase, waiting, last termination, restarts."""
    parts = [f"{pod.name}: {pod.phase}", "ready" if state.ready else "not ready"]
    if state.waiting_reason:
        message = f" ({_clip(state.waiting_message, 140)})" if state.waiting_message else ""
        parts.append(f"waiting {state.waiting_reason}{message}")
    if state.last_terminated_reason or state.last_exit_code is not None:
        parts.append(
            f"last terminated {state.last_terminated_reason or '?'} exit {state.last_exit_code}"
            f" {age(state.last_finished_at, now)}"
        )
    if state.restart_count:
        parts.append(f"{state.restart_count} restart{'s' if state.restart_count != 1 else ''}")
    parts.append(f"pod age {age(pod.created, now).removesuffix(' ago')}")
    return ", ".join(parts)


def liveness_window_s(probe: ProbeSpec) -> int:
    """How long a container that never answers survives the probe: initial delay + threshold × period.

    The kubelet probes first after initialDelaySeconds and kills after failureThreshold failures in a row."""
    return probe.initial_delay_s + probe.failure_threshold * probe.period_s


def probe_text(probe: ProbeSpec) -> str:
    return (
        f"{probe.kind} {probe.handler}: initialDelaySeconds {probe.initial_delay_s}, periodSeconds"
        f" {probe.period_s}, timeoutSeconds {probe.timeout_s}, failureThreshold {probe.failure_threshold}"
    )


def memory_text(size: int) -> str:
    if size % _GI == 0:
        return f"{size // _GI}Gi"
    return f"{round(size / _MI)}Mi"


def doubled_memory(limit: int) -> str:
    """The guide's bump doubles the limit (2Gi -> 4Gi); rounded up to whole Gi above 1Gi, Mi below."""
    doubled = limit * 2
    if doubled >= _GI:
        return f"{-(-doubled // _GI)}Gi"
    return f"{-(-doubled // _MI)}Mi"


def _clip(text: str | None, limit: int) -> str:
    text = (text or "").strip().replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
