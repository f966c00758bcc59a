"""Runbooks are data: symptom -> checks, which actions it may propose, guide section.

Loaded and validated at start-up; a runbook naming an unknown check or action stops the bot."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.checks import CHECKS
from bot.model import Symptom

KNOWN_ACTIONS = (
    "scale", "restart", "rollback", "delete-pod", "flush-cache", "terminate-idle", "cancel-query",
    "debug-logging", "memory-bump", "scale-to-zero", "restore-replicas", "maintenance",
)


class Runbook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    symptom: Symptom
    title: str
    guide_section: str
    checks: tuple[str, ...] = Field(min_length=1)
    may_propose: tuple[str, ...] = ()
    # A sweep runs the cheap checks of every runbook: no check measures "the" symptom, so a healthy first
    # check says nothing about the others' suspects and must not discount them.
    sweep: bool = False

    @property
    def symptom_check(self) -> str | None:
        return None if self.sweep else self.checks[0]

    @field_validator("checks")
    @classmethod
    def _known_checks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in value if name not in CHECKS]
        if unknown:
            raise ValueError(f"unknown checks {unknown}")
        return value

    @field_validator("may_propose")
    @classmethod
    def _known_actions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in value if name not in KNOWN_ACTIONS]
        if unknown:
            raise ValueError(f"unknown actions {unknown}")
        return value


class RunbookError(Exception):
    pass


@cache
def load_runbooks() -> dict[Symptom, Runbook]:
    books: dict[Symptom, Runbook] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        try:
            book = Runbook.model_validate(yaml.safe_load(entry.read_text(encoding="utf-8")))
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            raise RunbookError(f"runbook {entry.name}: {key}: {first['msg']}") from exc
        books[book.symptom] = book
    return books
