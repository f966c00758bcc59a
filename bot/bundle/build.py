"""From a request to an archive: collect (I/O), then `process` (pure): redact, group, trace, bound, pack.

Redaction comes first, on every log line, so grouping, request tracing and the size cap only ever see
redacted text; the document is then redacted as a whole (metrics messages, events, findings, change
causes) before anything is rendered from it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.bundle.bound import Fit, LogFitter, serialised_size
from bot.bundle.collect import Collected, ContainerLog, collect
from bot.bundle.document import build_document, iso, log_section
from bot.bundle.error_groups import scan_errors
from bot.bundle.package import DOCUMENT, MANIFEST, SUMMARY, encode_document, manifest_bytes, pack, part_entry
from bot.bundle.redact import Redactor
from bot.bundle.request import Bundle, BundleRequest
from bot.bundle.request_ids import trace_requests
from bot.bundle.summary import render_summary
from bot.wiring import Deps

# Room kept for what the cap cannot see before it is written: the truncation notes, rounding of estimates.
_SLACK_BYTES = 4096
_FIT_ATTEMPTS = 4


async def compile_bundle(deps: Deps, request: BundleRequest, now: datetime | None = None) -> Bundle:
    now = now or datetime.now(UTC)
    collected = await collect(deps, request, now)
    return process(collected, request, deps.config.bundle.max_bytes)


def process(collected: Collected, request: BundleRequest, max_bytes: int) -> Bundle:
    redactor = Redactor()
    logs = [_redacted(entry, redactor) for entry in collected.logs]
    scan = scan_errors(logs)
    samples = collected.errors.samples if collected.errors is not None else ()
    traced = trace_requests(logs, scan, samples, request.alert_text)
    doc = redactor.value(build_document(collected, scan, traced, request))
    assert isinstance(doc, dict)
    manifest = _manifest(collected, request, redactor)
    fixed = serialised_size({**doc, "logs": []}) + len(render_summary(doc, manifest).encode()) + _SLACK_BYTES
    budget = max_bytes - fixed
    fitter = LogFitter(logs)
    for _ in range(_FIT_ATTEMPTS):
        fit = fitter.fit(max(budget, 0))
        parts = _parts(doc, manifest, fit, max_bytes, fixed)
        size = len(parts[SUMMARY]) + len(parts[DOCUMENT])
        if size <= max_bytes or budget <= 0:
            break
        budget -= size - max_bytes
    manifest["parts"] = {name: part_entry(data) for name, data in parts.items()}
    parts[MANIFEST] = manifest_bytes(manifest)
    folder = f"support-bundle-{collected.target.service}-{_stamp(collected.until)}"
    return Bundle(
        filename=f"{folder}.tar.gz",
        archive=pack(folder, parts, collected.until),
        manifest=manifest,
        summary_line=_summary_line(doc, manifest),
    )


def _redacted(entry: ContainerLog, redactor: Redactor) -> ContainerLog:
    changed = redactor.changes([line.text for line in entry.lines])
    if not changed:
        return entry
    lines = list(entry.lines)
    for index, text in changed.items():
        lines[index] = replace(lines[index], text=text)
    return ContainerLog(entry.pod, entry.container, entry.previous, lines)


def _parts(doc: dict[str, Any], manifest: dict[str, Any], fit: Fit, max_bytes: int, fixed: int) -> dict[str, bytes]:
    truncated = []
    if fit.dropped_lines:
        since = f" (kept from {iso(fit.kept_from)})" if fit.kept_from else ""
        truncated.append({"part": "logs", "dropped_lines": fit.dropped_lines,
                          "note": f"{fit.dropped_lines} oldest log line(s) dropped to stay under the "
                                  f"{max_bytes:,}-byte cap{since}"})
    if fixed > max_bytes:
        truncated.append({"part": "bundle", "dropped_lines": 0,
                          "note": f"even without log lines the bundle needs about {fixed:,} bytes, over the cap"})
    manifest["truncated"] = truncated
    full = {**doc, "logs": log_section(fit.logs)}
    return {SUMMARY: render_summary(full, manifest).encode(), DOCUMENT: encode_document(full)}


def _manifest(collected: Collected, request: BundleRequest, redactor: Redactor) -> dict[str, Any]:
    return {
        "format": "opsbot-support-bundle/1",
        "service": collected.target.service,
        "created_at": iso(collected.until),
        "created_by": redactor.text(request.requester),
        "origin": redactor.text(request.origin) if request.origin else None,
        "window": {"since": iso(collected.since), "until": iso(collected.until),
                   "seconds": int(request.window.total_seconds())},
        "parts": {},
        "truncated": [],
        "redacted": dict(sorted(redactor.counts.items())),
        "redacted_total": sum(redactor.counts.values()),
        "unavailable": [{"part": u.part, "reason": redactor.text(u.reason)} for u in collected.unavailable],
    }


def _summary_line(doc: dict[str, Any], manifest: dict[str, Any]) -> str:
    service, errors = doc["service"], doc["errors"]
    version = service.get("version") or "version unknown"
    revision = f", revision {service['revision']}" if service.get("revision") else ""
    rate = doc["metrics"]["errors"]
    bits = [
        f"{len(errors['groups'])} error signature(s) from {errors['error_lines']} ERROR line(s)",
        f"{len(doc['request_ids'])} request ID(s)",
        f"error rate {rate['error_rate'] * 100:.1f} %" if rate else "no error-rate metrics",
        f"{len(doc['diagnosis']['findings'])} finding(s)" if doc["diagnosis"] else "no findings",
        f"{manifest['redacted_total']} secret(s) redacted",
    ]
    bits += [t["note"] for t in manifest["truncated"]]
    if manifest["unavailable"]:
        bits.append("unavailable: " + ", ".join(u["part"] for u in manifest["unavailable"]))
    return f"Support bundle for {service['name']} {version}{revision}: " + "; ".join(bits) + "."


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
