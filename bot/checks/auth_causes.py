"""The cause keys for rejected requests, shared by every check that sees 401s or 403s.

One scheme, so that checks looking from different sides combine: the error rate and the 401 share see
that tokens are rejected (`jwt_rejected`); the log reasons say why (`jwt_expired`, `jwt_signature`, ...), and
the generic cause folds into the specific one when both are present. Likewise a 403 share says callers lack
a permission (`permission_refused`) and folds into access_policy's `missing_permission`, which names the role
and the permission. (The generic causes have keys of their own because the verdict takes a group's title
from the first cause with the group's key, and the runbook's first check is the share: sharing the key
would replace "role viewer lacks write:orders" with the generic sentence.) None proposes an action: no
remediation button fixes a token or a role.
"""

from __future__ import annotations

from bot.model import Cause

JWT_REJECTED = "jwt_rejected"
# The specific reasons jwt_reasons finds in the logs; a generic rejection corroborates whichever is present.
JWT_REASON_KEYS = ("jwt_expired", "jwt_signature", "jwt_format", "jwt_blacklisted")
MISSING_PERMISSION = "missing_permission"
PERMISSION_REFUSED = "permission_refused"
JWT_SECTION = "Invalid JWT Token (401)"
PERMISSION_SECTION = "Permission Denied (403)"
# A dominant 401/403 share explains an error surge about as well as a fresh rollout does, and it is
# measured, not inferred from timing: a little more than a rollout's 0.5 standing alone.
SHARE_CONFIDENCE = 0.55


def rejected_tokens(evidence: tuple[str, ...], confidence: float = SHARE_CONFIDENCE) -> Cause:
    return Cause(
        key=JWT_REJECTED,
        title="Requests are rejected with 401 Unauthorized (invalid or expired JWTs)",
        confidence=confidence,
        evidence=evidence,
        guide_section=JWT_SECTION,
        supports=JWT_REASON_KEYS,
    )


def refused_permission(evidence: tuple[str, ...], confidence: float = SHARE_CONFIDENCE) -> Cause:
    return Cause(
        key=PERMISSION_REFUSED,
        title="Callers are refused with 403 Forbidden: their role lacks a permission the endpoint needs",
        confidence=confidence,
        evidence=evidence,
        guide_section=PERMISSION_SECTION,
        supports=(MISSING_PERMISSION,),
    )
