"""The triage verdict for one message (DESIGN.md's `opsbot triage` output)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from bot.model import Symptom

Status = Literal["firing", "resolved"]
Severity = Literal["critical", "warning", "info"]


@dataclass(frozen=True)
class TriageResult:
    triage: bool
    services: tuple[str, ...] = ()
    symptom: Symptom = Symptom.UNKNOWN
    status: Status | None = None
    severity: Severity | None = None
    request_ids: tuple[str, ...] = ()
    source: str | None = None  # which tool's shape was recognised ("alertmanager", "human", ...)
    reason: str = ""  # why it was (not) triaged, for logs and `opsbot triage` readers
    firing_services: tuple[str, ...] = field(default=())

    @property
    def service(self) -> str | None:
        """The single affected service; None when none is named or several are firing."""
        affected = self.firing_services or self.services
        return affected[0] if len(affected) == 1 else None

    def to_json(self) -> dict[str, Any]:
        return {
            "triage": self.triage,
            "service": self.service,
            "services": list(self.services),
            "symptom": self.symptom.value,
            "status": self.status,
            "severity": self.severity,
            "request_ids": list(self.request_ids),
            "source": self.source,
            "reason": self.reason,
        }


def ignored(reason: str, source: str | None = None) -> TriageResult:
    return TriageResult(triage=False, source=source, reason=reason)
