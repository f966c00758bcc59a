"""The one error type of the fake API server and its wire form, a `Status` object."""

from __future__ import annotations

from typing import Any

# HTTP status -> the `reason` the real apiserver puts in Status bodies.
_REASONS = {
    400: "BadRequest",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    415: "UnsupportedMediaType",
    422: "Invalid",
}


class KubeError(Exception):
    """A request the apiserver refuses; becomes a `Status` body with `code == status`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason or _REASONS.get(status, "InternalError")
        self.message = message
        self.details = details

    def to_status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.status,
        }
        if self.details:
            body["details"] = self.details
        return body


def not_found(group_resource: str, name: str) -> KubeError:
    resource, _, group = group_resource.partition(".")
    return KubeError(
        404,
        f'{group_resource} "{name}" not found',
        details={"name": name, "group": group, "kind": resource},
    )


def already_exists(group_resource: str, name: str) -> KubeError:
    resource, _, group = group_resource.partition(".")
    return KubeError(
        409,
        f'{group_resource} "{name}" already exists',
        reason="AlreadyExists",
        details={"name": name, "group": group, "kind": resource},
    )


def conflict(group_resource: str, name: str) -> KubeError:
    resource, _, group = group_resource.partition(".")
    return KubeError(
        409,
        f'Operation cannot be fulfilled on {group_resource} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        details={"name": name, "group": group, "kind": resource},
    )


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str]]) -> KubeError:
    """422 with one cause per (field, message), formatted like the apiserver's field errors."""
    qualified = f"{kind}.{group}" if group else kind
    summary = "; ".join(f"{field}: {message}" for field, message in causes)
    if len(causes) > 1:
        summary = f"[{summary}]"
    return KubeError(
        422,
        f'{qualified} "{name}" is invalid: {summary}',
        details={
            "name": name,
            "group": group,
            "kind": kind,
            "causes": [
                {"reason": _cause_reason(message), "message": message, "field": field}
                for field, message in causes
            ],
        },
    )


def _cause_reason(message: str) -> str:
    if message.startswith("Required value"):
        return "FieldValueRequired"
    if message.startswith("Duplicate value"):
        return "FieldValueDuplicate"
    return "FieldValueInvalid"


def success_status(kind: str, group: str, name: str, uid: str) -> dict[str, Any]:
    """What DELETE returns for kinds whose deleted object is not echoed back (all but pods, services)."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": name, "group": group, "kind": kind, "uid": uid},
    }
