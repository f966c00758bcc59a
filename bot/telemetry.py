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
CHECK_SECONDS = Histogram(
    "opsbot_check_seconds", "Wall time of each check run, by symptom, check and status (every diagnosis: "
    "/diagnose, triage, scheduled checks)", ["symptom", "check", "status"], registry=REGISTRY,
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16),
)
ALERTS_TRIAGED = Counter("opsbot_alerts_triaged_total", "Alert messages triage placed, by source and status "
                         "(firing/resolved)", ["source", "status"], registry=REGISTRY)
ACTIONS = Counter("opsbot_actions_total", "Remediations executed after approval, by action and outcome",
                  ["action", "outcome"], registry=REGISTRY)
SLACK_API_CALLS = Counter("opsbot_slack_api_calls_total", "Slack Web API HTTP requests by method and HTTP status "
                          "(every attempt, retries included)", ["method", "status"], registry=REGISTRY)
SLACK_RATE_LIMITED = Counter("opsbot_slack_api_rate_limited_total", "Slack Web API answers with HTTP 429",
                             ["method"], registry=REGISTRY)
QUEUE_DEPTH = Gauge("opsbot_queue_depth", "Work waiting in the bot's queues (triage_posts: outgoing triage "
                    "messages; diagnoses: diagnoses running or waiting for a slot)", ["queue"], registry=REGISTRY)


def render() -> bytes:
    return generate_latest(REGISTRY)
