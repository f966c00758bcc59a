"""Share of requests rejected with 401 Unauthorized, by endpoint, and whether it is rising."""

from __future__ import annotations

from bot.checks.auth_causes import rejected_tokens
from bot.checks.base import CheckContext, SourceSet
from bot.checks.status_share import ShareEvidence, assess_share, collect_share
from bot.model import Finding


class UnauthorizedShareCheck:
    """401 share of requests and of errors, by endpoint, and its trend (configured period vs 1 h)."""

    name = "unauthorized_share"
    title = "401 Unauthorized responses"
    guide_section = "Invalid JWT Token (401)"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> ShareEvidence:
        return await collect_share(sources, ctx)

    def assess(self, evidence: ShareEvidence, ctx: CheckContext) -> Finding:
        return assess_share(self, evidence, ctx, 401, "rejected with 401 Unauthorized",
                            cause=rejected_tokens)
