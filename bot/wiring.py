"""build_deps(settings) -> Deps: the only place where clients are constructed."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from bot.checks.base import SourceSet
from bot.config import OpsConfig, Settings, load_ops_config
from bot.engine import diagnose
from bot.model import Diagnosis, Symptom
from bot.runbooks import Runbook, load_runbooks
from bot.sources.kube import KubeSource, build_api_client
from bot.sources.metrics import MetricsSource
from bot.store.coordination import Coordination, coordination_from_url

log = logging.getLogger(__name__)
# Diagnoses fan out to the API server and the metrics API; bound how many run at once per replica.
MAX_CONCURRENT_DIAGNOSES = 8


@dataclass
class Deps:
    settings: Settings
    config: OpsConfig
    runbooks: dict[Symptom, Runbook]
    sources: SourceSet
    coordination: Coordination
    diagnosis_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_CONCURRENT_DIAGNOSES))

    @property
    def runnable(self) -> frozenset[Symptom]:
        return frozenset(self.runbooks)

    @property
    def in_memory(self) -> bool:
        return self.settings.redis_url is None or self.settings.database_url is None

    async def diagnose(self, service: str, symptom: Symptom) -> Diagnosis:
        async with self.diagnosis_slots:
            return await diagnose(self.runbooks[symptom], self.sources, self.config, self.config.target(service))

    async def readiness(self) -> dict[str, bool]:
        """Which dependencies answer right now (for /readyz)."""
        kube, metrics, coordination = await asyncio.gather(
            self.sources.kube.ping(), self.sources.metrics.ping(), self.coordination.ping()
        )
        return {"kubernetes": kube, "metrics_api": metrics, "coordination": coordination}

    async def aclose(self) -> None:
        await self.sources.metrics.aclose()
        await self.coordination.aclose()
        self.sources.kube.close()


def build_deps(settings: Settings, config: OpsConfig | None = None) -> Deps:
    config = config or load_ops_config(settings.opsbot_config)
    key = settings.metrics_api_key.get_secret_value() if settings.metrics_api_key else None
    sources = SourceSet(
        kube=KubeSource(build_api_client(settings.kubeconfig)),
        metrics=MetricsSource(settings.metrics_api_url, key),
    )
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
    return Deps(
        settings=settings,
        config=config,
        runbooks=load_runbooks(),
        sources=sources,
        coordination=coordination_from_url(redis_url),
    )
