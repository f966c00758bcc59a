"""Whatever arrives — arbitrary Unicode, 40,000-character pastes, malformed attachments and blocks —
triage answers with a result and never raises."""

from __future__ import annotations

import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import load_ops_config
from bot.model import Symptom
from bot.triage import triage_event

CONFIG = load_ops_config(None)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=200),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)
KEYS = st.sampled_from(["text", "title", "fallback", "fields", "blocks", "attachments", "elements", "value",
                        "type", "color", "footer", "pretext", "subtype", "bot_id", "thread_ts", "message"])
MESSY = st.dictionaries(KEYS, JSON, max_size=8)


def _check(event: dict[str, Any]) -> None:
    result = triage_event(event, CONFIG)
    out = result.to_json()
    assert isinstance(out["triage"], bool)
    assert Symptom(out["symptom"])
    assert out["service"] is None or out["service"] in CONFIG.services
    assert all(s in CONFIG.services for s in out["services"])


@given(st.text())
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_any_unicode_text(text: str) -> None:
    _check({"type": "message", "user": "U1", "text": text, "ts": "1.1"})


@given(MESSY)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_malformed_messages_of_any_shape(message: dict[str, Any]) -> None:
    _check({"type": "message", **message})
    _check({"type": "message", "subtype": "bot_message", "bot_id": "B1", **message})
    _check({"type": "message", "subtype": "message_changed", "message": message})


def test_a_40000_character_paste_is_handled_quickly() -> None:
    line = "2026-11-28T10:07:12Z ERROR [auth-service] request_id=req-8f2c1a9e POST /auth/validate 500 boom "
    text = (line * (40_000 // len(line) + 1))[:40_000]
    started = time.perf_counter()
    result = triage_event({"type": "message", "user": "U1", "text": f"```{text}```", "ts": "1.1"}, CONFIG)
    elapsed = time.perf_counter() - started
    assert result.triage and result.service == "auth-service" and result.request_ids == ("req-8f2c1a9e",)
    assert elapsed < 5  # a generous bound: catastrophic regex backtracking would take minutes
    huge = {"type": "message", "subtype": "bot_message", "bot_id": "B1", "text": "",
            "attachments": [{"title": "[FIRING:1] X", "text": "a" * 40_000, "fields": [{"title": "t"}] * 500}] * 60}
    _check(huge)
