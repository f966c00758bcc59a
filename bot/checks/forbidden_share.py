"""Share of requests refused with 403 Forbidden, by endpoint, and whether it is rising."""

from __future__ import annotations

from bot.checks.auth_causes import refused_permission
from bot.checks.base import CheckContext, SourceSet
from bot.checks.status_share import ShareEvidence, assess_share, collect_share
from bot.model import Finding


class ForbiddenShareCheck:
    """403 share of requests and of errors, by endpoint, and its trend (configured period vs 1 h)."""

    name = "forbidden_share"
    title = "403 Forbidden responses"
    guide_section = "Permission Denied (403)"

    async def collect(self, sources: SourceSet, ctx: CheckContext) -> ShareEvidence:
        return await collect_share(sources, ctx)

    def assess(self, evidence: ShareEvidence, ctx: CheckContext) -> Finding:
        return assess_share(self, evidence, ctx, 403, "refused with 403 Forbidden",
                            cause=refused_permission)
