"""Transport-neutral request/reply types between the aiohttp layer and the verb handlers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import KubeError

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None
    body: Any = None  # parsed JSON; None when there was no body
    body_error: str | None = None  # why the body could not be parsed as JSON

    @property
    def dry_run(self) -> bool:
        return self.query.get("dryRun") == "All"

    def json_body(self) -> Any:
        if self.body_error is not None:
            raise KubeError(400, f"the body of the request could not be decoded: {self.body_error}")
        return self.body

    def object_body(self) -> dict[str, Any]:
        body = self.json_body()
        if not isinstance(body, dict):
            raise KubeError(400, "the body of the request must be a JSON object")
        return body

    def int_param(self, name: str) -> int | None:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise KubeError(400, f"invalid value for {name}: {raw!r} is not an integer") from None

    def bool_param(self, name: str) -> bool:
        return self.query.get(name, "false").lower() in ("true", "1")


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    content_type: str = JSON

    @classmethod
    def error(cls, exc: KubeError) -> Reply:
        return cls(exc.status, exc.to_status())
