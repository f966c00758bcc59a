"""Redaction: every kind of credential replaced and counted; request IDs, digests and ordinary prose kept."""

from __future__ import annotations

import re
import sys

import pytest

from bot.bundle.redact import ASCII_FOLD, Redactor
from bot.sandbox import planted_secrets

JWT = planted_secrets.PLANTED["jwt"]
DIGEST = "sha256:c390dde96a0944528245ca4ccb8379d17b86b8e82f477651f04b868f45b5be03"

CASES = [
    # (kind, line, the secret that must be gone, what must remain around it)
    ("jwt", f"token={JWT} rejected", JWT, "rejected"),
    ("bearer_token", "introspection refused for Bearer 3c1f0d9e8b7a6f5e4d3c2b1a", "3c1f0d9e8b7a6f5e4d3c2b1a",
     "Bearer [REDACTED:bearer_token]"),
    ("api_key", "charging with sk_live_51HxAbCdEfGhIjKlMn", "sk_live_51HxAbCdEfGhIjKlMn", "charging with"),
    ("api_key", "slack token xoxb-1234567890-0987654321-AbCdEfGh", "xoxb-1234567890-0987654321-AbCdEfGh", "slack"),
    ("api_key", "slack user token xoxp-1234567890-0987654321-AbCdEfGh", "xoxp-1234567890", "slack"),
    ("api_key", "aws key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE", "used"),
    ("api_key", "cloning with ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
     "cloning"),
    ("api_key", "partner api_key=abc123def456 timeout=5s", "abc123def456", "api_key=[REDACTED:api_key] timeout=5s"),
    ("api_key", 'config {"apiKey": "k-9f8e7d6c5b"}', "k-9f8e7d6c5b", "apiKey"),
    ("password", "dsn postgresql://app:s3cr3t-pw@db:5432/orders", "s3cr3t-pw",
     "postgresql://app:[REDACTED:password]@db:5432/orders"),
    ("password", "redis://:r3dis-pw@cache:6379/0", "r3dis-pw", "@cache:6379/0"),
    ("password", "host=db user=app password=hunter22 dbname=orders", "hunter22", "dbname=orders"),
    ("password", "DB_PASSWORD=hunter22", "hunter22", "DB_PASSWORD="),
    ("auth_header", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA==", "Authorization: "),
    ("auth_header", "headers={'Cookie': 'session=abc123; theme=dark', 'Accept': 'json'}", "abc123",
     "'Accept': 'json'"),
    ("auth_header", "X-API-Key: 0123456789abcdef", "0123456789abcdef", "X-API-Key"),
    ("private_key", "key='-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----' loaded",
     "MIIEvQIBADANBg", "loaded"),
]


@pytest.mark.parametrize(("kind", "line", "secret", "kept"), CASES, ids=[f"{c[0]}-{n}" for n, c in enumerate(CASES)])
def test_each_kind_is_replaced_and_counted(kind: str, line: str, secret: str, kept: str) -> None:
    redactor = Redactor()
    out = redactor.text(line)
    assert secret not in out
    assert f"[REDACTED:{kind}]" in out
    assert kept in out
    assert redactor.counts[kind] >= 1
    assert sum(redactor.counts.values()) == out.count("[REDACTED:")


@pytest.mark.parametrize("line", [
    "2026-11-28T10:07:12.431Z ERROR [auth-service] request_id=req-8f2c1a9e POST /auth/validate 500 KeyError",
    f"image registry.example.com/auth-service@{DIGEST}",
    f"docker-pullable://registry.example.com/auth-service@{DIGEST}",
    "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7",
    "correlation 123e4567-e89b-12d3-a456-426614174000",
    "Invalid JWT token: token expired",
    "Bearer authentication required",
    "jwks cache refreshed keys=3 age=300s",
    "GET http://user-db:8080/health@v2 200",
    "db pool stats size=20 in_use=6 idle=14 waiting=0",
    "authorization failed for user bob",
])
def test_what_support_needs_is_not_redacted(line: str) -> None:
    redactor = Redactor()
    assert redactor.text(line) == line
    assert not redactor.counts


def test_a_private_key_over_several_lines_is_redacted_line_by_line() -> None:
    lines = ["Loaded signing key:", "-----BEGIN RSA PRIVATE KEY-----", "MIIEpAIBAAKCAQEA1", "c2VjcmV0Ym9keQ==",
             "-----END RSA PRIVATE KEY-----", "Listening on 0.0.0.0:8080"]
    redactor = Redactor()
    out = list(redactor.lines(lines))
    assert len(out) == len(lines)
    assert out[0] == "Loaded signing key:" and out[-1] == "Listening on 0.0.0.0:8080"
    assert out[1:5] == ["[REDACTED:private_key]"] * 4
    assert redactor.counts == {"private_key": 1}


def test_redacting_twice_changes_nothing_and_counts_nothing_more() -> None:
    lines = [*planted_secrets.STARTUP_LINES, planted_secrets.ERROR_MESSAGE, *planted_secrets.TRACEBACK]
    redactor = Redactor()
    once = list(redactor.lines(lines))
    counted = dict(redactor.counts)
    assert list(redactor.lines(once)) == once
    assert dict(redactor.counts) == counted


def test_every_planted_secret_is_caught() -> None:
    lines = [*planted_secrets.STARTUP_LINES, planted_secrets.ERROR_MESSAGE, *planted_secrets.TRACEBACK]
    redactor = Redactor()
    text = "\n".join(redactor.lines(lines))
    for kind, secret in planted_secrets.PLANTED.items():
        assert secret not in text, kind
    assert set(redactor.counts) == {"jwt", "bearer_token", "api_key", "password", "auth_header", "private_key"}


def test_a_document_is_walked_keys_and_values() -> None:
    redactor = Redactor()
    doc = {"metrics": {"samples": [{"message": f"Authorization: Bearer {JWT}"}]},
           "password=hunter22": 3, "count": 7, "ok": True, "none": None}
    out = redactor.value(doc)
    assert isinstance(out, dict)
    assert JWT not in str(out) and "hunter22" not in str(out)
    assert out["count"] == 7 and out["ok"] is True and out["none"] is None
    assert redactor.counts == {"auth_header": 1, "password": 1}


@pytest.mark.parametrize("line", [
    "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG",
    "aws_access_key_id: AKIDEXAMPLE0001",
    "client-secret = 'cs-0f9e8d7c'",
    'oauth {"refresh_token": "rt-1a2b3c4d5e"}',
    "GITHUB_TOKEN=gho_16C7e42F292c6912E7710c838347Ae178B4a",
    "x_private_token:pt-99887766",
    "PGPASSWORD=hunter22",
    "db passwd: hunter22",
    "ſecret_key=abcd1234",  # `re` matches the long s as an `s`; lower-casing alone would not turn it into one
    "AUTHORİZATION: Basic dXNlcjpwYXNzd29yZA==",  # the dotted capital I folds to `i` likewise
])
def test_every_name_value_pair_the_patterns_know_gets_past_the_quick_check(line: str) -> None:
    redactor = Redactor()
    out = redactor.text(line)
    assert "[REDACTED:" in out and sum(redactor.counts.values()) == 1


@pytest.mark.parametrize("line", [
    '    key = self._keys[header["kid"]]',
    "2026-11-28T13:07:53.059Z WARN [auth-service] request_id=req-58146608 POST /auth/validate 401 Invalid JWT "
    "token: unsupported algorithm RS512",
    "password reset requested for user 42",
])
def test_code_and_prose_that_only_look_like_pairs_are_left_alone(line: str) -> None:
    redactor = Redactor()
    assert redactor.text(line) == line
    assert not redactor.counts


def test_the_ascii_fold_covers_every_letter_re_matches_as_an_ascii_one() -> None:
    # The quick check lower-cases text before looking for case-insensitive names; a letter that `re` matches
    # as an ASCII one but `str.lower` does not turn into it must be folded first, or a name would slip by.
    letter = re.compile("(?i)[a-z]")
    folded = {chr(c) for c in range(128, sys.maxunicode + 1)
              if letter.fullmatch(chr(c)) and not chr(c).lower().isascii()}
    assert folded <= set(map(chr, ASCII_FOLD))
