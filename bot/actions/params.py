"""Parsing raw `key=value` action params into bounded values, with messages fit for the person who typed
them. Pure functions; every one raises ActionError."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from bot.actions.base import ActionError

_DURATION = re.compile(r"^(\d+)([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MEMORY = re.compile(r"^([1-9][0-9]*)(Ki|Mi|Gi|Ti)?$")
_BINARY = {None: 1, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4}
# Quantities as the API server may print them back (decimal suffixes included), for the current limit.
_ANY_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P|m)?$")
_ANY_FACTOR = {None: 1, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "Pi": 1024**5, "k": 10**3,
               "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "m": 0.001}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def only(raw: Mapping[str, str], allowed: Collection[str], action: str) -> None:
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        expected = ", ".join(sorted(allowed)) or "none"
        raise ActionError(f"{action}: unknown parameter {', '.join(unknown)} (expected: {expected})")


def integer(raw: Mapping[str, str], key: str, *, low: int, high: int, action: str) -> int:
    text = raw.get(key, "").strip()
    if not re.fullmatch(r"-?\d{1,10}", text):
        raise ActionError(f"{action}: {key} must be a whole number, got {text!r}")
    value = int(text)
    if value < low:  # -1 is a whole number; what is wrong with it is the bound
        raise ActionError(f"{action}: {key} must be at least {low}, got {value} (allowed {low}..{high}, ops config)")
    if value > high:
        raise ActionError(f"{action}: {key} must be at most {high}, got {value} (allowed {low}..{high}, ops config)")
    return value


def optional_integer(raw: Mapping[str, str], key: str, *, low: int, high: int, action: str) -> int | None:
    return integer(raw, key, low=low, high=high, action=action) if raw.get(key, "").strip() else None


def duration_s(text: str) -> int:
    """`90s`, `30m`, `1h`, `2d` -> seconds."""
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise ActionError(f"{text!r} is not a duration like 90s, 30m or 1h")
    return int(match.group(1)) * _SECONDS[match.group(2)]


def memory_bytes(text: str) -> int:
    """A memory limit as a person sets it: `4Gi`, `512Mi`, or plain bytes."""
    match = _MEMORY.fullmatch(text.strip())
    if not match:
        raise ActionError(f"{text!r} is not a memory size like 4Gi or 512Mi")
    return int(match.group(1)) * _BINARY[match.group(2)]


def quantity_bytes(text: str) -> float:
    """Any memory quantity the API server returns (`2Gi`, `1500M`, `1073741824`)."""
    match = _ANY_QUANTITY.fullmatch(text.strip())
    if not match:
        raise ActionError(f"cannot read the memory quantity {text!r}")
    return float(match.group(1)) * _ANY_FACTOR[match.group(2)]


def flag(raw: Mapping[str, str], key: str, action: str) -> bool:
    text = raw.get(key, "").strip().lower()
    if not text or text in _FALSE:
        return False
    if text in _TRUE:
        return True
    raise ActionError(f"{action}: {key} must be true or false, got {text!r}")


def minutes(raw: Mapping[str, str], *, default: int, high: int, action: str) -> int:
    if not raw.get("minutes", "").strip():
        return min(default, high)
    return integer(raw, "minutes", low=1, high=high, action=action)
