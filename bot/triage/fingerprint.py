"""What makes two alert messages "the same alert": the tool that sent it, the services, the symptom.

Only platform services and the symptom vocabulary go into a fingerprint, so the set of fingerprints is
finite however many messages arrive; that bounds every per-fingerprint table the storm controller keeps.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bot.model import Symptom
from bot.triage.result import TriageResult


@dataclass(frozen=True)
class Fingerprint:
    source: str
    services: tuple[str, ...]
    symptom: Symptom

    @property
    def key(self) -> str:
        """Short and stable across replicas and restarts (used in Redis keys and button values)."""
        raw = f"{self.source}|{','.join(self.services)}|{self.symptom.value}"
        return hashlib.sha256(raw.encode()).hexdigest()[:20]

    @property
    def label(self) -> str:
        return f"{self.symptom.value} on {', '.join(self.services)} ({self.source})"


def fingerprint_of(result: TriageResult) -> Fingerprint | None:
    """None when the message names no platform service: such an alert cannot be placed in a thread map.

    A firing notification is keyed by the services still firing, so the later resolved notification of the
    same group (which names them all) finds it; sorted, because tools list labels in any order."""
    if not result.triage:
        return None
    named = result.firing_services if result.status == "firing" and result.firing_services else result.services
    if not named:
        return None
    return Fingerprint(result.source or "unknown", tuple(sorted(set(named))), result.symptom)
