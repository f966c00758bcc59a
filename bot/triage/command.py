"""`opsbot triage [FILE or -] [--json]`: what triage makes of one Slack message event."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.config import OpsConfig
from bot.triage.route import triage_event

EXIT_BAD_INPUT = 2
MAX_INPUT_BYTES = 5_000_000


def _read(source: str, stdin: TextIO) -> str:
    if source == "-":
        return stdin.read(MAX_INPUT_BYTES)
    with Path(source).open(encoding="utf-8") as handle:
        return handle.read(MAX_INPUT_BYTES)


def run_triage(source: str, as_json: bool, config: OpsConfig, stdin: TextIO = sys.stdin) -> int:
    try:
        event: Any = json.loads(_read(source, stdin))
    except OSError as exc:
        print(f"opsbot triage: cannot read {source}: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as exc:
        print(f"opsbot triage: not JSON: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not isinstance(event, dict):
        print("opsbot triage: expected a message event object or an Events API envelope", file=sys.stderr)
        return EXIT_BAD_INPUT
    result = triage_event(event, config)
    if as_json:
        print(json.dumps(result.to_json()))
        return 0
    if not result.triage:
        print(f"not triaged: {result.reason}")
        return 0
    services = ", ".join(result.services) or "no platform service named"
    print(f"triage: {result.status or 'status unknown'} {result.symptom.value} on {services}"
          f" (source {result.source}, severity {result.severity or 'not stated'})")
    if result.request_ids:
        print("request IDs: " + ", ".join(result.request_ids))
    return 0
