"""Mapping people's words ("errors", "5xx", "slow", "too many clients") onto the symptom vocabulary."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import yaml

from bot.model import Symptom


@cache
def _phrases() -> tuple[tuple[re.Pattern[str], Symptom], ...]:
    raw = yaml.safe_load(resources.files("bot").joinpath("symptom_words.yaml").read_text(encoding="utf-8"))
    pairs = [(str(word).lower(), Symptom(name)) for name, words in raw.items() for word in words]
    # Longest phrase first, so "too many clients" wins over "clients" and "slow queries" over "slow".
    pairs.sort(key=lambda pair: -len(pair[0]))
    return tuple((re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])"), symptom) for word, symptom in pairs)


def words_for(symptom: Symptom) -> list[str]:
    raw = yaml.safe_load(resources.files("bot").joinpath("symptom_words.yaml").read_text(encoding="utf-8"))
    return [str(word) for word in raw.get(symptom.value, [])]


def match_symptoms(text: str) -> list[Symptom]:
    """Every symptom the text names, in order of first mention; phrases consume their words."""
    remaining = text.lower()
    found: list[tuple[int, Symptom]] = []
    for pattern, symptom in _phrases():
        for match in pattern.finditer(remaining):
            found.append((match.start(), symptom))
        remaining = pattern.sub(lambda m: " " * len(m.group(0)), remaining)
    ordered: list[Symptom] = []
    for _, symptom in sorted(found, key=lambda pair: pair[0]):
        if symptom not in ordered:
            ordered.append(symptom)
    return ordered


def exact_symptom(word: str) -> Symptom | None:
    """The symptom whose vocabulary name this is (`high_error_rate`), else None."""
    try:
        return Symptom(word.strip().lower())
    except ValueError:
        return None
