"""What an error about a configured connection may say: never the connection string or its password.

TARGET_DATABASE_URL, CACHE_REDIS_URL, DATABASE_URL and REDIS_URL carry credentials, and the drivers quote
a string they cannot parse: psycopg says `invalid percent-encoded token: "s3cr3t%zz"` or `missing "="
after "u:s3cr3t@x"`, redis-py `Port could not be cast to integer value as 's3cr3t'`. Those messages end
up in Slack (findings, refusals) and in logs. So a connection string is parsed once, up front, by the
driver's own parser: one that does not parse is refused with a fixed message naming the setting and never
its value, without the driver ever seeing it; for one that parses, an error keeps only its first line,
with the string and the password blanked out should the driver quote them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import psycopg
from redis.asyncio.connection import parse_url

BLANK = "***"


@dataclass(frozen=True)
class ConnectionSetting:
    """A connection string as errors may describe it: `name` is the environment variable it came from."""

    name: str
    malformed: str | None  # the fixed message when the value does not parse; None when it does
    secrets: tuple[str, ...]  # texts never to repeat: the whole string and its password

    @classmethod
    def postgres(cls, name: str, dsn: str) -> ConnectionSetting:
        try:
            params = psycopg.conninfo.conninfo_to_dict(dsn)
        except psycopg.ProgrammingError:  # what libpq's conninfo parser raises; its text quotes the value
            return cls(name, f"{name} is not a valid PostgreSQL connection string (its value is not shown)",
                       _secrets(dsn))
        password = params.get("password")
        return cls(name, None, _secrets(dsn, str(password) if password else None))

    @classmethod
    def redis(cls, name: str, url: str) -> ConnectionSetting:
        try:
            params = parse_url(url)
        except ValueError:  # see `redis_url_parses`
            return cls(name, f"{name} is not a valid Redis URL (its value is not shown)", _secrets(url))
        password = params.get("password")  # decoded: what AUTH sends, and what an error would quote
        return cls(name, None, _secrets(url, str(password) if password else None))

    def reason(self, exc: BaseException) -> str:
        """The error's first line, fit to show: the fixed message for a malformed string, otherwise the
        driver's text with every secret blanked."""
        if self.malformed is not None:
            return self.malformed
        lines = str(exc).strip().splitlines()
        first = lines[0] if lines and lines[0].strip() else type(exc).__name__
        return self.redact(first)

    def redact(self, text: str) -> str:
        # Longest first: the whole string goes before the password inside it.
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, BLANK)
        return text


def redis_url_parses(url: str) -> bool:
    """Whether redis-py accepts the URL: its parser is what from_url runs, and its ValueError quotes parts
    of the URL (a password where the port should be, in `redis://user:s3cr3t`)."""
    try:
        parse_url(url)
    except ValueError:
        return False
    return True


def _secrets(value: str, password: str | None = None) -> tuple[str, ...]:
    try:
        # The password as written in a URL (percent-encoded), besides the decoded one the driver uses.
        written = urlsplit(value).password
    except ValueError:
        written = None
    # Empty strings are dropped: blanking "" would put *** between every character.
    return tuple({text for text in (value, password, written) if text})
