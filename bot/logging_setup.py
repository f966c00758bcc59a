"""Process logging: one JSON object per line (or plain text on a terminal), a correlation ID on every line
written while a command, alert, action or scheduled job is handled, and secrets masked before anything is
written.

The correlation ID lives in a context variable, so it follows the work into the asyncio tasks it spawns
(tasks copy the context they are created in) without being passed around.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal

from pydantic import SecretStr

from bot.config import Settings

LogFormat = Literal["json", "text"]
MASK = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"
# Client libraries log every request at INFO: noise at 3 a.m., and request lines can carry query values.
NOISY_LOGGERS = ("httpx", "httpcore", "urllib3", "kubernetes", "slack_sdk", "slack_bolt", "apscheduler")

correlation_id: ContextVar[str | None] = ContextVar("opsbot_correlation_id", default=None)

# Credentials that have a recognisable shape even when they are not ours (a token pasted into a command, a
# DSN in a driver's error message): Slack tokens, bearer tokens, and the password part of URLs.
_SHAPES = (
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]+"), MASK),
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), MASK),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\g<1>{MASK}"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@"), rf"\g<1>{MASK}@"),
    (re.compile(r"(?i)\b(password\s*[=:]\s*)[^\s,;&]+"), rf"\g<1>{MASK}"),
)


@contextmanager
def correlated(kind: str, ref: str | None = None) -> Iterator[str]:
    """Log lines inside carry `kind:ref` (ref: Slack's own ID when there is one, so a Slack retry of the
    same event shares it; else a fresh random one)."""
    value = f"{kind}:{ref or uuid.uuid4().hex[:12]}"
    token = correlation_id.set(value)
    try:
        yield value
    finally:
        correlation_id.reset(token)


class SecretMask:
    """Masks the values of the secrets in settings, and anything shaped like a credential."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is masked whole. Very short values would mask
        # ordinary words; a secret that short is not worth protecting from a log reader anyway.
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for pattern, replacement in _SHAPES:
            text = pattern.sub(replacement, text)
        return text


def settings_secrets(settings: Settings) -> list[str]:
    """Every secret value in settings, and for URLs also the password inside them on its own."""
    found: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr) and value.get_secret_value():
            secret = value.get_secret_value()
            found.append(secret)
            if password := _url_password(secret):
                found.append(password)
    return found


def _url_password(url: str) -> str | None:
    match = re.match(r"^[a-z][a-z0-9+.-]*://[^/\s:@]*:([^@\s/]+)@", url, re.IGNORECASE)
    return match.group(1) if match else None


class _ContextFilter(logging.Filter):
    """Stamps the correlation ID and masks secrets in the finished message (arguments included) and in the
    exception text, so no formatter downstream ever sees the raw values."""

    def __init__(self, mask: SecretMask) -> None:
        super().__init__()
        self._mask = mask

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get() or "-"
        record.msg = self._mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._mask(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        cid = getattr(record, "correlation_id", None)
        if cid and cid != "-":
            entry["correlation_id"] = cid
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def choose_format(stream: object = None) -> LogFormat:
    """JSON for log collectors (a pod's stdout is never a terminal); text for a person at a terminal."""
    target = stream if stream is not None else sys.stderr
    isatty = getattr(target, "isatty", None)
    return "text" if callable(isatty) and isatty() else "json"


def configure(level: str, secrets: Iterable[str] = (), fmt: LogFormat | None = None) -> logging.Handler:
    """Replace the root logger's handlers with one that writes to stderr in `fmt` (default: choose_format)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter(SecretMask(secrets)))
    handler.setFormatter(JsonFormatter() if (fmt or choose_format()) == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    return handler
