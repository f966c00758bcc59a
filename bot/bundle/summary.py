"""`summary.md`: the bundle for a human reader, in the order of the guide's "Getting Help" list.

Rendered from the already-redacted document, so it can hold nothing the JSON does not. Log excerpts sit in
`~~~~` fences (log lines may contain backticks); the JSON keeps everything the summary shortens.
"""

from __future__ import annotations

from typing import Any

SUMMARY_GROUPS = 10
SUMMARY_REQUESTS = 10
SUMMARY_REQUEST_LINES = 8
FENCE = "~~~~"


def render_summary(doc: dict[str, Any], manifest: dict[str, Any]) -> str:
    parts = [
        _head(doc, manifest),
        _service(doc["service"]),
        _errors(doc["errors"]),
        _requests(doc["request_ids"], doc["request_ids_left_out"]),
        _changes(doc["changes"]),
        _metrics(doc["metrics"]),
        _diagnosis(doc["diagnosis"]),
        _bookkeeping(doc, manifest),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def _head(doc: dict[str, Any], manifest: dict[str, Any]) -> str:
    window = manifest["window"]
    return "\n".join([
        f"# Support bundle: {doc['service']['name']}",
        "",
        f"- Compiled {manifest['created_at']} by {manifest['created_by']}"
        + (f" ({manifest['origin']})" if manifest.get("origin") else ""),
        f"- Window: {window['since']} to {window['until']}",
        "- Machine-readable: `bundle.json`; checksums, truncation and redaction counts: `manifest.json`",
    ])


def _service(service: dict[str, Any]) -> str:
    replicas = service.get("replicas")
    lines = [
        "## 1. Service and version",
        "",
        f"- Service: {service['name']} (namespace {service['namespace']}, deployment {service['deployment']})",
        f"- Version: {service.get('version') or 'unknown'}; revision {service.get('revision') or 'unknown'}",
    ]
    if replicas:
        lines.append(f"- Replicas: {replicas['ready']}/{replicas['desired']} ready, {replicas['updated']} updated")
    for image in service["images"]:
        lines.append(f"- Image ({image['container']}): {image['image']} — tag {image['tag'] or 'none'}, "
                     f"digest {image['digest'] or 'unknown'} — on {len(image['pods'])} pod(s)")
    for pod in service["pods"]:
        lines.append(f"  - {pod['name']}: {pod['phase']}, {'ready' if pod['ready'] else 'NOT ready'}, "
                     f"{pod['restarts']} restart(s)")
    return "\n".join(lines)


def _errors(errors: dict[str, Any]) -> str:
    lines = [
        "## 2. Error messages and stack traces",
        "",
        f"{errors['error_lines']} ERROR line(s) in {errors['lines_scanned']} log lines, "
        f"{len(errors['groups'])} distinct signature(s), most frequent first.",
    ]
    for n, group in enumerate(errors["groups"][:SUMMARY_GROUPS], start=1):
        lines += [
            "",
            f"### {n}. {group['count']}× {group['signature']}",
            f"First seen {group['first_seen']}, last seen {group['last_seen']}, in {', '.join(group['sources'])}.",
            FENCE, *group["example"], FENCE,
        ]
    more = len(errors["groups"]) - SUMMARY_GROUPS + errors["groups_left_out"]
    if more > 0:
        lines += ["", f"{more} more signature(s) in bundle.json."]
    return "\n".join(lines)


def _requests(requests: list[dict[str, Any]], left_out: int) -> str:
    lines = ["## 3. Request IDs of failed requests", ""]
    if not requests:
        lines.append("No failed request carried a request ID in the window.")
    for request in requests[:SUMMARY_REQUESTS]:
        what = " ".join(str(x) for x in (request["status"], request["endpoint"], request["message"]) if x)
        lines.append(f"- `{request['request_id']}` (from {', '.join(request['sources']) or 'nowhere'})"
                     + (f": {what}" if what else ""))
        shown = request["lines"][:SUMMARY_REQUEST_LINES]
        if shown:
            lines += [FENCE, *shown, FENCE]
    more = len(requests) - SUMMARY_REQUESTS + left_out
    if more > 0:
        lines.append(f"\n{more} more request ID(s) in bundle.json.")
    return "\n".join(lines)


def _changes(changes: dict[str, Any]) -> str:
    lines = ["## 4. Recent changes and deployments", "", "Rollout history (newest first):"]
    for rev in changes["rollout_history"]:
        live = " (live)" if rev["live"] else ""
        lines.append(f"- revision {rev['revision']}{live}: {', '.join(rev['images'])} — "
                     f"{rev['change_cause'] or 'no change-cause'} — {rev['created']}")
    lines += ["", "Actions opsbot executed or refused in the window:"]
    lines += [f"- {a['at']} {a['event']} {a['action']} by {a['actor']}" + (f": {a['detail']}" if a["detail"] else "")
              for a in changes["audit"]] or ["- none"]
    warnings = [e for e in changes["events"] if e["type"] == "Warning"]
    if warnings:
        lines += ["", "Warning events:"]
        lines += [f"- {e['last_seen']} {e['reason']} {e['object']} (×{e['count']}): {e['message']}" for e in warnings]
    return "\n".join(lines)


def _metrics(metrics: dict[str, Any]) -> str:
    lines = ["## 5. Metrics", ""]
    latency, errors, health = metrics["latency"], metrics["errors"], metrics["health"]
    if latency:
        lines.append(f"- Latency over {latency['period']}: p50 {latency['p50_ms']:g} ms, p95 {latency['p95_ms']:g} ms, "
                     f"p99 {latency['p99_ms']:g} ms ({latency['requests']} requests)")
    if errors:
        statuses = ", ".join(f"{k}: {v}" for k, v in errors["by_status"].items())
        lines.append(f"- Error rate over {errors['period']}: {errors['error_rate'] * 100:.2f} % "
                     f"({errors['errors']} of {errors['requests']}; {statuses})")
    if health:
        checks = ", ".join(f"{k} {v}" for k, v in {**health["checks"], **health["dependencies"]}.items())
        lines.append(f"- Health: {health['status']} ({checks}); circuit breaker {health['circuit_breaker'] or 'n/a'}")
    for usage in metrics["pod_usage"]:
        lines.append(f"- {usage['pod']}: CPU {usage['cpu_cores'] * 1000:.0f}m, "
                     f"memory {usage['memory_bytes'] / 2**20:.0f} Mi")
    if len(lines) == 2:
        lines.append("No metrics could be read (see Unavailable below).")
    return "\n".join(lines)


def _diagnosis(diagnosis: dict[str, Any] | None) -> str:
    if diagnosis is None:
        return "## Diagnosis\n\nNo diagnosis findings."
    likely = diagnosis["likely_cause"]
    lines = [
        "## Diagnosis findings",
        "",
        f"Symptom {diagnosis['symptom']}: {diagnosis['status']}."
        + (f" Likely cause: {likely['title']} ({round(likely['confidence'] * 100)} %)." if likely else ""),
    ]
    lines += [f"- [{f['status']}] {f['title']}: {f['summary']}" for f in diagnosis["findings"]]
    return "\n".join(lines)


def _bookkeeping(doc: dict[str, Any], manifest: dict[str, Any]) -> str:
    lines = ["## About this bundle", ""]
    lines += [f"- Unavailable: {u['part']} — {u['reason']}" for u in doc["unavailable"]]
    lines += [f"- Truncated: {t['part']} — {t['note']}" for t in manifest["truncated"]]
    redacted = manifest["redacted"]
    lines.append("- Redacted: " + (", ".join(f"{k} ×{v}" for k, v in sorted(redacted.items())) or "nothing"))
    return "\n".join(lines)
