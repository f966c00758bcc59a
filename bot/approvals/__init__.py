"""Approval requests: who may approve what, four eyes, the state machine, expiry and audit.

The API the Slack layer and the CLI build on:

* ``Approvals.propose(action, service, params, requester)`` -> ``Proposed`` (request id for the button,
  the preview to show); ``Approvals.attach_message(id, channel, ts)`` once the message is posted.
* ``Approvals.approve(id, Approver.slack_user(user_id, groups), origin=Origin(channel, message_ts))``
  -> ``Decision``: refusals (with the role needed), the outcome, or a re-proposal when the target changed.
  A click's ``origin`` (every click from Slack) must be exactly the request's posted message; local callers
  (the demo, the CLI, the scheduler) pass none.
* ``Approvals.precheck(...)`` -> ``Decision | None``: the same checks without executing (confirmation modal).
* ``Approvals.deny(...)``; ``Approvals.expire_due()`` and ``Approvals.fail_stuck()`` (scheduler jobs);
  ``Approvals.audit(...)``.

Refusals and failures come back as a ``Decision``, never as exceptions; ``propose`` raises ``BadProposal``
/ ``ProposalRefused``. A database outage raises ``bot.store.approvals.ApprovalStoreError`` from any call, except
once an approved action has run: then the ``Decision`` still carries its outcome, and ``unrecorded`` says what
the database failed to keep (the action did run).
The store behind it is ``bot.store.approvals`` (PostgreSQL or in-memory).
"""

from bot.approvals.decision import (
    BadProposal,
    Decision,
    DecisionKind,
    ProposalError,
    ProposalRefused,
    Proposed,
    RefusalReason,
)
from bot.approvals.gate import Origin
from bot.approvals.policy import Approver, Requirement, requirement, role_of
from bot.approvals.service import Approvals

__all__ = [
    "Approvals",
    "Approver",
    "BadProposal",
    "Decision",
    "DecisionKind",
    "Origin",
    "ProposalError",
    "ProposalRefused",
    "Proposed",
    "RefusalReason",
    "Requirement",
    "requirement",
    "role_of",
]
