"""Resource quantities for people (`1.8 GiB`, `950m`) and for action parameters (`4Gi`). Pure."""

from __future__ import annotations

MIB = 1024**2
GIB = 1024**3


def memory(value: float) -> str:
    """Bytes as `kubectl top` would show them: MiB below 10 GiB, GiB with one decimal above."""
    if value >= 10 * GIB:
        return f"{value / GIB:.1f} GiB"
    return f"{value / MIB:,.0f} MiB"


def cores(value: float) -> str:
    """CPU cores as millicores (`950m`), the unit limits are written in."""
    return f"{value * 1000:,.0f}m"


def memory_limit(value: int) -> str:
    """A memory limit for a `memory-bump` parameter: whole Gi when it is one, else whole Mi (rounded up)."""
    if value % GIB == 0:
        return f"{value // GIB}Gi"
    return f"{-(-value // MIB)}Mi"
