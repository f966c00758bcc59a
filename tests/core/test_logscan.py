"""Error lines grouped by signature, stack traces attached, request IDs extracted."""

from bot.logscan import scan, signature
from bot.sources.records import LogLine


def _lines(pod: str, texts: list[str]) -> list[LogLine]:
    return [LogLine(pod, "app", t) for t in texts]


TRACE = [
    "2026-11-28T10:07:12.431Z ERROR [auth-service] request_id=req-8f2c1a9e POST /auth/validate 500 "
    "Unhandled exception: KeyError: 'kid'",
    "Traceback (most recent call last):",
    '  File "/app/auth/jwt.py", line 88, in validate',
    "    key = keys[header['kid']]",
    "KeyError: 'kid'",
]


def test_groups_by_signature_ignoring_timestamps_and_ids() -> None:
    lines = _lines("p1", TRACE) + _lines("p2", [t.replace("8f2c1a9e", "0badf00d").replace("07:12", "08:13")
                                                 for t in TRACE])
    lines += _lines("p1", ["2026-11-28T10:09:00Z INFO [auth-service] request_id=req-11111111 GET /health 200"])
    result = scan(lines)
    assert result.lines == 11 and result.error_lines == 2
    assert len(result.groups) == 1
    group = result.groups[0]
    assert group.count == 2 and group.pods == {"p1", "p2"} and group.has_stack
    assert group.example[:5] == TRACE and "KeyError: 'kid'" in group.signature
    assert group.request_ids == ["req-8f2c1a9e", "req-0badf00d"]


def test_request_ids_from_warnings_are_collected_too() -> None:
    result = scan(_lines("p", ["WARN request_id=req-abcdef12 POST /auth/validate 401 Invalid JWT token"]))
    assert result.error_lines == 0 and result.warn_lines == 1
    assert result.request_ids == ("req-abcdef12",)


def test_signature_strips_volatile_parts_only() -> None:
    a = signature("2026-01-01T00:00:00Z ERROR took 1234 ms uuid=123e4567-e89b-12d3-a456-426614174000 code E42")
    b = signature("2026-01-02T11:11:11Z ERROR took 9999 ms uuid=00000000-0000-0000-0000-000000000000 code E42")
    assert a == b and "E42" in a


def test_separate_errors_stay_separate_and_are_ordered_by_count() -> None:
    texts = ["ERROR FATAL: sorry, too many clients already"] * 3 + ["ERROR Cannot connect to database"]
    result = scan(_lines("p", texts))
    assert [g.count for g in result.groups] == [3, 1]
