"""How far to scale out: the HPA's own rule, bounded. Pure."""

from __future__ import annotations

import math

# The guide's biggest emergency scale-up (`--replicas=20`); the scale action enforces its own limit too.
MAX_PROPOSED_REPLICAS = 20


def scale_out_target(current: int, utilisation: float, target: float, ceiling: int | None = None) -> int | None:
    """Replicas that bring `utilisation` (of whatever the target is measured against) down to `target`.

    The HPA's formula, ceil(current * utilisation / target), at least one more pod, capped by `ceiling`
    (an HPA's maxReplicas) and MAX_PROPOSED_REPLICAS. None when no step up fits under the cap. Pods
    pinned at their CPU limit hide part of the demand, so the result is a floor, not a promise."""
    if current <= 0 or target <= 0:
        return None
    wanted = max(current + 1, math.ceil(current * utilisation / target))
    cap = min(MAX_PROPOSED_REPLICAS, ceiling) if ceiling is not None else MAX_PROPOSED_REPLICAS
    bounded = min(wanted, cap)
    return bounded if bounded > current else None
