"""The demo console's `bundle SERVICE [-o PATH]`: the support bundle written to a file, its summary printed.

It uses the console's last diagnosis of the service when there is one (the findings of "the thread"), as
the Slack button does with its thread; otherwise the bundle runs the quick sweep itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.bundle import BundleRequest, bundle_window, compile_bundle, save_archive
from bot.model import Diagnosis
from bot.wiring import Deps

WORD = "bundle"
USAGE = "Usage: `bundle SERVICE [-o PATH]` — writes the support bundle (a redacted tar.gz) and prints its summary."
HELP = "*Support bundle:* `bundle SERVICE [-o PATH]` writes the archive support asks for (errors, request IDs, " \
       "changes, metrics; redacted)"


class DemoBundles:
    def __init__(self, deps: Deps, say: Callable[[str], None]) -> None:
        self.deps = deps
        self.say = say
        self.last: dict[str, Diagnosis] = {}

    def remember(self, diag: Diagnosis) -> None:
        self.last[diag.target.service] = diag

    def handles(self, line: str) -> bool:
        words = line.split()
        return bool(words) and words[0] == WORD

    async def handle(self, line: str) -> None:
        words = line.split()[1:]
        output: str | None = None
        if len(words) == 3 and words[1] in {"-o", "--output"}:
            output = words[2]
        elif len(words) != 1:
            self.say(USAGE)
            return
        service = words[0].lower()
        if service not in self.deps.config.services:
            self.say(f"I don't know a service called `{service[:64]}`. Known services: "
                     + ", ".join(f"`{s}`" for s in sorted(self.deps.config.services)) + ".")
            return
        self.say(f"[#ops-support] Compiling the support bundle for {service} — the archive follows.")
        request = BundleRequest(service=service, requester="console", window=bundle_window(self.deps.config),
                                diagnosis=self.last.get(service), origin="demo console")
        bundle = await compile_bundle(self.deps, request)
        path = await asyncio.to_thread(save_archive, bundle.archive, bundle.filename, output)
        self.say(f"  └─ thread: wrote {path} ({len(bundle.archive):,} bytes)")
        self.say(f"     {bundle.summary_line}")
