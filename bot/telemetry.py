"""Prometheus metrics the bot exposes on /metrics. Counters live in one private registry per process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry()

COMMANDS = Counter("opsbot_commands_total", "Slash commands received", ["command", "outcome"], registry=REGISTRY)
DIAGNOSES = Counter("opsbot_diagnoses_total", "Diagnoses run", ["symptom", "status"], registry=REGISTRY)
DIAGNOSIS_SECONDS = Histogram(
    "opsbot_diagnosis_seconds", "Wall time of a diagnosis", ["symptom"], registry=REGISTRY,
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32),
)
CHECKS = Counter("opsbot_checks_total", "Checks run", ["check", "status"], registry=REGISTRY)
EVENTS_DUPLICATE = Counter("opsbot_events_duplicate_total", "Events API deliveries already handled",
                           registry=REGISTRY)
LISTENER_ERRORS = Counter("opsbot_listener_errors_total", "Unhandled errors in Slack listeners", registry=REGISTRY)
SCHEDULER_LEADER = Gauge("opsbot_scheduler_leader", "1 while this replica is the scheduler leader", registry=REGISTRY)
SCHEDULED_RUNS = Counter("opsbot_scheduled_runs_total", "Scheduled job runs by outcome (skipped: another replica "
                         "claimed the slot)", ["job", "outcome"], registry=REGISTRY)


def render() -> bytes:
    return generate_latest(REGISTRY)
