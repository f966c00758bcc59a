"""The bundle of the sandbox's bad deploy, compiled in-process against the simulated platform over HTTP:
what support asks for is there, no planted credential survives, the manifest checks out, and a source that
fails is recorded as unavailable while the bundle still arrives."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.bundle import Bundle, BundleRequest, compile_bundle
from bot.config import load_ops_config
from bot.sandbox.local_servers import free_port
from bot.sandbox.planted_secrets import PLANTED
from bot.sandbox.runner import Sandbox
from bot.store.approvals import AuditEntry, AuditEvent
from bot.wiring import Deps, build_deps
from tests.bundle.conftest import archive_members, sandbox_settings

ALERT = "[FIRING:1] HighErrorRate auth-service (production critical)\nsample_request_ids: [req-0a1b2c3d]"


def assert_no_planted_secret(bundle: Bundle) -> None:
    members = archive_members(bundle.archive)
    assert set(members) == {"summary.md", "bundle.json", "manifest.json"}
    for name, data in members.items():
        for kind, secret in PLANTED.items():
            assert secret.encode() not in data, f"{kind} survived in {name}"
    assert PLANTED["jwt"] not in bundle.summary_line


def documents(bundle: Bundle) -> tuple[dict[str, Any], dict[str, Any], str]:
    members = archive_members(bundle.archive)
    return json.loads(members["bundle.json"]), json.loads(members["manifest.json"]), members["summary.md"].decode()


async def test_bad_deploy_bundle_holds_what_support_asks_for(leaky_deps: Deps) -> None:
    await leaky_deps.approvals.store.append_audit(
        AuditEntry(actor="U0ALICE01", event=AuditEvent.REFUSED, action="rollback", service="auth-service",
                   detail="viewer may not approve rollback"))
    request = BundleRequest("auth-service", "U0ALICE01", timedelta(hours=1), alert_text=ALERT,
                            origin="slack:C0ALERTS1/1718000000.000100")
    bundle = await compile_bundle(leaky_deps, request)
    assert_no_planted_secret(bundle)
    doc, manifest, summary = documents(bundle)

    service = doc["service"]
    assert service["version"] == "2.5.0" and service["revision"] == 7
    assert service["replicas"]["desired"] == 3 and service["replicas"]["ready"] == 3
    [image] = service["images"]
    assert image["tag"] == "2.5.0" and image["digest"].startswith("sha256:") and len(image["digest"]) == 71
    assert len(image["pods"]) == 3

    history = doc["changes"]["rollout_history"]
    assert [r["revision"] for r in history] == [7, 6, 5]
    assert history[0]["live"] and "switch JWT validation library" in history[0]["change_cause"]
    assert history[1]["images"] == ["registry.example.com/auth-service:2.4.1"]
    [audit] = doc["changes"]["audit"]
    assert audit["event"] == "refused" and audit["action"] == "rollback" and audit["actor"] == "U0ALICE01"

    groups = doc["errors"]["groups"]
    kid = next(g for g in groups if g["signature"].endswith("500 Unhandled exception: KeyError: 'kid'"))
    assert kid["count"] > 10 and kid["has_stack_trace"]
    assert kid["first_seen"] < kid["last_seen"]
    assert kid["example"][-1] == "KeyError: 'kid'" and kid["example"][1].startswith("Traceback")
    assert len(kid["sources"]) == 3
    assert sum(g["count"] for g in groups) == doc["errors"]["error_lines"]

    traced = {r["request_id"]: r for r in doc["request_ids"]}
    assert traced["req-0a1b2c3d"]["sources"] == ["alert"]
    from_metrics = [r for r in doc["request_ids"] if "metrics" in r["sources"]]
    assert from_metrics and all("logs" in r["sources"] for r in from_metrics)
    sample = from_metrics[0]
    assert sample["request_id"] in sample["lines"][0] and sample["status"] >= 400

    metrics = doc["metrics"]
    assert 0.10 < metrics["errors"]["error_rate"] < 0.15
    assert metrics["latency"]["p95_ms"] == 142
    assert metrics["health"]["checks"]["jwks"] == "healthy"
    assert len(metrics["pod_usage"]) == 3

    diagnosis = doc["diagnosis"]
    assert diagnosis["findings"] and diagnosis["likely_cause"]["key"] == "deploy"

    assert manifest["created_by"] == "U0ALICE01" and manifest["window"]["seconds"] == 3600
    assert manifest["unavailable"] == [] and manifest["truncated"] == []
    assert {"password", "api_key", "auth_header", "bearer_token", "jwt", "private_key"} <= set(manifest["redacted"])
    members = archive_members(bundle.archive)
    for name in ("summary.md", "bundle.json"):
        assert manifest["parts"][name]["sha256"] == hashlib.sha256(members[name]).hexdigest()
    for heading in ("Service and version", "Error messages and stack traces", "Request IDs", "Recent changes",
                    "Metrics", "Diagnosis findings"):
        assert heading in summary
    assert "[REDACTED:password]" in json.dumps(doc["logs"])


async def test_a_failing_source_is_recorded_and_the_bundle_still_arrives(
    leaky_sandbox: Sandbox, tmp_path: Path
) -> None:
    dead_metrics = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    deps = build_deps(sandbox_settings(leaky_sandbox, tmp_path / "kubeconfig", dead_metrics), load_ops_config(None))
    await deps.approvals.store.open()
    try:
        bundle = await compile_bundle(deps, BundleRequest("auth-service", "cli:ops", timedelta(hours=1)))
    finally:
        await deps.aclose()
    doc, manifest, summary = documents(bundle)
    parts = {u["part"]: u["reason"] for u in manifest["unavailable"]}
    assert {"metrics: latency", "metrics: errors", "metrics: health"} <= set(parts)
    assert all("metrics API" in parts[p] and "unreachable" in parts[p] for p in ("metrics: latency", "metrics: errors"))
    assert doc["metrics"]["latency"] is None and doc["metrics"]["errors"] is None
    # Kubernetes still answered: version, history, errors and logs are there.
    assert doc["service"]["version"] == "2.5.0" and doc["changes"]["rollout_history"]
    assert doc["errors"]["groups"] and doc["logs"]
    assert "Unavailable: metrics: latency" in summary
    assert "unavailable: metrics: latency" in bundle.summary_line
    assert_no_planted_secret(bundle)


async def test_previous_instances_of_restarted_containers_are_read(tmp_path: Path) -> None:
    with Sandbox("crash-loop") as sandbox:
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        deps = build_deps(sandbox_settings(sandbox, kubeconfig), load_ops_config(None))
        await deps.approvals.store.open()
        try:
            bundle = await compile_bundle(deps, BundleRequest("business-logic", "cli:ops", timedelta(hours=1)))
        finally:
            await deps.aclose()
    doc, manifest, _ = documents(bundle)
    assert all(pod["restarts"] > 0 for pod in doc["service"]["pods"])
    crash = next(g for g in doc["errors"]["groups"] if "Cannot connect to database" in g["signature"])
    assert crash["sources"] and all(source.endswith("(previous)") for source in crash["sources"])
    assert crash["count"] == len(doc["service"]["pods"])
    previous = [entry for entry in doc["logs"] if entry["previous"]]
    assert len(previous) == len(doc["service"]["pods"])
    # "password authentication failed" is an error message, not a password: it stays readable.
    assert 'password authentication failed for user "bl_app"' in crash["example"][0]
    assert manifest["redacted"].get("password", 0) == 0
