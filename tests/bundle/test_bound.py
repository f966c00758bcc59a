"""The size cap: oldest log lines dropped first, across containers, the drop noted; everything else stays."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.bundle import BundleRequest, process
from bot.bundle.bound import fit_logs
from bot.bundle.collect import Collected, ContainerLog
from bot.model import Target
from bot.sources.records import LogLine
from tests.bundle.conftest import archive_members

START = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
TARGET = Target("auth-service", "default", "app=auth-service", "auth-service")


def container_log(pod: str, count: int, offset_ms: int, *, errors_every: int = 0) -> ContainerLog:
    lines = []
    for n in range(count):
        at = START + timedelta(milliseconds=offset_ms + 30 * n)
        level = "ERROR" if errors_every and n % errors_every == 0 else "INFO"
        lines.append(LogLine(pod, "app", f"{at:%H:%M:%S} {level} [auth-service] request_id=req-{n:08x} line {n} "
                                         + "x" * 60, ts=at))
    return ContainerLog(pod, "app", False, lines)


def test_everything_fits_under_a_generous_budget() -> None:
    logs = [container_log("a", 100, 0), container_log("b", 100, 10)]
    fit = fit_logs(logs, 10_000_000)
    assert fit.dropped_lines == 0 and fit.kept_from is None
    assert [len(e.lines) for e in fit.logs] == [100, 100]


def test_the_oldest_lines_go_first_across_containers() -> None:
    logs = [container_log("a", 1000, 0), container_log("b", 1000, 10), container_log("c", 300, 20_000)]
    fit = fit_logs(logs, 60_000)
    kept = [line for entry in fit.logs for line in entry.lines]
    dropped = [line for entry in logs for line in entry.lines if line not in kept]
    assert fit.dropped_lines == len(dropped) > 0
    assert fit.kept_from is not None
    assert max(line.ts for line in dropped if line.ts) < min(line.ts for line in kept if line.ts)
    assert all(entry.lines[-1] == fitted.lines[-1] for entry, fitted in zip(logs, fit.logs, strict=True)), \
        "each container keeps its newest line"


def test_a_bundle_over_the_cap_drops_old_log_lines_and_says_so() -> None:
    logs = [container_log(f"auth-service-{n}", 6000, n * 7, errors_every=50) for n in range(3)]
    until = logs[0].lines[-1].ts or START
    collected = Collected(target=TARGET, since=START, until=until, logs=logs)
    request = BundleRequest("auth-service", "U0ALICE01", timedelta(hours=1))
    cap = 400_000
    bundle = process(collected, request, cap)
    members = archive_members(bundle.archive)
    assert len(members["summary.md"]) + len(members["bundle.json"]) <= cap
    doc = json.loads(members["bundle.json"])
    kept = [line for entry in doc["logs"] for line in entry["lines"]]
    assert 0 < len(kept) < 18_000
    newest = logs[2].lines[-1]
    oldest = logs[0].lines[0]
    assert any(newest.text in line for line in kept)
    assert not any(oldest.text in line for line in kept)
    manifest = json.loads(members["manifest.json"])
    [note] = manifest["truncated"]
    assert note["part"] == "logs" and note["dropped_lines"] == 18_000 - len(kept)
    assert "oldest" in note["note"] and str(f"{cap:,}") in note["note"]
    assert "oldest log line(s) dropped" in members["summary.md"].decode()
    # The errors were counted over every line, not only the ones that fit.
    assert doc["errors"]["lines_scanned"] == 18_000 and doc["errors"]["error_lines"] == 3 * 120


def test_an_untruncated_bundle_says_nothing_was_dropped() -> None:
    logs = [container_log("auth-service-0", 50, 0)]
    collected = Collected(target=TARGET, since=START, until=START + timedelta(minutes=5), logs=logs)
    bundle = process(collected, BundleRequest("auth-service", "cli:ops", timedelta(hours=1)), 5_000_000)
    manifest = json.loads(archive_members(bundle.archive)["manifest.json"])
    assert manifest["truncated"] == []
    doc = json.loads(archive_members(bundle.archive)["bundle.json"])
    assert sum(len(entry["lines"]) for entry in doc["logs"]) == 50


def test_lines_out_of_order_or_without_a_timestamp_are_placed_before_bisecting() -> None:
    ordered = container_log("a", 400, 0).lines
    shuffled = ordered[200:] + ordered[:200]
    undated = [LogLine("a", "app", f"undated {n} " + "y" * 60) for n in range(50)]
    logs = [ContainerLog("a", "app", False, shuffled + undated)]
    budget = sum(len(line.text) + 41 for line in ordered[-100:]) + 5
    fit = fit_logs(logs, budget)
    [kept] = fit.logs
    assert kept.lines == ordered[-100:]
    assert fit.dropped_lines == 350 and fit.kept_from == ordered[-100].ts


def test_quotes_and_backslashes_count_as_the_json_escapes_they_become() -> None:
    texts = ['say "hi"', "C:\\temp\\x", "plain", 'both \\ and "', "plain again"]
    lines = [LogLine("a", "app", text, ts=START + timedelta(seconds=n)) for n, text in enumerate(texts)]
    logs = [ContainerLog("a", "app", False, lines)]
    size = [len(json.dumps(text)) - 2 + 41 for text in texts]  # the escaped text, without its quotes
    assert fit_logs(logs, sum(size[-3:])).dropped_lines == 2
    assert fit_logs(logs, sum(size[-3:]) - 1).dropped_lines == 3
