"""Runs a runbook's checks in parallel, each under a timeout, and turns every failure into a finding.

Total time is close to the slowest source. A source that is down or slow yields an `error` finding
that says so; the other findings still arrive.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from datetime import UTC, datetime

from bot.checks import CHECKS
from bot.checks.base import Check, CheckContext, SourceSet
from bot.config import OpsConfig
from bot.model import Diagnosis, Finding, Status, Target
from bot.runbooks import Runbook
from bot.sources.errors import SourceError
from bot.verdict import rank_causes

log = logging.getLogger(__name__)


def context_for(config: OpsConfig, target: Target, now: datetime | None = None) -> CheckContext:
    return CheckContext(
        target=target,
        thresholds=config.thresholds_for(target.service),
        diagnosis=config.diagnosis,
        dependencies=config.services[target.service].dependencies if target.service in config.services else (),
        now=now or datetime.now(UTC),
        access_policy=config.access_policy,
    )


async def run_check(check: Check, sources: SourceSet, ctx: CheckContext, timeout_s: float) -> Finding:
    started = time.perf_counter()
    try:
        evidence = await asyncio.wait_for(check.collect(sources, ctx), timeout_s)
        finding = check.assess(evidence, ctx)
    except TimeoutError:
        finding = _failed(check, f"No answer within {timeout_s:g} s; the source is slow or unreachable.")
    except SourceError as exc:
        finding = _failed(check, f"Could not check: {exc}")
    except Exception as exc:
        # A bug in one check must not take the whole diagnosis down; it is logged with its traceback.
        log.exception("check %s failed", check.name)
        finding = _failed(check, f"The check itself failed ({type(exc).__name__}); see the bot's logs.")
    elapsed = (time.perf_counter() - started) * 1000
    return replace(finding, duration_ms=elapsed)


def _failed(check: Check, reason: str) -> Finding:
    return Finding(check.name, check.title, Status.ERROR, reason, guide_section=check.guide_section)


async def diagnose(runbook: Runbook, sources: SourceSet, config: OpsConfig, target: Target) -> Diagnosis:
    started = time.perf_counter()
    ctx = context_for(config, target)
    timeout = config.diagnosis.check_timeout_s
    checks = [CHECKS[name] for name in runbook.checks]
    findings = await asyncio.gather(*(run_check(check, sources, ctx, timeout) for check in checks))
    causes = rank_causes(findings, runbook.symptom_check, runbook.may_propose)
    ordered = sorted(findings, key=lambda f: -f.status.rank)
    return Diagnosis(
        target=target,
        symptom=runbook.symptom,
        findings=tuple(ordered),
        causes=causes,
        guide_section=runbook.guide_section,
        duration_ms=(time.perf_counter() - started) * 1000,
    )
