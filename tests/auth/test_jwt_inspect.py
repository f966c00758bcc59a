"""Inspecting a pasted JWT: what the report says, and that it never contains the token or its signature."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from bot.config import load_ops_config
from bot.diagnose_request import JwtRequest, help_text, parse_diagnose
from bot.jwt_inspect import inspect_text, inspect_token, span
from bot.model import Symptom

NOW = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)
KEY = "test-signing-key-0123456789abcdef0123456789"


def make(claims: dict[str, object], headers: dict[str, object] | None = None, alg: str = "HS256") -> str:
    return jwt.encode(claims, KEY if alg != "none" else None, algorithm=alg, headers=headers)


def at(delta: timedelta) -> int:
    return int((NOW + delta).timestamp())


def assert_secret_free(token: str, text: str) -> None:
    assert token not in text
    for part in token.split("."):
        if len(part) >= 8:
            assert part not in text, "no part of the token (header, payload, signature) is echoed"


def test_valid_token_reports_header_times_and_lifetime() -> None:
    token = make({"sub": "u-1", "iat": at(timedelta(minutes=-10)), "exp": at(timedelta(minutes=50))},
                 headers={"kid": "k-2026-11"})
    report = inspect_token(token, NOW, 3600)
    assert report.parts == 3 and report.problems == ()
    assert report.header == {"alg": "HS256", "typ": "JWT", "kid": "k-2026-11"}
    text = inspect_text(token, NOW, 3600)
    assert "Valid for another 50 min" in text and "the platform's token lifetime" in text
    assert "2026-11-28 11:20:00 UTC" in text  # exp
    assert "u-1" not in text  # claims other than the times are not quoted
    assert_secret_free(token, text)


def test_expired_token_says_by_how_long() -> None:
    token = make({"iat": at(timedelta(hours=-3, minutes=-5)), "exp": at(timedelta(hours=-2, minutes=-5))})
    text = inspect_text(token, NOW, 3600)
    assert "Expired 2 h 5 min ago" in text and "/auth/refresh" in text
    assert_secret_free(token, text)


def test_long_lived_token_is_compared_with_the_platform_lifetime() -> None:
    token = make({"iat": at(timedelta(hours=-1)), "exp": at(timedelta(hours=23))})
    assert "Lifetime 1 day: longer than the platform's 1 h" in inspect_text(token, NOW, 3600)


def test_two_parts_is_malformed() -> None:
    token = ".".join(make({"exp": at(timedelta(hours=1))}).split(".")[:2])
    report = inspect_token(token, NOW, 3600)
    assert report.parts == 2 and "a JWT has three" in report.problems[0]
    assert_secret_free(token, inspect_text(token, NOW, 3600))


def test_non_base64_parts_are_named() -> None:
    header, payload, signature = make({"exp": at(timedelta(hours=1))}).split(".")
    token = f"{header}.{payload[:10]}$%{payload[10:]}.{signature}"
    report = inspect_token(token, NOW, 3600)
    assert report.problems == ("Not base64url: the payload part(s) hold characters outside A-Z a-z 0-9 - _.",)
    assert_secret_free(token, inspect_text(token, NOW, 3600))


def test_base64_that_is_not_json_is_reported() -> None:
    token = "bm90LWpzb24.eyJleHAiOjF9.c2lnbmF0dXJl"
    assert inspect_token(token, NOW, 3600).problems == ("The header is not base64url-encoded JSON.",)


def test_alg_none_is_flagged() -> None:
    token = make({"iat": at(timedelta(0)), "exp": at(timedelta(hours=1))}, alg="none")
    report = inspect_token(token, NOW, 3600)
    assert report.header["alg"] == "none"
    assert any("unsigned" in p for p in report.problems)
    assert_secret_free(token, inspect_text(token, NOW, 3600))


def test_missing_exp_and_future_nbf_are_problems() -> None:
    token = make({"iat": at(timedelta(0)), "nbf": at(timedelta(minutes=5))})
    problems = " ".join(inspect_token(token, NOW, 3600).problems)
    assert "No `exp` claim" in problems and "Not valid for another 5 min" in problems


def test_rs256_without_kid_is_noted_and_header_values_are_sanitised() -> None:
    header = jwt.utils.base64url_encode(b'{"alg":"RS256","typ":"<!channel> `x`"}').decode()
    payload = jwt.utils.base64url_encode(b'{"exp": 1800000000}').decode()
    report = inspect_token(f"{header}.{payload}.c2ln", NOW, 3600)
    assert report.header["typ"] == "??channel???x?"  # nothing Slack would turn into a mention or code
    assert any("kid" in n for n in report.notes)


def test_bearer_prefix_and_empty_input_get_a_hint() -> None:
    assert "Bearer" in inspect_token("Bearer abc.def.ghi", NOW, 3600).problems[0]
    assert "Usage" in inspect_token("", NOW, 3600).problems[0]


@pytest.mark.parametrize(("seconds", "text"), [(42, "42 s"), (250, "4 min 10 s"), (3600, "1 h"),
                                               (7500, "2 h 5 min"), (90000, "1 day 1 h")])
def test_span(seconds: int, text: str) -> None:
    assert span(seconds) == text


def test_parse_diagnose_recognises_jwt_and_keeps_long_tokens_whole() -> None:
    config = load_ops_config(None)
    token = make({"exp": at(timedelta(hours=1)), "pad": "x" * 800})
    parsed = parse_diagnose(f"  JWT   {token} ", config, frozenset({Symptom.HIGH_ERROR_RATE}))
    assert isinstance(parsed, JwtRequest) and parsed.token == token
    assert token not in repr(parsed)
    assert parse_diagnose("jwt", config, frozenset()) == JwtRequest("")
    assert "/diagnose jwt TOKEN" in help_text(config, frozenset({Symptom.HIGH_ERROR_RATE}))
