from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.render.limits import (
    FALLBACK_TEXT,
    check_blocks,
    check_message,
    escape_mrkdwn,
    truncate,
    truncate_mrkdwn,
)

ENTITY = re.compile(r"&(amp|lt|gt);")


# -- truncate -----------------------------------------------------------------------------------------------


def test_short_text_is_untouched() -> None:
    assert truncate("hello", 5) == "hello"
    assert truncate("", 0) == ""


def test_cut_says_how_many_characters_were_left_out() -> None:
    text = "a" * 5000
    out = truncate(text, 100)
    assert len(out) <= 100
    kept = out.index("…")
    assert out == "a" * kept + f"… ({5000 - kept:,} more characters)"


def test_count_is_grouped_by_thousands() -> None:
    assert "more characters)" in truncate("b" * 12_345, 50)
    assert re.search(r"\(12,\d{3} more characters\)", truncate("b" * 12_345, 50))


def test_lines_mode_keeps_whole_lines_and_counts_the_rest() -> None:
    text = "\n".join(f"line {n:02d}" for n in range(50))
    out = truncate(text, 60, "lines")
    kept, note = out.rsplit("\n", 1)
    assert len(out) <= 60
    assert all(re.fullmatch(r"line \d\d", line) for line in kept.split("\n"))
    assert note == f"… ({50 - len(kept.split(chr(10))):,} more lines)"


def test_lines_mode_falls_back_to_characters_when_no_line_fits() -> None:
    out = truncate("y" * 500 + "\nshort", 80, "lines")
    assert len(out) <= 80
    assert out.endswith("more characters)")


def test_tiny_limits_still_hold() -> None:
    assert truncate("abcdef", 1) == "…"
    assert truncate("abcdef", 3) == "ab…"
    assert truncate("abcdef", 0) == ""


@given(st.text(), st.integers(min_value=0, max_value=400), st.sampled_from(["characters", "lines", "bytes"]))
def test_truncate_never_exceeds_its_limit(text: str, limit: int, what: str) -> None:
    out = truncate(text, limit, what)
    assert len(out) <= limit
    if len(text) <= limit:
        assert out == text


@given(st.text(alphabet=st.sampled_from("<>&ab\n`é😀")), st.integers(min_value=0, max_value=300))
def test_truncate_mrkdwn_fits_after_escaping_and_never_splits_an_entity(text: str, limit: int) -> None:
    out = truncate_mrkdwn(text, limit, "lines")
    assert len(out) <= limit
    assert "<" not in out and ">" not in out
    assert all(ENTITY.match(out, m.start()) for m in re.finditer("&", out))


@given(st.text(), st.integers(min_value=30, max_value=300))
def test_truncate_keeps_a_prefix(text: str, limit: int) -> None:
    out = truncate(text, limit)
    if out != text:
        assert text.startswith(out[: out.rindex("…")])


# -- escape_mrkdwn ------------------------------------------------------------------------------------------


def test_escape_changes_only_the_three_control_characters() -> None:
    assert escape_mrkdwn("<script>a & b</script> *bold* `code` _it_") == (
        "&lt;script&gt;a &amp; b&lt;/script&gt; *bold* `code` _it_"
    )
    assert escape_mrkdwn("&lt;") == "&amp;lt;"  # literal text stays literal, not a second decode


@given(st.text())
def test_escape_leaves_no_raw_angle_brackets(text: str) -> None:
    out = escape_mrkdwn(text)
    assert "<" not in out and ">" not in out
    assert out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


# -- check_blocks -------------------------------------------------------------------------------------------


def section(text: str = "ok", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(**overrides: Any) -> dict[str, Any]:
    text = {"type": "plain_text", "text": "Approve"}
    return {"type": "button", "text": text, "action_id": "a", **overrides}


def test_valid_blocks_have_no_violations() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Title"}},
        section("x" * 3000, block_id="s1", fields=[{"type": "mrkdwn", "text": "f" * 2000}] * 10),
        {"type": "divider", "block_id": "d"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
        {"type": "actions", "elements": [button(action_id=f"a{n}", value="v" * 2000) for n in range(25)]},
    ]
    assert check_blocks(blocks) == []


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ([section()] * 51, "blocks: 51 blocks, max 50"),
        ([section("x" * 3001)], "blocks[0] (section).text: text is 3,001 characters, max 3,000"),
        ([section("")], "blocks[0] (section).text: text is empty"),
        ([section(fields=[{"type": "mrkdwn", "text": "f"}] * 11)],
         "blocks[0] (section).fields: 11 fields, max 10"),
        ([section(fields=[{"type": "mrkdwn", "text": "f" * 2001}])],
         "blocks[0] (section).fields[0]: text is 2,001 characters, max 2,000"),
        ([{"type": "section"}], "blocks[0] (section): needs text or fields"),
        ([section(), section(block_id="x"), section(block_id="x")], "blocks[2]: block_id 'x' is not unique"),
        ([section(block_id="i" * 256)], "blocks[0]: block_id is 256 characters, max 255"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
         "blocks[0] (header).text: text is 151 characters, max 150"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}],
         "blocks[0] (header).text: text type 'mrkdwn'"),
        ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
         "blocks[0] (context).elements: 11 elements, max 10"),
        ([{"type": "context", "elements": []}], "blocks[0] (context).elements: must be a non-empty list"),
        ([{"type": "actions", "elements": [button(action_id=f"a{n}") for n in range(26)]}],
         "blocks[0] (actions).elements: 26 elements, max 25"),
        ([{"type": "actions", "elements": [button(text={"type": "plain_text", "text": "b" * 76})]}],
         "blocks[0] (actions).elements[0].text: text is 76 characters, max 75"),
        ([{"type": "actions", "elements": [button(value="v" * 2001)]}],
         "blocks[0] (actions).elements[0].value: 2,001 characters, max 2,000"),
        ([{"type": "actions", "elements": [button(style="secondary")]}],
         "blocks[0] (actions).elements[0].style: 'secondary' is not primary or danger"),
        ([{"type": "actions", "elements": [button(), button()]}],
         "blocks[0] (actions).elements[1].action_id: 'a' is not unique in the block"),
        ([{"type": "actions", "elements": [button(confirm={
            "title": {"type": "plain_text", "text": "t" * 101},
            "text": {"type": "mrkdwn", "text": "sure?"},
            "confirm": {"type": "plain_text", "text": "Yes"},
            "deny": {"type": "plain_text", "text": "No"},
        })]}], "blocks[0] (actions).elements[0].confirm.title: text is 101 characters, max 100"),
        ([{"type": "divider", "text": "no"}], "blocks[0] (divider): a divider has no content"),
        ([{"type": "video"}], "blocks[0]: unsupported block type 'video'"),
    ],
)
def test_each_violation_is_reported(blocks: list[dict[str, Any]], expected: str) -> None:
    problems = check_blocks(blocks)
    assert any(p.startswith(expected) for p in problems), problems


def test_all_violations_are_reported_not_just_the_first() -> None:
    blocks = [section("x" * 3001, block_id="a"), section("y" * 3001, block_id="a")]
    assert len(check_blocks(blocks)) == 3


def test_check_message_requires_fallback_text() -> None:
    assert check_message({"blocks": [section()]}) == ["text: fallback text is missing or empty"]
    assert check_message({"text": "t" * (FALLBACK_TEXT + 1), "blocks": []}) == [
        f"text: {FALLBACK_TEXT + 1:,} characters, max {FALLBACK_TEXT:,}"
    ]
    assert check_message({"text": "fine", "blocks": [section()]}) == []
