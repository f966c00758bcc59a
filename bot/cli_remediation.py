"""`opsbot act` and `opsbot audit`: remediations and their trail from a terminal.

`act` takes the same path as a Slack approval after authorisation: it proposes (stored, audited), then
approves as the local operator `cli:<login>`, whose role checks are skipped but who is audited like
anyone else. Without `--yes`, or with `--dry-run` / OPSBOT_DRY_RUN, it only previews: no request is
stored (a stray pending one would supersede a proposal waiting in Slack), only the preview is audited.

Exit codes: 0 done (or previewed), 1 refused or failed, 2 bad input.
Heavy imports (clients, actions) happen inside the commands so `opsbot --help` stays fast.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.config import OpsConfig, Settings
from bot.config_sections import ACTION_NAMES

if TYPE_CHECKING:
    from bot.actions.base import Outcome, Preview
    from bot.approvals import Decision
    from bot.store.approvals import AuditRecord

EXIT_OK, EXIT_REFUSED, EXIT_BAD_INPUT = 0, 1, 2
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def cache_clash(settings: Settings) -> str | None:
    """`opsbot check-config`: why CACHE_REDIS_URL may not be the bot's own REDIS_URL database, or None.
    flush-cache would wipe the bot's locks, dedup and rate limits; the message names keys, never URLs."""
    from bot.sources.cache_admin import same_database

    cache, own = settings.cache_redis_url, settings.redis_url
    if cache is None or own is None or not same_database(cache.get_secret_value(), own.get_secret_value()):
        return None
    return ("CACHE_REDIS_URL: the same Redis database as REDIS_URL (the bot's own state); flush-cache would "
            "wipe it: point CACHE_REDIS_URL at the platform cache's DB")


def add_parsers(sub: Any) -> None:
    """Register `act` and `audit` on the `opsbot` subparsers (flags are stable interfaces, DESIGN.md)."""
    # The epilog is wrapped here, not by argparse, whose wrapping would split names at their hyphens.
    actions = textwrap.fill(", ".join(ACTION_NAMES), width=78, break_on_hyphens=False, initial_indent="  ",
                            subsequent_indent="  ")
    act = sub.add_parser("act", help="run one remediation: preview; execute only with --yes",
                         epilog=f"actions:\n{actions}", formatter_class=argparse.RawDescriptionHelpFormatter)
    act.add_argument("action", help="one of the actions listed below")
    act.add_argument("service")
    act.add_argument("--param", action="append", default=[], metavar="K=V", help="action parameter (repeatable)")
    act.add_argument("--dry-run", action="store_true", help="preview only, never execute")
    act.add_argument("--yes", action="store_true", help="execute after the preview")
    act.add_argument("--json", action="store_true", help="print machine-readable JSON")
    audit = sub.add_parser("audit", help="print the approvals audit trail")
    audit.add_argument("--service", default=None)
    audit.add_argument("--since", default=None, metavar="DURATION", help="e.g. 30m, 2h, 7d")
    audit.add_argument("--json", action="store_true", help="print machine-readable JSON")


def parse_params(items: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--param {item!r}: expected KEY=VALUE")
        if key.strip() in params:  # silently taking the last would run what the operator may not have meant
            raise ValueError(f"--param {key.strip()} given twice ({params[key.strip()]}, {value.strip()}): "
                             "give it once")
        params[key.strip()] = value.strip()
    return params


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"--since {text!r}: expected a duration like 30m, 2h or 7d")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor the password database
        return "unknown"


async def act(settings: Settings, config: OpsConfig, args: argparse.Namespace) -> int:
    from bot.approvals import Approver, BadProposal, DecisionKind, ProposalRefused
    from bot.approvals.decision import NothingToChange
    from bot.wiring import build_deps

    try:
        params = parse_params(args.param)
    except ValueError as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    if settings.database_url is None:
        print("opsbot: DATABASE_URL is not set: this run is audited in memory only", file=sys.stderr)
    operator = Approver.local_operator(_login())
    execute = args.yes and not (args.dry_run or settings.opsbot_dry_run)
    deps = build_deps(settings, config)
    report: dict[str, Any] = {"action": args.action, "service": args.service, "params": params,
                              "actor": operator.id, "dry_run": not execute, "executed": False,
                              "preview": None, "request": None, "decision": None}
    try:
        if not execute:
            _, preview = await deps.approvals.preview(args.action, args.service, params, audit_as=operator.id)
            report["preview"] = _preview_json(preview)
            _emit(args.json, report, [*_preview_text(preview), _not_executed(args, preview)])
            return EXIT_REFUSED if preview.blocked else EXIT_OK
        proposed = await deps.approvals.propose(args.action, args.service, params, requester=operator.id)
        report["preview"] = _preview_json(proposed.preview)
        decision = await deps.approvals.approve(proposed.request.id, operator)
    except BadProposal as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    except NothingToChange as exc:  # already as asked: not an error, and nothing was stored or run
        report["unchanged"] = str(exc)
        _emit(args.json, report, [f"Not executed: {exc}."])
        return EXIT_OK
    except ProposalRefused as exc:
        return _fail(str(exc), EXIT_REFUSED)
    finally:
        await deps.aclose()
    report["executed"] = decision.kind in (DecisionKind.SUCCEEDED, DecisionKind.FAILED)
    report["request"] = {"id": proposed.request.id, "status": decision.request.status if decision.request else None}
    report["decision"] = _decision_json(decision)
    _emit(args.json, report, _preview_text(proposed.preview) + _decision_text(decision, args.service)
          + _timed_revert_text(decision))
    return EXIT_OK if decision.kind is DecisionKind.SUCCEEDED else EXIT_REFUSED


async def audit(settings: Settings, config: OpsConfig, args: argparse.Namespace) -> int:
    from bot.store.approvals import ApprovalStoreError, approval_store_from_url

    try:
        since = datetime.now(UTC) - parse_duration(args.since) if args.since else None
    except ValueError as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    if settings.database_url is None:
        print("opsbot: DATABASE_URL is not set: the trail lives in the running bot's memory", file=sys.stderr)
    store = approval_store_from_url(settings.database_url.get_secret_value() if settings.database_url else None)
    try:
        rows = await store.audit(service=args.service, since=since)
    except ApprovalStoreError as exc:
        return _fail(str(exc), EXIT_REFUSED)
    finally:
        await store.aclose()
    if args.json:
        print(json.dumps([_record_json(row) for row in rows], indent=2))
    else:
        for row in rows:
            print(_record_text(row))
    return _audit_note(config, args, found=bool(rows))


def _audit_note(config: OpsConfig, args: argparse.Namespace, *, found: bool) -> int:
    """An empty answer says so on stderr (JSON stays a list); a service the config does not know is likely a
    typo, unless the trail has entries for it (a service since removed from the config)."""
    service = args.service
    unknown = service is not None and service not in config.services
    if found:
        if unknown:
            print(f"opsbot: note: {service} is not a configured service (entries from an earlier config)",
                  file=sys.stderr)
        return EXIT_OK
    since = f" in the last {args.since}" if args.since else ""
    if unknown:
        known = ", ".join(sorted(config.services))
        return _fail(f"no audit entries for {service}{since}: it is not a configured service (known: {known})",
                     EXIT_BAD_INPUT)
    what = f" for service {service}" if service else ""
    print(f"opsbot: no audit entries{what}{since}", file=sys.stderr)
    return EXIT_OK


def _fail(message: str, code: int) -> int:
    print(f"opsbot: {message}", file=sys.stderr)
    return code


def _emit(as_json: bool, report: dict[str, Any], lines: list[str]) -> None:
    print(json.dumps(report, indent=2) if as_json else "\n".join(lines))


def _not_executed(args: argparse.Namespace, preview: Preview) -> str:
    if preview.blocked:
        return "Cannot run now (see Blocked above): nothing executed, and --yes would be refused too."
    if preview.unchanged:
        return "Nothing executed: there is nothing to change, and --yes would not offer it either."
    if args.yes:
        why = "--dry-run" if args.dry_run else "OPSBOT_DRY_RUN is set"
        return f"Dry run ({why}): nothing executed."
    return "Nothing executed: add --yes to execute."


def _preview_json(preview: Preview) -> dict[str, Any]:
    return {"summary": preview.summary, "changes": list(preview.changes), "state": dict(preview.state),
            "blocked": preview.blocked, "unchanged": preview.unchanged}


def _preview_text(preview: Preview) -> list[str]:
    lines = [f"Preview: {preview.summary}", *(f"  - {change}" for change in preview.changes)]
    if preview.blocked:
        lines.append(f"Blocked: {preview.blocked}")
    return lines


def _outcome_json(outcome: Outcome | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    return {"ok": outcome.ok, "summary": outcome.summary, "detail": list(outcome.detail),
            "revert": outcome.revert.label if outcome.revert else None}


def _decision_json(decision: Decision) -> dict[str, Any]:
    return {"kind": decision.kind, "reason": decision.reason, "message": decision.message,
            "outcome": _outcome_json(decision.outcome)}


def _decision_text(decision: Decision, service: str) -> list[str]:
    lines = [decision.message]
    if decision.outcome is not None:
        lines.extend(f"  - {line}" for line in decision.outcome.detail)
        revert = decision.outcome.revert
        if revert is not None:
            params = "".join(f" --param {k}={v}" for k, v in sorted(revert.params.items()))
            lines.append(f"To undo: opsbot act {revert.action} {service}{params} --yes")
    return lines


def _timed_revert_text(decision: Decision) -> list[str]:
    """Who performs a timed change's revert: the `opsbot run` leader's scheduler (bot.timed_reverts reads the
    deployment's annotation), not this command, which has ended by then."""
    outcome = decision.outcome
    if outcome is None or outcome.reverts_at is None or outcome.dry_run:
        return []
    at = outcome.reverts_at.astimezone(UTC).strftime("%H:%M UTC")
    return [f"The revert runs at {at} by the opsbot run leader's scheduler: no leader is needed now, but one must "
            "be running then (if none is, the first leader elected after that reverts it)."]


def _record_json(record: AuditRecord) -> dict[str, Any]:
    entry = record.entry
    return {"seq": record.seq, "at": record.at.isoformat(), "actor": entry.actor, "event": entry.event,
            "request_id": entry.request_id, "action": entry.action, "service": entry.service,
            "params": dict(entry.params), "detail": entry.detail, "channel": entry.channel,
            "message_ts": entry.message_ts, "link": _link(entry.channel, entry.message_ts)}


def _link(channel: str | None, message_ts: str | None) -> str | None:
    from bot.approvals.trail import message_link

    return message_link(channel, message_ts) if channel and message_ts else None


_LIST_SHOWN = 3  # a list param longer than this reads as its first item and a count on the one-line display


def _shown_param(key: str, value: str) -> str:
    """`pids=2611,…(12)`: one line stays one line; the trail itself (and --json) keeps every value."""
    items = value.split(",")
    if len(items) <= _LIST_SHOWN:
        return f"{key}={value}"
    return f"{key}={items[0]},…({len(items)})"


def _record_text(record: AuditRecord) -> str:
    entry = record.entry
    params = " ".join(_shown_param(k, v) for k, v in sorted(entry.params.items()))
    what = " ".join(part for part in (entry.action, entry.service, params) if part)
    at = record.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    # The Slack message the buttons were in, as a link an operator can open.
    link = _link(entry.channel, entry.message_ts)
    where = f"  {link}" if link and link not in entry.detail else ""
    line = f"{at}  {entry.actor:<14} {entry.event:<10} {what}  {entry.request_id or '-'}  {entry.detail}{where}"
    return line.rstrip()
