"""The `opsbot` console script. Subcommands and flags are stable interfaces (DESIGN.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from bot import cli_bundle, cli_remediation
from bot.config import ConfigError, OpsConfig, Settings, load_ops_config, load_settings
from bot.logging_setup import configure, settings_secrets
from bot.sources.errors import SourceError

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opsbot", description="ChatOps for the platform troubleshooting guide.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="serve Slack (Socket Mode when SLACK_APP_TOKEN is set, else HTTP on $PORT)")
    sub.add_parser("demo", help="sandbox platform + console session, no Slack/PostgreSQL/Redis needed")
    sandbox = sub.add_parser("sandbox", help="run the sandbox platform (Kubernetes API + metrics API) standalone")
    sandbox.add_argument("--scenario", default="bad-deploy", help="scenario name (default bad-deploy)")
    sandbox.add_argument("--kube-port", type=int, default=0, help="port of the Kubernetes API (default: any free)")
    sandbox.add_argument("--metrics-port", type=int, default=0, help="port of the metrics API (default: any free)")
    sandbox.add_argument("--kubeconfig", default=None, help="where to write the kubeconfig (default: a temp file)")
    sandbox.add_argument("--api-key", default=None, help="require this X-API-Key on the metrics API")
    sandbox.add_argument("--list", action="store_true", help="list the scenarios and exit")
    diagnose = sub.add_parser("diagnose", help="one-shot diagnosis against the configured platform")
    diagnose.add_argument("service")
    diagnose.add_argument("symptom", nargs="*", help="symptom name or free words (errors, 5xx, slow, ...)")
    diagnose.add_argument("--json", action="store_true", help="print the findings as JSON")
    triage = sub.add_parser("triage", help="what triage makes of one Slack message event (JSON file or -)")
    triage.add_argument("source", nargs="?", default="-", help="FILE or - for stdin (default -)")
    triage.add_argument("--json", action="store_true", help="print the triage contract as JSON")
    sub.add_parser("check-config", help="validate settings and the ops config; non-zero naming the bad key")
    cli_remediation.add_parsers(sub)
    cli_bundle.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sandbox":
        from bot.sandbox.command import print_scenarios, run_sandbox

        if args.list:
            return print_scenarios()
        return run_sandbox(args.scenario, args.kube_port, args.metrics_port, args.kubeconfig, args.api_key)
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo(sys.stdin)
    try:
        settings = load_settings()
        config = load_ops_config(settings.opsbot_config)
    except ConfigError as exc:
        print(f"opsbot: configuration error:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    _configure_logging(settings)
    if args.command == "triage":
        from bot.triage.command import run_triage

        return run_triage(args.source, args.json, config)
    if args.command == "check-config":
        return _check_config(settings, config)
    if args.command == "diagnose":
        return asyncio.run(_diagnose(settings, config, args.service, " ".join(args.symptom), args.json))
    if args.command == "act":
        return asyncio.run(cli_remediation.act(settings, config, args))
    if args.command == "audit":
        return asyncio.run(cli_remediation.audit(settings, config, args))
    if args.command == "bundle":
        return asyncio.run(cli_bundle.run(settings, config, args))
    return _run(settings, config)


def _configure_logging(settings: Settings) -> None:
    # JSON lines when stderr is not a terminal (a pod, a pipe), text at a terminal; secrets masked either way.
    configure(settings.log_level, settings_secrets(settings))


def _check_config(settings: Settings, config: OpsConfig) -> int:
    missing = settings.missing_for_run()
    for key in missing:
        print(f"{key}: required for `opsbot run` (not set)", file=sys.stderr)
    for key, problem in _malformed_urls(settings):
        print(problem, file=sys.stderr)
        missing = [*missing, key]
    clash = cli_remediation.cache_clash(settings)
    if clash:
        print(clash, file=sys.stderr)
        missing = [*missing, "CACHE_REDIS_URL"]
    source = settings.opsbot_config or "packaged default"
    print(f"ops config: {source}: {len(config.services)} services, roles: "
          + ", ".join(f"{name}={len(m.users) + len(m.usergroups)}" for name, m in sorted(config.roles.items())))
    print("settings: " + ("ok" if not missing else f"{len(missing)} missing for opsbot run"))
    return 1 if missing else 0


def _malformed_urls(settings: Settings) -> list[tuple[str, str]]:
    """Connection strings the drivers cannot parse, named but never shown (they carry passwords); found here
    rather than at the first query in the middle of an incident."""
    from bot.sources.conninfo import ConnectionSetting

    urls = (("DATABASE_URL", settings.database_url, ConnectionSetting.postgres),
            ("TARGET_DATABASE_URL", settings.target_database_url, ConnectionSetting.postgres),
            ("REDIS_URL", settings.redis_url, ConnectionSetting.redis),
            ("CACHE_REDIS_URL", settings.cache_redis_url, ConnectionSetting.redis))
    found: list[tuple[str, str]] = []
    for key, value, parse in urls:
        problem = parse(key, value.get_secret_value()).malformed if value is not None else None
        if problem is not None:
            found.append((key, problem))
    return found


async def _diagnose(settings: Settings, config: OpsConfig, service: str, words: str, as_json: bool) -> int:
    from bot.diagnose_request import BadRequest, HelpRequest, JwtRequest, help_text, parse_diagnose
    from bot.jwt_inspect import inspect_text
    from bot.render.jsonout import diagnosis_json
    from bot.render.text import diagnosis_text
    from bot.wiring import build_deps

    deps = build_deps(settings, config)
    try:
        parsed = parse_diagnose(f"{service} {words}", config, deps.runnable)
        if isinstance(parsed, HelpRequest):
            print(help_text(config, deps.runnable))
            return 0
        if isinstance(parsed, BadRequest):
            print(f"opsbot: {parsed.message}", file=sys.stderr)
            return EXIT_CONFIG
        if isinstance(parsed, JwtRequest):
            print(inspect_text(parsed.token, lifetime_s=config.thresholds.token_lifetime_s))
            return 0
        diag = await deps.diagnose(parsed.service, parsed.symptom)
    finally:
        await deps.aclose()
    if as_json:
        print(json.dumps(diagnosis_json(diag), indent=2))
    else:
        print(diagnosis_text(diag, guide_link=config.guide_link, color=sys.stdout.isatty()))
    return 0


def _run(settings: Settings, config: OpsConfig) -> int:
    missing = settings.missing_for_run()
    if missing:
        print(f"opsbot: cannot serve Slack: {', '.join(missing)} not set", file=sys.stderr)
        return EXIT_CONFIG
    from bot.app import serve
    from bot.wiring import build_deps

    asyncio.run(serve(settings, build_deps(settings, config)))
    return 0


def entry() -> int:
    """Console-script wrapper: a closed pipe (`opsbot diagnose ... | head`) ends quietly."""
    try:
        return main()
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except SourceError as exc:
        # A platform source that cannot even be set up (no kubeconfig, say) is an operator error, not a crash.
        print(f"opsbot: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(entry())
