from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.model import Cause, Diagnosis, Fact, Finding, Proposal, Status, Symptom
from bot.render.blocks import (
    SlackMessage,
    diagnosis_messages,
    error_message,
    root_done_message,
    root_message,
)
from bot.render.limits import MAX_BLOCKS, BlockLimitError, check_blocks, check_message, escape_mrkdwn
from tests.render import DEPLOY, ROLLBACK, TARGET, bad_deploy, flood

GUIDE = "https://wiki.example.com/guide"


def guide_link(section: str | None) -> str | None:
    return f"{GUIDE}#{section.lower().replace(' ', '-')}" if section else None


def no_link(section: str | None) -> str | None:
    return None


def texts(message: SlackMessage) -> Iterator[str]:
    """Every string Slack will render from a message, fallback included."""
    yield message["text"]
    for block in message["blocks"]:
        for key in ("text",):
            if isinstance(block.get(key), dict):
                yield block[key]["text"]
        for item in block.get("fields", []) + block.get("elements", []):
            if isinstance(item.get("text"), dict):
                yield item["text"]["text"]
            elif isinstance(item.get("text"), str):
                yield item["text"]


def everything(messages: list[SlackMessage]) -> str:
    return "\n".join(t for m in messages for t in texts(m))


def assert_valid(messages: list[SlackMessage]) -> None:
    for message in messages:
        assert check_message(message) == []
        assert check_blocks(message["blocks"]) == []
        assert len(message["blocks"]) <= MAX_BLOCKS
        ids = [b["block_id"] for b in message["blocks"]]
        assert len(ids) == len(set(ids)), ids
        # An independent opinion: slack_sdk's own validators (test-only; the renderer never imports Slack).
        for block in message["blocks"]:
            parsed = Block.parse(block)
            assert parsed is not None
            parsed.validate_json()
        json.dumps(message)


def assert_no_raw_markup(messages: list[SlackMessage]) -> None:
    text = everything(messages)
    assert "<script>" not in text
    assert "<@U0000BAD>" not in text and "<!channel>" not in text
    # Every `<` left is a link or mention the renderer made on purpose.
    for match in re.finditer(r"<([^>]*)>", text):
        assert match.group(1).startswith((GUIDE, "@U")), match.group(0)


# -- the realistic bad deploy -------------------------------------------------------------------------------


@pytest.fixture
def bad() -> list[SlackMessage]:
    return diagnosis_messages(bad_deploy(), guide_link=guide_link)


def test_bad_deploy_fits_one_valid_message(bad: list[SlackMessage]) -> None:
    assert len(bad) == 1
    assert_valid(bad)


def test_verdict_comes_first_with_ranked_causes(bad: list[SlackMessage]) -> None:
    blocks = bad[0]["blocks"]
    assert blocks[0]["type"] == "header"
    assert "auth-service" in blocks[0]["text"]["text"]
    body = everything(bad)
    first = body.index("1. Bug in recent deployment: revision 7")
    second = body.index("2. Upstream timeouts")
    assert first < second < body.index("Recent error logs")
    assert "high, 87 %" in body and "low, 32 %" in body
    assert "Likely cause:* Bug in recent deployment" in body


def test_cause_evidence_guide_and_proposal(bad: list[SlackMessage]) -> None:
    cause = next(b for b in bad[0]["blocks"] if b["block_id"] == "cause-1")["text"]["text"]
    assert "• revision 7 (auth-service:2.5.0) rolled out 12 min ago" in cause
    assert "• change-cause: deploy 2.5.0 &lt;fast-track&gt; &amp; skip canary" in cause
    assert f":book: Guide: <{GUIDE}#high-error-rates|High Error Rates>" in cause
    assert "Proposed: rollback to revision 6 — needs approval" in cause


def test_guide_is_named_when_there_is_no_link() -> None:
    messages = diagnosis_messages(bad_deploy(), guide_link=no_link)
    assert_valid(messages)
    body = everything(messages)
    assert "Guide: _High Error Rates_" in body
    assert "<http" not in body


def test_findings_worst_first_with_facts_as_fields(bad: list[SlackMessage]) -> None:
    heads = [b for b in bad[0]["blocks"] if re.fullmatch(r"finding-\d+", b["block_id"])]
    titles = [re.search(r"\*(.+?)\*", b["text"]["text"]).group(1) for b in heads]  # type: ignore[union-attr]
    assert titles == ["Error rate", "Recent error logs", "Recent deployments", "Dependency health"]
    assert heads[0]["text"]["text"].startswith(":red_circle: *Error rate* — critical")
    assert heads[2]["text"]["text"].startswith(":large_orange_circle:")
    assert heads[3]["text"]["text"].startswith(":large_green_circle:")
    fields = [f["text"] for f in heads[0]["fields"]]
    assert fields[0] == ":red_circle: *error rate:* 12.1 % (threshold 5.0 %)"
    assert "*requests:* 10,000 in 5m" in fields


def test_traceback_is_an_escaped_code_block(bad: list[SlackMessage]) -> None:
    evidence = next(b for b in bad[0]["blocks"] if b["block_id"] == "finding-2-evidence-1")["text"]["text"]
    assert evidence.startswith("```\n412x on 3 pod(s)")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in evidence
    assert "if user.tier &lt; limits.max_tier &amp; flags.strict:" in evidence
    assert "TypeError: '&lt;' not supported" in evidence
    # The log's own ``` must not close the code block early: only the renderer's fences remain.
    assert evidence.count("```") == 2
    assert "see `\u200b`\u200b`docs`\u200b`\u200b`" in evidence
    # Both excerpts share one code block; the multi-line traceback is set off by a blank line.
    assert "&lt;!channel&gt;\n\n17x on 1 pod(s)" in evidence


def test_single_line_excerpts_share_a_code_block(bad: list[SlackMessage]) -> None:
    evidence = next(b for b in bad[0]["blocks"] if b["block_id"] == "finding-1-evidence-1")["text"]["text"]
    assert evidence == (
        "```\nby status: 500: 1,180, 503: 30, 401: 37\n/login: 1,100 errors of 4,000 (27.5 %)\n```"
    )


def test_nothing_dynamic_is_left_unescaped(bad: list[SlackMessage]) -> None:
    assert_no_raw_markup(bad)


def test_fallback_text_names_service_and_likely_cause(bad: list[SlackMessage]) -> None:
    assert bad[0]["text"].startswith("auth-service — high error rate: critical, likely cause: Bug in recent")


def test_no_omission_note_when_nothing_was_left_out(bad: list[SlackMessage]) -> None:
    assert "omitted" not in everything(bad)


# -- the pathological flood ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flooded() -> list[SlackMessage]:
    return diagnosis_messages(flood(), guide_link=guide_link)


def test_flood_splits_into_valid_messages(flooded: list[SlackMessage]) -> None:
    assert 1 < len(flooded) <= 10
    assert_valid(flooded)


def test_flood_drops_no_finding(flooded: list[SlackMessage]) -> None:
    body = everything(flooded)
    for n in range(40):
        assert f"*Check number {n}*" in body
        assert "*fact 11:* value 11 &lt;11&gt;" in body  # all 12 facts shown (10 fields + 2 more)
    for n in range(40):
        assert f"Cause {n}*" in body


def test_flood_states_what_was_omitted_in_the_last_message(flooded: list[SlackMessage]) -> None:
    last = everything([flooded[-1]])
    # 15 of 20 excerpts hidden per finding, 3 of 8 bullets per cause, 40 of each.
    assert f"{40 * 15 + 40 * 3:,} evidence lines omitted" in last
    assert "200 long excerpts shortened" in last
    assert "opsbot diagnose auth-service high_error_rate --json" in last
    assert "15 more evidence lines not shown" in everything(flooded)


def test_flood_excerpts_are_cut_with_a_count(flooded: list[SlackMessage]) -> None:
    body = everything(flooded)
    assert re.search(r"… \(\d,\d{3} more characters\)\n```", body)
    assert_no_raw_markup(flooded)


def test_flood_messages_are_numbered_in_fallback(flooded: list[SlackMessage]) -> None:
    assert flooded[1]["text"] == f"auth-service — high error rate: findings, part 2 of {len(flooded)}"


def test_huge_single_finding_is_split_not_rejected() -> None:
    many = Finding("c", "Lots of facts", Status.WARN, "s", facts=tuple(Fact(f"f{n}", "v") for n in range(20)))
    diag = Diagnosis(TARGET, Symptom.UNKNOWN, (many,) * 30, (), None, 1.0)
    messages = diagnosis_messages(diag, guide_link=no_link)
    assert_valid(messages)
    assert everything(messages).count("*Lots of facts*") == 30


def test_facts_beyond_the_budget_are_counted() -> None:
    many = Finding("c", "Fact heavy", Status.WARN, "s", facts=tuple(Fact(f"f{n}", "v") for n in range(27)))
    diag = Diagnosis(TARGET, Symptom.UNKNOWN, (many,), (), None, 1.0)
    messages = diagnosis_messages(diag, guide_link=no_link)
    assert_valid(messages)
    body = everything(messages)
    assert "*f19:* v" in body and "*f20:* v" not in body
    assert "7 more facts not shown" in body
    assert "7 facts omitted" in everything([messages[-1]])


def test_a_unit_bigger_than_a_message_continues_in_the_next() -> None:
    proposals = tuple(Proposal("scale", {"replicas": str(n)}) for n in range(60 * 25))
    cause = Cause("capacity", "Not enough replicas", 0.8, (), None, proposals)
    diag = Diagnosis(TARGET, Symptom.HIGH_LATENCY, bad_deploy().findings, (cause,), None, 5.0)
    messages = diagnosis_messages(diag, guide_link=no_link, proposal_buttons=approve_button)
    assert_valid(messages)
    buttons = [e for m in messages for b in m["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert len(buttons) == 60 * 25
    assert "Dependency health" in everything(messages)


def test_many_causes_spill_over_but_stay_valid() -> None:
    causes = tuple(Cause(f"k{n}", f"Cause <{n}>", 0.5, ("e" * 400,) * 9, "S") for n in range(60))
    diag = Diagnosis(TARGET, Symptom.TIMEOUT, (), causes, None, 1.0)
    messages = diagnosis_messages(diag, guide_link=guide_link)
    assert_valid(messages)
    assert len(messages) == 2
    assert "60. Cause &lt;59&gt;" in everything(messages)
    assert f"{60 * 4} evidence lines omitted" in everything([messages[-1]])


def test_empty_diagnosis_still_renders() -> None:
    diag = Diagnosis(TARGET, Symptom.UNKNOWN, (), (), None, 0.0)
    messages = diagnosis_messages(diag, guide_link=no_link)
    assert_valid(messages)
    assert "No likely cause stood out" in everything(messages)


# -- the proposal-button seam -------------------------------------------------------------------------------


def approve_button(proposal: Proposal) -> dict[str, Any] | None:
    if proposal.action == "skip":
        return None
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": f"Approve {proposal.label}"[:75]},
        "action_id": f"approve-{proposal.label}"[:255],
        "value": "req-123",
        "style": "danger",
    }


def test_buttons_render_under_their_cause_in_blocks_of_25() -> None:
    proposals = (*tuple(Proposal("scale", {"replicas": str(n)}) for n in range(30)), Proposal("skip"))
    cause = Cause("capacity", "Not enough replicas", 0.8, (), "High Latency", proposals)
    diag = Diagnosis(TARGET, Symptom.HIGH_LATENCY, bad_deploy().findings, (cause, DEPLOY), None, 5.0)
    messages = diagnosis_messages(diag, guide_link=guide_link, proposal_buttons=approve_button)
    assert_valid(messages)
    ids = [b["block_id"] for b in messages[0]["blocks"]]
    at = ids.index("cause-1")
    assert ids[at + 1: at + 3] == ["cause-1-actions-1", "cause-1-actions-2"]
    actions = [b for b in messages[0]["blocks"] if b["type"] == "actions"]
    assert [len(a["elements"]) for a in actions] == [25, 5, 1]
    assert actions[2]["block_id"] == "cause-2-actions-1"
    assert actions[2]["elements"][0]["action_id"] == f"approve-{ROLLBACK.label}"


def test_without_the_seam_proposals_are_text_only(bad: list[SlackMessage]) -> None:
    assert not [b for b in bad[0]["blocks"] if b["type"] == "actions"]


def test_an_invalid_button_fails_loudly_in_the_renderer() -> None:
    def too_long(proposal: Proposal) -> dict[str, Any]:
        return {"type": "button", "text": {"type": "plain_text", "text": "x" * 80}, "action_id": "a"}

    with pytest.raises(BlockLimitError, match=r"text is 80 characters, max 75"):
        diagnosis_messages(bad_deploy(), guide_link=no_link, proposal_buttons=too_long)


# -- root and error messages --------------------------------------------------------------------------------


def test_root_message_names_service_symptom_and_requester() -> None:
    message = root_message(TARGET, Symptom.HIGH_ERROR_RATE, "U012AB3CD")
    assert_valid([message])
    assert message["blocks"][0]["text"]["text"] == (
        ":mag: Diagnosing *auth-service* — high error rate (asked by <@U012AB3CD>)"
    )
    assert message["text"] == message["blocks"][0]["text"]["text"]


def test_root_message_without_requester_and_with_a_hostile_one() -> None:
    assert "asked by" not in root_message(TARGET, Symptom.TIMEOUT, None)["text"]
    hostile = root_message(TARGET, Symptom.TIMEOUT, "<!channel> & co")
    assert_valid([hostile])
    assert "<!channel>" not in everything([hostile])
    assert "&lt;!channel&gt; &amp; co" in hostile["text"]


def test_root_done_message_has_headline_cause_and_new_block_ids() -> None:
    done = root_done_message(bad_deploy(), "U012AB3CD")
    assert_valid([done])
    headline = done["blocks"][0]["text"]["text"]
    assert headline.startswith(":red_circle: *auth-service* — high error rate: *critical*")
    assert "Likely cause: *Bug in recent deployment: revision 7 (auth-service:2.5.0)* (high, 87 %)" in (
        headline
    )
    before = {b["block_id"] for b in root_message(TARGET, Symptom.HIGH_ERROR_RATE, None)["blocks"]}
    assert before.isdisjoint(b["block_id"] for b in done["blocks"])


def test_root_done_message_without_cause() -> None:
    ok = Diagnosis(TARGET, Symptom.HIGH_LATENCY, (bad_deploy().findings[3],), (), None, 10.0)
    done = root_done_message(ok, None)
    assert_valid([done])
    assert done["blocks"][0]["text"]["text"].startswith(":large_green_circle:")
    assert "No likely cause stood out." in done["text"]


def test_error_message_is_escaped_and_bounded() -> None:
    message = error_message("unknown service <@U1> & " + "z" * 10_000)
    assert_valid([message])
    assert message["blocks"][0]["text"]["text"].startswith(":warning: unknown service &lt;@U1&gt; &amp; zzz")
    assert "more characters)" in message["text"]


# -- any diagnosis at all -----------------------------------------------------------------------------------

texts_st = st.text(max_size=300)
facts_st = st.builds(Fact, texts_st, texts_st, st.none() | texts_st, st.sampled_from(Status))
proposals_st = st.builds(Proposal, st.text(min_size=1, max_size=30), st.dictionaries(texts_st, texts_st, max_size=3),
                         texts_st)
causes_st = st.builds(Cause, texts_st, texts_st, st.floats(0, 1), st.lists(texts_st, max_size=8).map(tuple),
                      st.none() | texts_st, st.lists(proposals_st, max_size=3).map(tuple))
findings_st = st.builds(
    Finding, texts_st, texts_st, st.sampled_from(Status), st.text(max_size=4000),
    facts=st.lists(facts_st, max_size=25).map(tuple),
    evidence=st.lists(st.text(max_size=3000), max_size=8).map(tuple),
    causes=st.lists(causes_st, max_size=2).map(tuple),
    guide_section=st.none() | texts_st,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(findings_st, max_size=25), st.lists(causes_st, max_size=12), st.booleans())
def test_any_diagnosis_renders_valid_messages_without_losing_a_finding(
    findings: list[Finding], causes: list[Cause], linked: bool
) -> None:
    diag = Diagnosis(TARGET, Symptom.UNKNOWN, tuple(findings), tuple(causes), None, 1.0)
    messages = diagnosis_messages(diag, guide_link=guide_link if linked else no_link,
                                  proposal_buttons=approve_button)
    assert_valid(messages)
    heads = [b for m in messages for b in m["blocks"] if re.fullmatch(r"finding-\d+", b["block_id"])]
    assert len(heads) == len(findings)
    for finding in findings:
        assert escape_mrkdwn(finding.title[:20]) in everything(messages)


def test_buttons_sharing_an_action_id_go_to_separate_blocks() -> None:
    def same_id(proposal: Proposal) -> dict[str, Any]:
        text = {"type": "plain_text", "text": proposal.label}
        return {"type": "button", "text": text, "action_id": "approve", "value": proposal.label}

    proposals = (ROLLBACK, Proposal("restart"), Proposal("scale", {"replicas": "4"}))
    diag = Diagnosis(TARGET, Symptom.HIGH_ERROR_RATE, (), (Cause("k", "t", 0.5, proposals=proposals),), None, 1.0)
    messages = diagnosis_messages(diag, guide_link=no_link, proposal_buttons=same_id)
    assert_valid(messages)
    actions = [b for b in messages[0]["blocks"] if b["type"] == "actions"]
    assert [[e["value"] for e in a["elements"]] for a in actions] == [[p.label] for p in proposals]
    assert {e["action_id"] for a in actions for e in a["elements"]} == {"approve"}
