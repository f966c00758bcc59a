"""Credentials a careless service might print, one of every kind the support bundle must redact.

Sandbox only (scenario knob `logs.plant_secrets`): every value is fake but has the real format, so the
redaction is tested against what real leaks look like. Tests assert none of `PLANTED` survives anywhere
in a bundle archive.
"""

from __future__ import annotations

# kind -> the secret value itself (what must not appear in a bundle)
PLANTED: dict[str, str] = {
    "jwt": "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwiZXhwIjoxNzY0MzQ1NjAwfQ."
    "c2lnbmF0dXJlLXBsYW50ZWQtYnktc2FuZGJveA",
    "bearer_token": "3c1f0d9e8b7a6f5e4d3c2b1a09f8e7d6planted",
    "stripe_key": "sk_live_51HplantedSandboxKey0000Aa",
    "slack_token": "xoxb-123456789012-1234567890123-PlantedSandboxToken",
    "aws_access_key": "AKIAPLANTEDSANDBOX01",
    "github_token": "ghp_PlantedSandboxToken0123456789abcdefgh",
    "generic_api_key": "planted-generic-key-0123456789",
    "db_password": "Pl4nted-Passw0rd",
    "redis_password": "R3dis-Planted-Pw",
    "basic_auth": "cGxhbnRlZDpzYW5kYm94LWJhc2ljLWF1dGg=",
    "cookie": "planted-session-cookie-value-77",
    "x_api_key": "planted-x-api-key-value-0001",
    "private_key_body": "MIIEpAIBAAKCAQEAplantedSandboxPrivateKeyBody0123456789",
}

# Lines written at start-up (INFO), each leaking something.
STARTUP_LINES: tuple[str, ...] = (
    f"Connecting to postgresql://auth_svc:{PLANTED['db_password']}@user-db.default.svc:5432/auth",
    f"Cache backend redis://:{PLANTED['redis_password']}@redis-cache.default.svc:6379/0",
    f"Bootstrap service token {PLANTED['jwt']} cached",
    f"Payment client configured with key {PLANTED['stripe_key']}",
    f"Notifier ready (slack token {PLANTED['slack_token']})",
    f"S3 uploads as AWS_ACCESS_KEY_ID={PLANTED['aws_access_key']}",
    f"Release notes fetched with GITHUB_TOKEN={PLANTED['github_token']}",
    f"Partner client settings api_key={PLANTED['generic_api_key']} timeout=5s",
    "Loaded signing key:",
    "-----BEGIN RSA PRIVATE KEY-----",
    PLANTED["private_key_body"],
    "-----END RSA PRIVATE KEY-----",
)

# A failed request whose exception dumped the request headers; its traceback leaks a bearer token too.
ERROR_MESSAGE = (
    "Unhandled exception: KeyError: 'kid' headers={"
    f"'Authorization': 'Bearer {PLANTED['jwt']}', 'Cookie': 'session={PLANTED['cookie']}', "
    f"'X-API-Key': '{PLANTED['x_api_key']}'}}"
)
TRACEBACK: tuple[str, ...] = (
    "Traceback (most recent call last):",
    '  File "/app/auth/introspect.py", line 19, in introspect',
    f"    resp = await http.post(URL, headers={{'Authorization': 'Basic {PLANTED['basic_auth']}'}})",
    f"RuntimeError: introspection refused for Bearer {PLANTED['bearer_token']}",
)
