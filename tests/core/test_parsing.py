"""Free words onto the symptom vocabulary, and `/diagnose` text onto validated requests."""

import pytest

from bot.actions import ACTIONS
from bot.config import load_ops_config
from bot.diagnose_request import (
    ActCommand,
    BadRequest,
    DiagnoseRequest,
    HelpRequest,
    help_text,
    parse_act,
    parse_diagnose,
)
from bot.model import Symptom
from bot.symptoms import exact_symptom, match_symptoms

CONFIG = load_ops_config(None)
RUNNABLE = frozenset({Symptom.HIGH_ERROR_RATE})


@pytest.mark.parametrize(
    ("text", "symptom"),
    [
        ("errors", Symptom.HIGH_ERROR_RATE), ("5xx", Symptom.HIGH_ERROR_RATE), ("slow", Symptom.HIGH_LATENCY),
        ("p95", Symptom.HIGH_LATENCY), ("oom", Symptom.MEMORY_LEAK), ("503", Symptom.SERVICE_UNAVAILABLE),
        ("FATAL: sorry, too many clients", Symptom.DB_CONNECTION_EXHAUSTION), ("lag", Symptom.REPLICATION_LAG),
        ("slow queries", Symptom.SLOW_QUERIES), ("Invalid JWT", Symptom.INVALID_JWT),
        ("403 forbidden", Symptom.PERMISSION_DENIED), ("could not resolve host", Symptom.DNS_FAILURE),
        ("timed out", Symptom.TIMEOUT), ("CrashLoopBackOff", Symptom.CRASH_LOOP),
        ("cpu", Symptom.CPU_SATURATION), ("readiness probe", Symptom.FAILED_HEALTH_CHECK),
    ],
)
def test_free_words_map_onto_the_vocabulary(text: str, symptom: Symptom) -> None:
    assert match_symptoms(text)[0] is symptom


def test_words_inside_other_words_do_not_match() -> None:
    assert match_symptoms("the errorless slowpoke") == []
    assert match_symptoms("auth-service") == []


def test_exact_vocabulary_names_are_accepted() -> None:
    assert exact_symptom("high_error_rate") is Symptom.HIGH_ERROR_RATE
    assert exact_symptom("nonsense") is None and match_symptoms("nonsense") == []


def test_diagnose_request_with_words() -> None:
    assert parse_diagnose("auth-service errors", CONFIG, RUNNABLE) == DiagnoseRequest(
        "auth-service", Symptom.HIGH_ERROR_RATE)
    assert parse_diagnose("  Auth-Service   5xx since deploy ", CONFIG, RUNNABLE) == DiagnoseRequest(
        "auth-service", Symptom.HIGH_ERROR_RATE)
    assert parse_diagnose("api-gateway", CONFIG, RUNNABLE) == DiagnoseRequest("api-gateway", Symptom.HIGH_ERROR_RATE)


def test_help_and_empty_text() -> None:
    assert isinstance(parse_diagnose("", CONFIG, RUNNABLE), HelpRequest)
    assert isinstance(parse_diagnose("help", CONFIG, RUNNABLE), HelpRequest)
    text = help_text(CONFIG, RUNNABLE)
    assert "high_error_rate" in text and "5xx" in text and "auth-service" in text


def test_unknown_service_suggests_the_nearest_names() -> None:
    result = parse_diagnose("auth-servce errors", CONFIG, RUNNABLE)
    assert isinstance(result, BadRequest)
    assert "`auth-service`" in result.message and "Did you mean" in result.message


def test_unknown_and_not_yet_runnable_symptoms_are_refused_clearly() -> None:
    unknown = parse_diagnose("auth-service banana", CONFIG, RUNNABLE)
    assert isinstance(unknown, BadRequest) and "banana" in unknown.message
    later = parse_diagnose("auth-service slow", CONFIG, RUNNABLE)
    assert isinstance(later, BadRequest) and "high_latency" in later.message


def test_hostile_text_never_reaches_the_request() -> None:
    result = parse_diagnose("auth-service;kubectl delete ns default errors", CONFIG, RUNNABLE)
    assert isinstance(result, BadRequest)
    long = parse_diagnose("x" * 10_000, CONFIG, RUNNABLE)
    assert isinstance(long, BadRequest) and len(long.message) < 600


def test_no_symptom_means_the_quick_sweep_when_it_exists() -> None:
    with_sweep = RUNNABLE | {Symptom.UNKNOWN}
    assert parse_diagnose("api-gateway", CONFIG, with_sweep) == DiagnoseRequest("api-gateway", Symptom.UNKNOWN)
    text = help_text(CONFIG, with_sweep)
    assert "quick sweep" in text and "`unknown`" not in text


def test_help_examples_only_name_runnable_symptoms() -> None:
    text = help_text(CONFIG, RUNNABLE)
    assert "/diagnose api-gateway errors" in text
    assert "503" not in text.split("*Examples:*")[1]


@pytest.mark.parametrize(
    ("text", "symptom"),
    [
        ("api-gateway slow queries", Symptom.SLOW_QUERIES),
        ("api-gateway slow", Symptom.HIGH_LATENCY),
        ("api-gateway too many clients", Symptom.DB_CONNECTION_EXHAUSTION),
        ("api-gateway readiness probe failing", Symptom.FAILED_HEALTH_CHECK),
        ("api-gateway slow_queries", Symptom.SLOW_QUERIES),
    ],
)
def test_a_phrase_in_the_command_wins_over_its_first_word(text: str, symptom: Symptom) -> None:
    # `slow queries` must not be read as high latency because its first word alone means that.
    assert parse_diagnose(text, CONFIG, frozenset(Symptom)) == DiagnoseRequest("api-gateway", symptom)


def test_act_refuses_a_parameter_given_twice() -> None:
    twice = parse_act("act scale auth-service replicas=5 replicas=7", CONFIG, set(ACTIONS))
    assert isinstance(twice, BadRequest) and "replicas given more than once (replicas=5, replicas=7)" in twice.message
    once = parse_act("act scale auth-service replicas=5", CONFIG, set(ACTIONS))
    assert once == ActCommand("scale", "auth-service", (("replicas", "5"),))
