from __future__ import annotations

import re

from bot.model import Diagnosis, Finding, Status, Symptom
from bot.render.text import diagnosis_text
from tests.render import TARGET, bad_deploy, flood

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_header_names_service_symptom_status_and_duration() -> None:
    first = diagnosis_text(bad_deploy()).splitlines()[0]
    assert first == "auth-service (default) — high error rate: CRITICAL · 4 checks in 1.2 s"


def test_likely_cause_with_evidence_guide_and_proposal() -> None:
    out = diagnosis_text(bad_deploy(), guide_link=lambda s: f"https://wiki/{s}" if s else None)
    assert "Likely cause: Bug in recent deployment: revision 7 (auth-service:2.5.0) (high, 87 %)" in out
    assert "    - revision 7 (auth-service:2.5.0) rolled out 12 min ago" in out
    assert "    Guide: High Error Rates <https://wiki/High Error Rates>" in out
    proposal = "Proposed: rollback to revision 6 — needs approval"
    assert f"    {proposal} (roll back to revision 6 (auth-service:2.4.1))" in out
    assert "Also possible: Upstream timeouts (low, 32 %)" in out


def test_findings_with_tags_facts_and_indented_evidence() -> None:
    out = diagnosis_text(bad_deploy())
    tags = re.findall(r"^(\[[A-Z ]+\]) (.+?) — ", out, re.M)
    assert tags == [
        ("[CRIT]", "Error rate"),
        ("[CRIT]", "Recent error logs"),
        ("[WARN]", "Recent deployments"),
        ("[ OK ]", "Dependency health"),
    ]
    assert "    error rate: 12.1 % (threshold 5.0 %) [CRIT]" in out
    assert "    revision: 7" in out
    assert "    |   File \"/app/auth/views.py\", line 88, in login" in out
    # A multi-line excerpt is set off from the next one.
    assert "    |   hint: ping <@U0000BAD> & <!channel>\n    |\n    | 17x on 1 pod(s)" in out
    # A terminal shows the raw log, not Slack's escaping or markup.
    assert "if user.tier < limits.max_tier & flags.strict:" in out
    assert "&lt;" not in out and ":red_circle:" not in out and "*Error rate*" not in out


def test_error_and_no_data_tags() -> None:
    findings = (
        Finding("a", "Broken source", Status.ERROR, "metrics API unreachable"),
        Finding("b", "Silent", Status.NO_DATA, "No requests in the window."),
    )
    out = diagnosis_text(Diagnosis(TARGET, Symptom.UNKNOWN, findings, (), None, 80.0))
    assert "[ERR ] Broken source — metrics API unreachable" in out
    assert "[NODATA] Silent — No requests in the window." in out
    assert "Likely cause: none stood out" in out
    assert "in 80 ms" in out


def test_colour_is_optional_and_only_decorates() -> None:
    plain = diagnosis_text(bad_deploy())
    coloured = diagnosis_text(bad_deploy(), color=True)
    assert "\x1b[" not in plain
    assert "\x1b[31m[CRIT]\x1b[0m" in coloured
    assert ANSI.sub("", coloured) == plain


def test_control_characters_from_logs_cannot_drive_the_terminal() -> None:
    finding = Finding("logs", "Logs", Status.WARN, "s", evidence=("evil \x1b[2J\x1b]0;pwned\x07 line\rover",))
    out = diagnosis_text(Diagnosis(TARGET, Symptom.UNKNOWN, (finding,), (), None, 1.0))
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out
    assert "evil ?[2J?]0;pwned? line?over" in out


def test_terminal_output_keeps_everything() -> None:
    out = diagnosis_text(flood(findings=3, evidence=4, evidence_chars=300, facts=12))
    assert out.count("<script>finding 2</script>") == 4
    assert "fact 11: value 11 <11> (threshold 1)" in out
