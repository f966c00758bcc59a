"""`opsbot demo`: the sandbox platform in-process and a console session against it.

Interactive on a TTY; with piped stdin, one command per line and a printed transcript; with no input,
a scripted tour. Needs no Slack and no PostgreSQL or Redis of yours: the bot's own state is in memory. When
the PostgreSQL and redis-server binaries are installed, the platform's database and cache are throwaway
local servers seeded by bot.sandbox.platform_data, so flush-cache, terminate-idle and cancel-query really
run; without them those actions preview as not configured and everything else works the same.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import TextIO

from bot.config import Settings, load_ops_config
from bot.demo_approvals import BUDDY, DemoApprovals, demo_config
from bot.demo_approvals import HELP as APPROVALS_HELP
from bot.demo_bundle import HELP as BUNDLE_HELP
from bot.demo_bundle import DemoBundles
from bot.diagnose_request import JWT_WORD, BadRequest, HelpRequest, JwtRequest, help_text, parse_diagnose
from bot.jwt_inspect import inspect_text
from bot.remediation import build_remediation
from bot.render import symptom_words
from bot.render.text import diagnosis_text
from bot.sandbox.platform_data import PlatformData, platform_data
from bot.sandbox.runner import Sandbox
from bot.wiring import Deps, build_deps

TOUR = (
    "/diagnose help",
    "/diagnose auth-service errors",
    "click 1",
    "approve 1",
    "/diagnose api-gateway 5xx",
    "/diagnose auth-servce errors",
)
# Played after TOUR when the local database and cache are up: the actions on data. Numbers run on from
# TOUR's for the whole session (TOUR offers [1] the rollback and [2] its revert): the diagnosis offers [3]
# (cancel the report job's query); each `propose` adds the next number.
DATA_TOUR = (
    "/diagnose api-gateway slow queries",
    "click 3",
    "approve 3",
    "propose terminate-idle api-gateway",
    "click 4",
    "approve 4",
    f"as {BUDDY} approve 4",
    "propose flush-cache api-gateway",
    "approve 5",
    f"as {BUDDY} approve 5",
)
PROMPT = "opsbot> "
_NO_DATA = "Database and cache actions (flush-cache, terminate-idle, cancel-query) are unavailable here: {why}."


class Console:
    """One person's session: the commands they type and what the bot would post in Slack."""

    def __init__(self, deps: Deps, out: TextIO, color: bool) -> None:
        self.deps = deps
        self.out = out
        self.color = color
        self.approvals = DemoApprovals(build_remediation(deps), self.say, deps.config)
        self.bundles = DemoBundles(deps, self.say)

    async def aclose(self) -> None:
        await self.approvals.flow.cancel_pending()
        await self.deps.aclose()

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    async def handle(self, line: str) -> bool:
        """Run one command; False when the session should end."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        if line in {"quit", "exit"}:
            return False
        if line in {"help", "?"}:
            line = "/diagnose help"
        if self.approvals.handles(line):  # before /diagnose: `/diagnose act ...` proposes, as in Slack
            await self.approvals.handle(line)
        elif line.startswith("/diagnose"):
            await self._diagnose(line.removeprefix("/diagnose"))
        elif self.bundles.handles(line):
            await self.bundles.handle(line)
        else:
            self.say("I understand `/diagnose SERVICE [SYMPTOM]`, `propose ACTION SERVICE [key=value ...]`, "
                     "`click N`, `approve N`, `deny N`, `as USER approve N`, `bundle SERVICE [-o PATH]`, `help` "
                     "and `quit`.")
        return True

    async def _diagnose(self, text: str) -> None:
        parsed = parse_diagnose(text, self.deps.config, self.deps.runnable)
        if isinstance(parsed, HelpRequest):
            usage = help_text(self.deps.config, self.deps.runnable)
            self.say(f"[only you can see this]\n{usage}\n{APPROVALS_HELP}\n{BUNDLE_HELP}")
            return
        if isinstance(parsed, BadRequest):
            self.say(f"[only you can see this] {parsed.message}")
            return
        if isinstance(parsed, JwtRequest):
            lifetime = self.deps.config.thresholds.token_lifetime_s
            self.say(f"[only you can see this]\n{inspect_text(parsed.token, lifetime_s=lifetime)}")
            return
        self.say(f"[only you can see this] Diagnosing {parsed.service} ({parsed.symptom.value}) — findings follow.")
        self.say(f"[#ops-support] Diagnosing {parsed.service} — {symptom_words(parsed.symptom)}")
        diag = await self.deps.diagnose(parsed.service, parsed.symptom)
        self.bundles.remember(diag)
        self.say("  └─ thread:")
        self.say(_indent(diagnosis_text(diag, guide_link=self.deps.config.guide_link, color=self.color)))
        await self.approvals.offer(diag)


def _indent(text: str) -> str:
    return "\n".join(f"     {line}" if line else "" for line in text.splitlines())


def _sandbox_settings(
    sandbox: Sandbox, kubeconfig: Path, ops_config: Path, data: PlatformData | None
) -> Settings:
    # Explicit values win over the environment: the demo must never reach a real cluster, database or Redis.
    # The platform database and cache are the throwaway local ones, or none at all.
    return Settings(
        _env_file=None,
        kubeconfig=str(kubeconfig),
        metrics_api_url=sandbox.metrics_url,
        metrics_api_key=None,
        redis_url=None,
        database_url=None,
        target_database_url=data.database_url if data else None,
        cache_redis_url=data.cache_url if data else None,
        opsbot_config=ops_config,
        k8s_namespace="default",
    )


def open_console(sandbox: Sandbox, kubeconfig: Path, data: PlatformData | None, out: TextIO) -> Console:
    """A console on the sandbox (and the local platform database and cache, if any); `aclose()` it."""
    # The sandbox's ops-config overlay points the DNS checks at its DNS server, never the host's resolver.
    ops_config = sandbox.write_ops_config(kubeconfig.with_name("opsbot-sandbox.yaml"))
    settings = _sandbox_settings(sandbox, kubeconfig, ops_config, data)
    # demo_config: the console's people are admins (in memory), so `approve N` can run the proposals.
    deps = build_deps(settings, demo_config(load_ops_config(ops_config)))
    return Console(deps, out, color=out.isatty())


async def _session(
    sandbox: Sandbox, kubeconfig: Path, data: PlatformData | None, lines: Iterable[str] | AsyncIterator[str],
    *, echo: bool, out: TextIO,
) -> None:
    console = open_console(sandbox, kubeconfig, data, out)
    try:
        async for line in _each(lines):
            if echo:
                console.say(f"\n{PROMPT}{_echoable(line)}")
            if not await console.handle(line):
                break
    finally:
        await console.aclose()


def _echoable(line: str) -> str:
    """The command as a transcript echoes it: a token pasted after `/diagnose jwt` is never printed back."""
    words = line.strip().split(None, 2)
    if len(words) == 3 and words[0] == "/diagnose" and words[1].lower() == JWT_WORD:
        return f"{words[0]} {words[1]} <token hidden>"
    return line.rstrip()


async def _each(lines: Iterable[str] | AsyncIterator[str]) -> AsyncIterator[str]:
    if isinstance(lines, AsyncIterator):
        async for line in lines:
            yield line
    else:
        for line in lines:
            yield line


async def _interactive_lines() -> AsyncIterator[str]:
    # input() waits on a person; in a worker thread it never holds up the event loop.
    while True:
        try:
            yield await asyncio.to_thread(input, PROMPT)
        except EOFError:
            return


def run_demo(stdin: TextIO | None, out: TextIO = sys.stdout) -> int:
    interactive = stdin is not None and stdin.isatty()
    piped = [] if interactive or stdin is None else stdin.read().splitlines()
    print("opsbot demo — sandbox platform (scenario bad-deploy), in-memory state, no Slack needed.", file=out)
    # The platform data first: its seeded sessions and report query age while the sandbox starts, which the
    # demo's 1 s thresholds (demo_config) need before the first command can see them.
    with (
        platform_data(lambda why: print(_NO_DATA.format(why=why), file=out)) as data,
        tempfile.TemporaryDirectory(prefix="opsbot-demo-") as tmp,
        Sandbox("bad-deploy") as sandbox,
    ):
        kubeconfig = sandbox.write_kubeconfig(Path(tmp) / "kubeconfig")
        if data is not None:
            print(f"With a {data.summary()}.", file=out)
        if interactive:
            print("Type `/diagnose auth-service errors`, `help` or `quit`.", file=out)
            lines: Iterable[str] | AsyncIterator[str] = _interactive_lines()
        elif any(line.strip() for line in piped):
            lines = piped
        else:
            print("No input given: playing the scripted tour.", file=out)
            lines = TOUR + DATA_TOUR if data is not None else TOUR
        asyncio.run(_session(sandbox, kubeconfig, data, lines, echo=not interactive, out=out))
    return 0
