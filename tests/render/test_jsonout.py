from __future__ import annotations

import json

from bot.model import Diagnosis, Symptom
from bot.render.jsonout import diagnosis_json
from tests.render import TARGET, bad_deploy, flood

CAUSE_KEYS = {"key", "title", "confidence", "evidence", "guide_section", "proposals"}
FINDING_KEYS = {
    "check", "title", "status", "summary", "facts", "evidence", "causes", "guide_section", "duration_ms",
}
TOP_KEYS = {"service", "namespace", "symptom", "status", "duration_ms", "likely_cause", "causes", "findings"}


def roundtrip(diag: Diagnosis) -> dict[str, object]:
    out = diagnosis_json(diag)
    again = json.loads(json.dumps(out))
    assert again == out
    return again  # type: ignore[no-any-return]


def test_top_level_keys_and_values() -> None:
    out = roundtrip(bad_deploy())
    assert set(out) >= TOP_KEYS
    assert out["service"] == "auth-service"
    assert out["namespace"] == "default"
    assert out["symptom"] == "high_error_rate"
    assert out["status"] == "crit"
    assert out["duration_ms"] == 1234.0


def test_causes_and_proposals() -> None:
    out = diagnosis_json(bad_deploy())
    assert out["likely_cause"] == out["causes"][0]
    deploy = out["causes"][0]
    assert set(deploy) == CAUSE_KEYS
    assert deploy["key"] == "deploy"
    assert deploy["confidence"] == 0.87
    assert deploy["proposals"] == [
        {"action": "rollback", "params": {"to_revision": "6"},
         "reason": "roll back to revision 6 (auth-service:2.4.1)"},
    ]


def test_findings_keep_facts_and_full_evidence() -> None:
    out = diagnosis_json(bad_deploy())
    findings = out["findings"]
    assert all(set(f) == FINDING_KEYS for f in findings)
    rate = findings[0]
    assert rate["status"] == "crit"
    assert rate["facts"][0] == {
        "label": "error rate", "value": "12.1 %", "threshold": "5.0 %", "status": "crit",
    }
    logs = findings[1]
    assert "<script>alert(1)</script>" in logs["evidence"][0]  # JSON is raw: escaping is a Slack concern
    assert [c["key"] for c in logs["causes"]] == ["timeout"]
    assert findings[2]["causes"][0]["proposals"][0]["action"] == "rollback"


def test_no_cause_is_null() -> None:
    out = roundtrip(Diagnosis(TARGET, Symptom.UNKNOWN, (), (), None, 0.0))
    assert out["likely_cause"] is None
    assert out["causes"] == [] and out["findings"] == []
    assert out["status"] == "no_data"


def test_nothing_is_shortened() -> None:
    out = diagnosis_json(flood(findings=2, evidence=20, evidence_chars=5000))
    assert len(out["findings"][0]["evidence"]) == 20
    assert len(out["findings"][0]["evidence"][0]) == 5000
