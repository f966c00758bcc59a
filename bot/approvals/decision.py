"""What the approvals API hands back: a stored proposal, and the decision on a click.

Plain frozen values, so the Slack layer can render them (ephemeral refusal, message update, re-offered
buttons) and the CLI can print them, without either knowing how they were reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.actions.base import Outcome, Preview
from bot.store.approvals import ApprovalRequest


class ProposalError(Exception):
    """A proposal could not be made; `str(exc)` is fit to show the user as is."""


class BadProposal(ProposalError):
    """The input is wrong: unknown action or service, or invalid params (CLI exit code 2)."""


class ProposalRefused(ProposalError):
    """The input is fine but nothing may be offered now: read-only mode, or the preview is blocked."""


class NothingToChange(ProposalRefused):
    """The preview found the target already as the action would leave it: there is nothing to approve."""


@dataclass(frozen=True)
class Proposed:
    """A stored pending request with the preview it was made on. `superseded` are the older pending
    requests of the same action on the same service it replaced (their buttons should go)."""

    request: ApprovalRequest
    preview: Preview
    superseded: tuple[ApprovalRequest, ...] = ()


class DecisionKind(StrEnum):
    SUCCEEDED = "succeeded"  # executed and the action reported success
    FAILED = "failed"  # executed (or tried to) and it did not work
    REFUSED = "refused"  # nothing ran; `reason` says why
    DENIED = "denied"  # declined by someone allowed to
    PREVIEWED = "previewed"  # dry run: every check passed, nothing executed
    FIRST_APPROVAL = "first_approval"  # four eyes: 1 of 2 approvals recorded; still pending, nothing ran


class RefusalReason(StrEnum):
    UNKNOWN_REQUEST = "unknown_request"  # no such id (forged, mistyped or from another installation)
    WRONG_MESSAGE = "wrong_message"  # the click came from a message the request was not posted in
    READ_ONLY = "read_only"
    NO_ROLES = "no_roles"
    NOT_AUTHORISED = "not_authorised"
    SELF_APPROVAL = "self_approval"
    EXPIRED = "expired"
    ALREADY_DECIDED = "already_decided"  # a replayed or late click: someone else won, or it already ran
    BUSY = "busy"  # another action on the same service is executing right now
    TARGET_CHANGED = "target_changed"  # the state the proposal was made on moved; see `reproposal`
    UNAVAILABLE = "unavailable"  # the action is gone from this build, or coordination is down


@dataclass(frozen=True)
class Decision:
    """The result of a click (approve or deny). `message` is one sentence fit to show the clicker.

    `request` is the stored request as it ended up (None for an unknown id). `required_role` is set when
    the clicker lacked a role. `outcome` is what executing did. `reproposal` is a fresh proposal when the
    target changed, to be offered in place of the stale one (None if it could not be re-proposed).
    `unrecorded` says what of an executed action's result the database failed to keep (the action did run;
    `message` says so too); None when everything was recorded."""

    kind: DecisionKind
    message: str
    request: ApprovalRequest | None = None
    reason: RefusalReason | None = None
    required_role: str | None = None
    outcome: Outcome | None = None
    preview: Preview | None = None
    reproposal: Proposed | None = None
    unrecorded: str | None = None

    @property
    def ok(self) -> bool:
        return self.kind in (
            DecisionKind.SUCCEEDED, DecisionKind.PREVIEWED, DecisionKind.DENIED, DecisionKind.FIRST_APPROVAL
        )
