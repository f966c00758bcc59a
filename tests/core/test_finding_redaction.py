"""Credentials a service prints into its logs never reach a finding: not in the text, JSON or Block Kit output."""

import json
from datetime import UTC, datetime
from pathlib import Path

from bot.checks.base import CheckContext
from bot.checks.crash_logs import Crash, CrashLogsCheck
from bot.config import DiagnosisConfig, Settings, Thresholds, load_ops_config
from bot.model import Diagnosis, Symptom, Target
from bot.render.blocks import diagnosis_messages
from bot.render.jsonout import diagnosis_json
from bot.render.text import diagnosis_text
from bot.sandbox import planted_secrets
from bot.sandbox.runner import Sandbox
from bot.sources.records import ContainerState, PodInfo
from bot.wiring import build_deps

SECRETS = tuple(planted_secrets.PLANTED.values())
# An expired-token rejection that dumps the token, and a refused connection that prints its DSN.
JWT_LINE = ("WARN [auth-service] 401 token rejected: token expired (exp in the past) "
            f"token={planted_secrets.PLANTED['jwt']}")
REFUSED_LINE = ("ERROR [auth-service] FATAL: sorry, too many clients already "
                f"dsn=postgresql://auth_svc:{planted_secrets.PLANTED['db_password']}@user-db:5432/auth")


def _stamp(text: str) -> str:
    return f"{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')} {text}"


def _leaky_lines() -> list[str]:
    """The planted failed request (headers dumped, traceback with a token) repeated so it is the top error
    group, the start-up lines, and the two lines above: all inside the tail the checks read."""
    failed = [_stamp(f"ERROR [auth-service] request_id=req-{k:04d} POST /login 500 {planted_secrets.ERROR_MESSAGE}")
              for k in range(150)]
    lines: list[str] = [_stamp(f"INFO [auth-service] {line}") for line in planted_secrets.STARTUP_LINES]
    for line in failed:
        lines += [line, *planted_secrets.TRACEBACK]
    return lines + [_stamp(JWT_LINE)] * 60 + [_stamp(REFUSED_LINE)] * 5


def _rendered(diag: Diagnosis) -> str:
    blocks = diagnosis_messages(diag, guide_link=lambda section: None)
    return "\n".join([diagnosis_text(diag), json.dumps(diagnosis_json(diag)), json.dumps(blocks)])


async def test_planted_credentials_in_the_log_tail_never_reach_a_rendered_finding(tmp_path: Path) -> None:
    with Sandbox("bad-deploy") as sandbox:
        for pod in sandbox.cluster.list("Pod", "default", "app=auth-service"):
            sandbox.cluster.append_logs("default", pod["metadata"]["name"], "auth-service", _leaky_lines())
        settings = Settings(_env_file=None, kubeconfig=str(sandbox.write_kubeconfig(tmp_path / "kubeconfig")),
                            metrics_api_url=sandbox.metrics_url, redis_url=None, database_url=None,
                            opsbot_config=None)
        deps = build_deps(settings, load_ops_config(None))
        try:
            diagnoses = {symptom: await deps.diagnose("auth-service", symptom)
                         for symptom in (Symptom.HIGH_ERROR_RATE, Symptom.INVALID_JWT,
                                         Symptom.DB_CONNECTION_EXHAUSTION)}
        finally:
            await deps.aclose()
    for symptom, diag in diagnoses.items():
        out = _rendered(diag)
        leaked = [s for s in SECRETS if s in out]
        assert not leaked, (symptom, leaked)
    # The leaky lines did reach the findings, redacted: the test would catch a leak.
    evidence = {f.check: "\n".join(f.evidence) for d in diagnoses.values() for f in d.findings}
    assert "[REDACTED:auth_header]" in evidence["error_logs"]
    assert "[REDACTED:bearer_token]" in evidence["error_logs"]  # the traceback's line, shown under the group
    assert "[REDACTED:jwt]" in evidence["jwt_reasons"]
    assert "[REDACTED:password]" in evidence["too_many_clients"]


def test_a_crashed_containers_last_lines_are_redacted() -> None:
    now = datetime.now(UTC)
    state = ContainerState(name="auth-service", ready=False, restart_count=4, waiting_reason="CrashLoopBackOff",
                           last_terminated_reason="Error", last_exit_code=1, last_finished_at=now)
    pod = PodInfo(name="auth-service-1", phase="Running", ready=False, created=now, images=(), containers=(state,))
    lines = (f"ERROR connect failed: postgresql://auth_svc:{planted_secrets.PLANTED['db_password']}@db:5432/auth",
             "ERROR could not connect to server: Connection refused")
    ctx = CheckContext(Target("auth-service", "default", "app=auth-service", "auth-service"), Thresholds(),
                       DiagnosisConfig(), (), now)
    finding = CrashLogsCheck().assess((Crash(pod, state, lines),), ctx)
    text = "\n".join([*finding.evidence, *(e for c in finding.causes for e in c.evidence)])
    assert planted_secrets.PLANTED["db_password"] not in text
    assert "[REDACTED:password]" in text
