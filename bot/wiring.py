"""build_deps(settings) -> Deps: the only place where clients are constructed."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from bot import telemetry
from bot.actions import ACTIONS
from bot.actions.base import ActionEnv
from bot.approvals import Approvals
from bot.checks.base import SourceSet
from bot.config import OpsConfig, Settings, load_ops_config
from bot.engine import diagnose
from bot.model import Diagnosis, Symptom
from bot.runbooks import Runbook, load_runbooks
from bot.sources.cache import CacheSource
from bot.sources.cache_admin import CacheAdmin
from bot.sources.dns import DnsSource
from bot.sources.kube import KubeSource, build_api_client
from bot.sources.kube_writes import KubeWriter
from bot.sources.metrics import MetricsSource
from bot.sources.postgres import PostgresSource
from bot.sources.postgres_admin import PostgresAdmin
from bot.store.approvals import approval_store_from_url
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
    # Remediations: the approval flow (store: PostgreSQL from DATABASE_URL, else in memory) and what actions touch.
    approvals: Approvals
    action_env: ActionEnv
    diagnosis_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_CONCURRENT_DIAGNOSES))
    in_flight: dict[tuple[str, Symptom], asyncio.Future[Diagnosis]] = field(default_factory=dict)

    @property
    def runnable(self) -> frozenset[Symptom]:
        return frozenset(self.runbooks)

    @property
    def in_memory(self) -> bool:
        return self.settings.redis_url is None or self.settings.database_url is None

    async def diagnose(self, service: str, symptom: Symptom) -> Diagnosis:
        """Run a runbook; callers asking for the same service and symptom while it runs share the result.

        During an incident several people type the same command within seconds; one set of calls to the
        API server answers them all instead of multiplying the load on a platform that is already hurting.
        """
        key = (service, symptom)
        running = self.in_flight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Diagnosis] = asyncio.get_running_loop().create_future()
        self.in_flight[key] = future
        telemetry.QUEUE_DEPTH.labels("diagnoses").set(len(self.in_flight))
        try:
            async with self.diagnosis_slots:
                result = await diagnose(self.runbooks[symptom], self.sources, self.config, self.config.target(service))
            for finding in result.findings:  # here, not per caller: a shared run is measured once
                telemetry.CHECK_SECONDS.labels(symptom.value, finding.check, finding.status.value).observe(
                    finding.duration_ms / 1000)
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here so a run nobody shared never logs "exception never retrieved"
            raise
        finally:
            del self.in_flight[key]
            telemetry.QUEUE_DEPTH.labels("diagnoses").set(len(self.in_flight))

    async def readiness(self) -> dict[str, bool]:
        """Which dependencies answer right now (for /readyz)."""
        kube, metrics, coordination = await asyncio.gather(
            self.sources.kube.ping(), self.sources.metrics.ping(), self.coordination.ping()
        )
        return {"kubernetes": kube, "metrics_api": metrics, "coordination": coordination}

    async def aclose(self) -> None:
        await self.sources.metrics.aclose()
        if self.sources.cache is not None:
            await self.sources.cache.aclose()
        await self.approvals.store.aclose()
        await self.coordination.aclose()
        self.sources.kube.close()


def build_deps(settings: Settings, config: OpsConfig | None = None) -> Deps:
    config = config or load_ops_config(settings.opsbot_config)
    key = settings.metrics_api_key.get_secret_value() if settings.metrics_api_key else None
    api_client = build_api_client(settings.kubeconfig)  # one connection pool for reads and writes
    sources = SourceSet(
        kube=KubeSource(api_client),
        metrics=MetricsSource(settings.metrics_api_url, key),
        postgres=_target_database(settings),
        cache=_platform_cache(settings),
        dns=DnsSource(config.dns.nameservers, config.dns.port, config.dns.cluster_domain, config.dns.timeout_s),
    )
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
    coordination = coordination_from_url(redis_url)
    action_env = _action_env(settings, config, KubeWriter(api_client))
    database_url = settings.database_url.get_secret_value() if settings.database_url else None
    store = approval_store_from_url(database_url)
    approvals = Approvals(store, coordination, config, ACTIONS, action_env, dry_run=settings.opsbot_dry_run)
    return Deps(
        settings=settings,
        config=config,
        runbooks=load_runbooks(),
        sources=sources,
        coordination=coordination,
        approvals=approvals,
        action_env=action_env,
    )


def _action_env(settings: Settings, config: OpsConfig, kube: KubeWriter) -> ActionEnv:
    # Without TARGET_DATABASE_URL / CACHE_REDIS_URL the database and cache actions preview as blocked.
    database = settings.target_database_url
    cache = settings.cache_redis_url
    bot_redis = settings.redis_url.get_secret_value() if settings.redis_url else None  # never flushed
    return ActionEnv(
        kube=kube,
        config=config,
        postgres=PostgresAdmin(database.get_secret_value()) if database else None,
        cache=CacheAdmin(cache.get_secret_value(), bot_url=bot_redis) if cache else None,
        dry_run=settings.opsbot_dry_run,
    )


def _target_database(settings: Settings) -> PostgresSource | None:
    # Unset means the database checks answer no_data naming TARGET_DATABASE_URL, not that the bot fails.
    url = settings.target_database_url
    return PostgresSource(url.get_secret_value()) if url else None


def _platform_cache(settings: Settings) -> CacheSource | None:
    url = settings.cache_redis_url
    return CacheSource(url.get_secret_value()) if url else None
