"""The registry of checks. Adding a diagnosis: one module, one line here, runbook data, fixtures."""

from __future__ import annotations

from bot.checks.access_policy import AccessPolicyCheck
from bot.checks.base import Check
from bot.checks.cache import CacheCheck
from bot.checks.circuit_breaker import CircuitBreakerCheck
from bot.checks.clock_skew import ClockSkewCheck
from bot.checks.coredns import CoreDnsCheck
from bot.checks.crash_logs import CrashLogsCheck
from bot.checks.db_pool import DbPoolCheck
from bot.checks.dependency_health import DependencyHealthCheck
from bot.checks.dns_resolution import DnsResolutionCheck
from bot.checks.error_logs import ErrorLogsCheck
from bot.checks.error_rate import ErrorRateCheck
from bot.checks.forbidden_share import ForbiddenShareCheck
from bot.checks.health_checks import HealthChecksCheck
from bot.checks.hpa_headroom import HpaHeadroomCheck
from bot.checks.idle_connections import IdleConnectionsCheck
from bot.checks.jwt_reasons import JwtReasonsCheck
from bot.checks.latency import LatencyCheck
from bot.checks.long_queries import LongQueriesCheck
from bot.checks.memory_trend import MemoryTrendCheck
from bot.checks.missing_indexes import MissingIndexesCheck
from bot.checks.pod_events import PodEventsCheck
from bot.checks.pod_status import PodStatusCheck
from bot.checks.probe_timing import ProbeTimingCheck
from bot.checks.recent_rollout import RecentRolloutCheck
from bot.checks.replication import ReplicationCheck
from bot.checks.resource_usage import ResourceUsageCheck
from bot.checks.service_endpoints import ServiceEndpointsCheck
from bot.checks.slow_statements import SlowStatementsCheck
from bot.checks.timeouts import TimeoutsCheck
from bot.checks.too_many_clients import TooManyClientsCheck
from bot.checks.unauthorized_share import UnauthorizedShareCheck

CHECKS: dict[str, Check] = {
    check.name: check
    for check in (
        ErrorRateCheck(),
        ErrorLogsCheck(),
        DependencyHealthCheck(),
        RecentRolloutCheck(),
        UnauthorizedShareCheck(),
        JwtReasonsCheck(),
        ClockSkewCheck(),
        ForbiddenShareCheck(),
        AccessPolicyCheck(),
        DbPoolCheck(),
        LongQueriesCheck(),
        SlowStatementsCheck(),
        MissingIndexesCheck(),
        IdleConnectionsCheck(),
        TooManyClientsCheck(),
        ReplicationCheck(),
        CacheCheck(),
        DnsResolutionCheck(),
        ServiceEndpointsCheck(),
        CoreDnsCheck(),
        TimeoutsCheck(),
        CircuitBreakerCheck(),
        PodStatusCheck(),
        PodEventsCheck(),
        CrashLogsCheck(),
        ProbeTimingCheck(),
        HealthChecksCheck(),
        LatencyCheck(),
        ResourceUsageCheck(),
        MemoryTrendCheck(),
        HpaHeadroomCheck(),
    )
}
