"""Redaction: credentials are replaced by `[REDACTED:<kind>]` before any bundle text leaves the process.

One `Redactor` per bundle counts what it replaced per kind, for the manifest. What is deliberately NOT
touched: request IDs, trace IDs, UUIDs and image digests (support needs them, and they grant nothing).

Kinds: `jwt`, `bearer_token`, `api_key` (sk_live_, xoxb-/xoxp-/xoxa-, AWS AKIA..., ghp_, `api_key=`-style
pairs), `password` (in connection strings, URLs and `password=` pairs), `auth_header` (Authorization,
Cookie, X-API-Key and their kin), `private_key` (PEM blocks, on one line or spread over several).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

MARK = "[REDACTED:{kind}]"

_HEADER_NAMES = r"(?:proxy-)?authorization|set-cookie|cookie|x-api-key|x-auth-token"
_KEY_NAMES = (
    r"api[_-]?key|apikey|access[_-]?key(?:[_-]?id)?|secret[_-]?(?:access[_-]?)?key|client[_-]?secret|"
    r"access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token|github[_-]?token|private[_-]?token"
)
_LOGIN_FIELDS = r"password|passwd|pwd|pgpassword"
# `_may_hold_secret` tests quickly whether a line may hold a credential at all: most log lines do not, and a
# few substring checks cost a fraction of the full pattern set. Each check is a necessary condition of a pattern.
# The `name=value` patterns' names and separators, searched in lower-cased text: `_PAIR_END` is how every name
# ends, right before its separator (a quick search with few alternatives); `_PAIR` is the names themselves, as
# tight as the patterns, so that code in stack traces (`key = self._keys[...]`) and prose ("JWT token: expired")
# are not mistaken for pairs and sent through the full pattern set.
_PAIR_END = re.compile(r"(?:key(?:[_-]?id)?|token|secret|passw(?:or)?d|pwd)[\"']?\s*[:=]")
_PAIR = re.compile(rf"(?:{_KEY_NAMES}|{_LOGIN_FIELDS})[\"']?\s*[:=]")
# The non-ASCII letters `re` matches case-insensitively as ASCII ones (`ſ` as `s`, `K` as `k`, `ı` and `İ` as
# `i`) but `str.lower` does not turn into them: folded first, so the lower-cased hints still see the names.
ASCII_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
# Ordered: where two could match at the same place the first wins (a header before the bearer inside it).
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("private_key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"),
    # `'Authorization': 'Bearer x'`, `Cookie: a=b; c=d`, `x-api-key=...`: the value up to its quote or the end.
    ("auth_header",
     rf"(?i:\b(?P<h>{_HEADER_NAMES}))(?P<hs>[\"']?\s*[:=]\s*)"
     r"(?!\[REDACTED)(?:(?P<q>[\"'])(?!\[REDACTED)(?P<hq>[^\"']*)(?P=q)|(?P<hv>[^\s\"',}][^\"',}\n]*))"),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    # A digit is required: "Bearer authentication required" is prose, not a token.
    ("bearer_token", r"(?P<b>\b(?i:bearer)\s+)(?P<bv>(?!\[REDACTED)(?=[A-Za-z._~+/=-]*[0-9])[A-Za-z0-9._~+/=-]{8,})"),
    ("api_key", r"\bsk_live_[A-Za-z0-9]{8,}|\bxox[bpa]-[A-Za-z0-9-]{10,}|\bAKIA[A-Z0-9]{16}\b|\bghp_[A-Za-z0-9]{20,}"),
    ("api_key_pair",
     rf"(?i:\b(?P<k>(?:[a-z0-9]+_)*(?:{_KEY_NAMES})))(?P<ks>[\"']?\s*[:=]\s*[\"']?)(?!\[REDACTED)(?P<kv>[^\s\"'&,;)}}]{{4,}})"),
    ("password", r"(?P<u>\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)(?!\[REDACTED)(?P<uv>[^/\s@]+)(?P<at>@)"),
    ("password_pair",
     rf"(?i:\b(?P<p>(?:[a-z0-9]+_)*(?:{_LOGIN_FIELDS})))(?P<ps>[\"']?\s*[:=]\s*[\"']?)"
     r"(?!\[REDACTED)(?P<pv>[^\s\"'&,;)}]+)"),
)
_COMBINED = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _PATTERNS))
# Named groups that are one kind reported under another name.
_KIND_OF = {"api_key_pair": "api_key", "password_pair": "password"}
_BEGIN_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_END_KEY = re.compile(r"-----END [A-Z ]*PRIVATE KEY-----")
# A PEM block spread over lines ends within this many; past it the rest is kept (it was not a key after all).
MAX_KEY_LINES = 100


class Redactor:
    """Replaces credentials and counts them per kind. Not thread-safe; one per bundle."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def text(self, text: str) -> str:
        if not _may_hold_secret(text):
            return text
        return _COMBINED.sub(self._replace, text)

    def lines(self, lines: Iterable[str]) -> Iterator[str]:
        """Line by line, also catching a private key whose PEM block spans several lines."""
        texts = list(lines)
        changed = self.changes(texts)
        return (changed.get(i, text) for i, text in enumerate(texts))

    def changes(self, texts: Sequence[str]) -> dict[int, str]:
        """Index -> redacted text, for the lines that change. Most lines of a log hold nothing, so this hands back
        only the few that do instead of a copy of every line."""
        changed: dict[int, str] = {}
        inside = 0  # lines into a PEM block whose END has not been seen yet
        for index, text in enumerate(texts):
            if inside:
                inside = 0 if _END_KEY.search(text) or inside > MAX_KEY_LINES else inside + 1
                changed[index] = MARK.format(kind="private_key")
                continue
            if not _may_hold_secret(text):
                continue
            redacted = _COMBINED.sub(self._replace, text)
            if redacted != text:
                changed[index] = redacted
            if _BEGIN_KEY.search(text) and not _END_KEY.search(text):
                inside = 1
        return changed

    def value(self, value: object) -> object:
        """Every string inside a JSON-like value (dicts, lists, scalars), keys included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value

    def _replace(self, match: re.Match[str]) -> str:
        name = match.lastgroup or ""
        kind = _KIND_OF.get(name, name)
        self.counts[kind] += 1
        mark = MARK.format(kind=kind)
        groups = match.groupdict()
        if name == "auth_header":
            quote = groups["q"] or ""
            return f"{groups['h']}{groups['hs']}{quote}{mark}{quote}"
        if name == "bearer_token":
            return f"{groups['b']}{mark}"
        if name == "api_key_pair":
            return f"{groups['k']}{groups['ks']}{mark}"
        if name == "password":
            return f"{groups['u']}{mark}{groups['at']}"
        if name == "password_pair":
            return f"{groups['p']}{groups['ps']}{mark}"
        return mark


def _may_hold_secret(text: str) -> bool:
    # Spelled out rather than any(...) over the hint tuples: this runs on every log line, and a generator per
    # line costs more than the checks themselves.
    if "eyJ" in text or "sk_live_" in text or "xox" in text or "AKIA" in text or "ghp_" in text:
        return True
    if "PRIVATE KEY" in text or ("://" in text and "@" in text):
        return True
    lower = text.lower() if text.isascii() else text.translate(ASCII_FOLD).lower()
    if "bearer" in lower or "authorization" in lower or "cookie" in lower or "x-api-key" in lower:
        return True
    if "x-auth-token" in lower:
        return True
    hinted = "key" in lower or "token" in lower or "secret" in lower or "passw" in lower or "pwd" in lower
    return hinted and _PAIR_END.search(lower) is not None and _PAIR.search(lower) is not None
