"""Inspecting a pasted JWT without verifying it: parts, header alg, expiry. Never logs the token.

The guide's "Verify token format" and "Check token expiration" steps, for a token someone pastes into
`/diagnose jwt <token>`: does it have three parts, what do its header and time claims say, has it expired
and by how long, is its lifetime the platform's. The signature is not verified (the bot holds no keys)
and neither the token nor its signature part ever appears in the report; header values are quoted only
after being bounded and stripped of anything that could format or link in Slack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

# base64url without padding, the alphabet every JWT part uses.
B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
MAX_TOKEN = 16 * 1024
MAX_VALUE = 40
SAFE_VALUE = re.compile(r"[^A-Za-z0-9_.:/+=-]")
# Unverified claims that identify a time; iat/nbf/exp are NumericDate seconds since the epoch.
TIME_CLAIMS = (("iat", "Issued"), ("nbf", "Not before"), ("exp", "Expires"))
UNSIGNED = {"none", ""}


@dataclass(frozen=True)
class TokenReport:
    """What a pasted token says about itself. Holds no part of the token."""

    parts: int
    header: dict[str, str]
    times: dict[str, datetime]
    problems: tuple[str, ...]
    notes: tuple[str, ...]


def inspect_token(token: str, now: datetime, lifetime_s: int) -> TokenReport:
    token = token.strip()
    parts = token.split(".")
    structural = _structure_problems(token, parts)
    if structural:
        return TokenReport(len(parts), {}, {}, structural, ())
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return TokenReport(3, {}, {}, ("The header is not base64url-encoded JSON.",), ())
    try:
        claims = jwt.decode(token, options=_UNVERIFIED)
    except jwt.InvalidTokenError:
        return TokenReport(3, _header_values(header), {}, ("The payload is not base64url-encoded JSON claims.",), ())
    times, time_problems = _times(claims)
    problems = list(time_problems) + _alg_problems(header) + _expiry_problems(times, now)
    notes = _kid_notes(header) + _lifetime_notes(times, lifetime_s) + _validity_notes(times, now)
    return TokenReport(3, _header_values(header), times, tuple(problems), tuple(notes))


_UNVERIFIED: Any = {
    "verify_signature": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False,
    "verify_aud": False, "verify_iss": False,
}


def _structure_problems(token: str, parts: list[str]) -> tuple[str, ...]:
    if not token:
        return ("No token given. Usage: `/diagnose jwt <token>`.",)
    if len(token) > MAX_TOKEN:
        return (f"Longer than {MAX_TOKEN // 1024} KB; not a token a service would accept.",)
    if token.lower().startswith("bearer "):
        return ("Paste the token without the `Bearer ` prefix.",)
    if len(parts) != 3:
        return (f"{len(parts)} part(s) separated by dots; a JWT has three: header.payload.signature.",)
    names = ("header", "payload", "signature")
    bad = [name for name, part in zip(names, parts, strict=True) if not B64URL.match(part)]
    if bad:
        return (f"Not base64url: the {' and '.join(bad)} part(s) hold characters outside A-Z a-z 0-9 - _.",)
    if not parts[0] or not parts[1]:
        return ("The header or payload part is empty.",)
    return ()


def _safe(value: object) -> str:
    """A header value fit to quote: bounded, and nothing Slack would format or turn into a link."""
    text = SAFE_VALUE.sub("?", str(value))
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _header_values(header: dict[str, Any]) -> dict[str, str]:
    return {key: _safe(header[key]) for key in ("alg", "typ", "kid") if header.get(key) is not None}


def _alg_problems(header: dict[str, Any]) -> list[str]:
    if str(header.get("alg", "")).lower() in UNSIGNED:
        return ["alg `none`: the token is unsigned; every service must reject it."]
    return []


def _kid_notes(header: dict[str, Any]) -> list[str]:
    # Asymmetric algorithms (RS/ES/PS) pick the verification key from the JWKS by kid.
    alg = str(header.get("alg", "")).upper()
    if alg[:2] in ("RS", "ES", "PS") and "kid" not in header:
        return ["No `kid` in the header: a service choosing the JWKS key by kid cannot verify it."]
    return []


def _times(claims: dict[str, Any]) -> tuple[dict[str, datetime], list[str]]:
    times: dict[str, datetime] = {}
    problems = []
    for claim, label in TIME_CLAIMS:
        value = claims.get(claim)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"`{claim}` is not a number of seconds ({label.lower()} cannot be read).")
            continue
        try:
            times[claim] = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            problems.append(f"`{claim}` is out of range.")
    if "exp" not in times and not any(p.startswith("`exp`") for p in problems):
        problems.append("No `exp` claim: the token never expires, which the platform's services refuse.")
    return times, problems


def _expiry_problems(times: dict[str, datetime], now: datetime) -> list[str]:
    problems = []
    exp = times.get("exp")
    if exp is not None and exp <= now:
        problems.append(f"Expired {span((now - exp).total_seconds())} ago: refresh it (POST /auth/refresh).")
    nbf = times.get("nbf")
    if nbf is not None and nbf > now:
        problems.append(f"Not valid for another {span((nbf - now).total_seconds())} (`nbf` is in the future): "
                        "a clock is off, the issuer's or the service's.")
    iat = times.get("iat")
    if iat is not None and iat > now:
        problems.append(f"Issued {span((iat - now).total_seconds())} in the future: the issuer's clock is ahead.")
    return problems


def _lifetime_notes(times: dict[str, datetime], lifetime_s: int) -> list[str]:
    iat, exp = times.get("iat"), times.get("exp")
    if iat is None or exp is None:
        return []
    lifetime = (exp - iat).total_seconds()
    if abs(lifetime - lifetime_s) < 60:
        return [f"Lifetime {span(lifetime)}, the platform's token lifetime."]
    longer = "longer" if lifetime > lifetime_s else "shorter"
    return [f"Lifetime {span(lifetime)}: {longer} than the platform's {span(lifetime_s)}."]


def _validity_notes(times: dict[str, datetime], now: datetime) -> list[str]:
    exp = times.get("exp")
    if exp is None or exp <= now:
        return []
    return [f"Valid for another {span((exp - now).total_seconds())}."]


def span(seconds: float) -> str:
    """`3 h 12 min`, `4 min 10 s`, `42 s`, `2 days 3 h`."""
    total = int(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h" if hours else f"{days} day{'s' if days != 1 else ''}"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def render_report(report: TokenReport) -> str:
    """Slack mrkdwn (also readable as plain text). Quotes only the bounded header values and the times."""
    lines = ["*JWT inspection* (signature not verified; the token is not stored or logged)"]
    lines.append(f"• Structure: {report.parts} part(s)" + (" — header.payload.signature" if report.parts == 3 else ""))
    if report.header:
        lines.append("• Header: " + ", ".join(f"{key} `{value}`" for key, value in report.header.items()))
    for claim, label in TIME_CLAIMS:
        if claim in report.times:
            lines.append(f"• {label} (`{claim}`): {report.times[claim]:%Y-%m-%d %H:%M:%S} UTC")
    lines += [f"• {note}" for note in report.notes]
    if report.problems:
        lines.append("*Problems:*")
        lines += [f"• {problem}" for problem in report.problems]
    else:
        lines.append("No problem in its format or times. If a service still answers 401, the signature "
                     "(kid, alg, signing key) or a blacklist after logout is the next suspect.")
    return "\n".join(lines)


def inspect_text(token: str, now: datetime | None = None, lifetime_s: int = 3600) -> str:
    """Inspect and render in one step (the Slack handler and the demo console)."""
    return render_report(inspect_token(token, now or datetime.now(UTC), lifetime_s))

