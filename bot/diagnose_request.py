"""Parsing `/diagnose ...` text into what to run. Pure: no I/O, no Slack.

Only validated values leave here: the service must be a configured platform service and the symptom a
member of the vocabulary, so nothing typed in chat ever reaches a selector, a query or a shell.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass, field

from bot.config import OpsConfig
from bot.model import Symptom
from bot.symptoms import exact_symptom, match_symptoms, words_for

MAX_TEXT = 500
# `/diagnose jwt <token>`: tokens run to a few KB, past MAX_TEXT; jwt_inspect bounds them itself.
JWT_WORD = "jwt"


@dataclass(frozen=True)
class DiagnoseRequest:
    service: str
    symptom: Symptom


@dataclass(frozen=True)
class HelpRequest:
    pass


@dataclass(frozen=True)
class BadRequest:
    message: str


@dataclass(frozen=True)
class JwtRequest:
    """`/diagnose jwt <token>`: inspect a pasted token privately. The token never shows in a repr (logs)."""

    token: str = field(repr=False)


Parsed = DiagnoseRequest | HelpRequest | BadRequest | JwtRequest

BUNDLE_WORD = "bundle"


@dataclass(frozen=True)
class BundleCommand:
    """`/diagnose bundle SERVICE`: compile the support bundle of a configured service."""

    service: str


def parse_bundle(text: str, config: OpsConfig) -> BundleCommand | BadRequest | None:
    """`bundle SERVICE` as a BundleCommand; None when the text is not a bundle command at all."""
    words = text.strip()[:MAX_TEXT].split()
    if not words or words[0].lower() != BUNDLE_WORD or BUNDLE_WORD in config.services:
        return None
    if len(words) < 2:
        return BadRequest("Usage: `/diagnose bundle SERVICE` — e.g. `/diagnose bundle auth-service`.")
    service = words[1].lower()
    if service not in config.services:
        return BadRequest(_unknown_service(words[1], config))
    return BundleCommand(service)


def parse_diagnose(text: str, config: OpsConfig, runnable: frozenset[Symptom]) -> Parsed:
    head = text.strip().split(None, 1)
    if head and head[0].lower() == JWT_WORD and JWT_WORD not in config.services:
        return JwtRequest(head[1].strip() if len(head) > 1 else "")
    words = text.strip()[:MAX_TEXT].split()
    if not words or words[0].lower() in {"help", "-h", "--help", "?"}:
        return HelpRequest()
    service = words[0].lower()
    if service not in config.services:
        return BadRequest(_unknown_service(words[0], config))
    symptom = _symptom(words[1:], runnable)
    if symptom is None:
        return BadRequest(
            f"I don't know the symptom `{' '.join(words[1:])[:80]}`. Try one of: "
            + ", ".join(sorted(s.value for s in runnable)) + ". `/diagnose help` lists the words I understand."
        )
    if symptom not in runnable:
        return BadRequest(
            f"`{symptom.value}` is a known symptom, but I can't diagnose it yet. Available: "
            + ", ".join(sorted(s.value for s in runnable)) + "."
        )
    return DiagnoseRequest(service, symptom)


def _symptom(words: list[str], runnable: frozenset[Symptom]) -> Symptom | None:
    if not words:
        # No symptom given: the quick sweep (the `unknown` runbook) over the cheap checks of every runbook.
        return Symptom.UNKNOWN if Symptom.UNKNOWN in runnable else Symptom.HIGH_ERROR_RATE
    # An exact name (`slow_queries`) wins; otherwise the whole text is matched, longest phrase first, so
    # `slow queries` is slow_queries rather than the high_latency its first word alone would mean.
    exact = exact_symptom(words[0])
    if exact is not None:
        return exact
    matched = match_symptoms(" ".join(words))
    return matched[0] if matched else None


def _unknown_service(word: str, config: OpsConfig) -> str:
    name = word[:64]
    close = difflib.get_close_matches(name.lower(), list(config.services), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(f'`{c}`' for c in close)}?" if close else ""
    known = ", ".join(f"`{s}`" for s in sorted(config.services))
    return f"I don't know a service called `{name}`.{hint} Known services: {known}."


def help_text(config: OpsConfig, runnable: frozenset[Symptom]) -> str:
    lines = [
        "*Usage:* `/diagnose SERVICE [SYMPTOM or words]` — e.g. `/diagnose auth-service errors`",
        "`/diagnose jwt TOKEN` — inspect a token privately (parts, alg, expiry); only you see the answer",
        "`/diagnose bundle SERVICE` — compile the support bundle (errors, request IDs, changes, metrics; redacted)",
        "`/diagnose act ACTION SERVICE [key=value ...]` — propose any remediation (e.g. `debug-logging`, "
        "`maintenance`, `scale-to-zero`) as approval buttons",
        "*Services:* " + ", ".join(f"`{s}`" for s in sorted(config.services)),
        "*Symptoms and the words I understand:*",
    ]
    for symptom in sorted(runnable - {Symptom.UNKNOWN}, key=lambda s: s.value):
        lines.append(f"• `{symptom.value}`: {', '.join(words_for(symptom))}")
    lines += ["*Examples:*", *(f"• `{example}`" for example in _examples(config, runnable))]
    return "\n".join(lines)


def _examples(config: OpsConfig, runnable: frozenset[Symptom]) -> list[str]:
    service = next(iter(sorted(config.services)), "SERVICE")
    candidates = [
        (f"/diagnose {service} errors", Symptom.HIGH_ERROR_RATE),
        (f"/diagnose {service} p95 is slow", Symptom.HIGH_LATENCY),
        (f"/diagnose {service} 503", Symptom.SERVICE_UNAVAILABLE),
        (f"/diagnose {service} too many clients", Symptom.DB_CONNECTION_EXHAUSTION),
        (f"/diagnose {service}  (no symptom: a quick sweep of the cheap checks, worst first)", Symptom.UNKNOWN),
    ]
    return [text for text, symptom in candidates if symptom in runnable]


ACT_WORD = "act"
# `k=v` as typed in chat: the action's own parser validates the value; this only keeps junk out early.
_PARAM_KEY = re.compile(r"^[a-z_]{1,32}$")
_PARAM_VALUE = re.compile(r"^[A-Za-z0-9_.:,+-]{1,64}$")
MAX_ACT_PARAMS = 4


@dataclass(frozen=True)
class ActCommand:
    """`/diagnose act ACTION SERVICE [k=v ...]`: propose any remediation as approval buttons in the channel."""

    action: str
    service: str
    params: tuple[tuple[str, str], ...] = ()


def parse_act(text: str, config: OpsConfig, actions: Collection[str]) -> ActCommand | BadRequest | None:
    """`act ACTION SERVICE [k=v ...]` as an ActCommand; None when the text is not an act command at all."""
    words = text.strip()[:MAX_TEXT].split()
    if not words or words[0].lower() != ACT_WORD or ACT_WORD in config.services:
        return None
    usage = ("Usage: `/diagnose act ACTION SERVICE [key=value ...]` — e.g. "
             "`/diagnose act debug-logging auth-service minutes=15`.")
    if len(words) < 3:
        return BadRequest(usage)
    action, service = words[1].lower(), words[2].lower()
    if action not in actions:
        return BadRequest(f"I don't know the action `{words[1][:40]}`. Known: "
                          + ", ".join(f"`{a}`" for a in sorted(actions)) + ".")
    if service not in config.services:
        return BadRequest(_unknown_service(words[2], config))
    pairs = [word.split("=", 1) for word in words[3:]]
    if len(pairs) > MAX_ACT_PARAMS or any(
        len(pair) != 2 or not _PARAM_KEY.match(pair[0]) or not _PARAM_VALUE.match(pair[1]) for pair in pairs
    ):
        return BadRequest(f"Parameters are `key=value` words (letters, digits, `.:,+-_`). {usage}")
    keys = [key for key, _ in pairs]
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:  # which one was meant is a guess; an approval must be for exactly what was asked
        given = ", ".join(f"{key}={value}" for key, value in pairs if key in twice)
        return BadRequest(f"{', '.join(twice)} given more than once ({given}): give each parameter once.")
    return ActCommand(action, service, tuple((key, value) for key, value in pairs))
