"""The request log tests assert on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_RECORDED = 10_000


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    body: Any = None  # parsed JSON, the raw text when it was not JSON, or None without a body
    status: int = 0
    user_agent: str | None = None  # tells the bot's requests from a test's own (tests/deploy RBAC check)


def append_bounded(log: list[RecordedRequest], entry: RecordedRequest, limit: int = MAX_RECORDED) -> None:
    log.append(entry)
    if len(log) > limit:
        del log[: len(log) - limit]
