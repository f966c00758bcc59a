"""`opsbot bundle SERVICE [-o PATH]`: the support bundle written to disk, with a short summary printed."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from bot.config import OpsConfig, Settings

EXIT_USAGE = 2


def add_parser(sub: Any) -> None:
    bundle = sub.add_parser("bundle", help="write the support bundle for a service (redacted tar.gz)")
    bundle.add_argument("service")
    bundle.add_argument("-o", "--output", default=None,
                        help="archive path, or a directory to write it in (default: ./support-bundle-...tar.gz)")


async def run(settings: Settings, config: OpsConfig, args: argparse.Namespace) -> int:
    from bot.bundle import BundleRequest, bundle_window, compile_bundle, save_archive
    from bot.wiring import build_deps

    if args.service not in config.services:
        known = ", ".join(sorted(config.services))
        print(f"opsbot: unknown service {args.service[:64]!r}; known: {known}", file=sys.stderr)
        return EXIT_USAGE
    deps = build_deps(settings, config)
    try:
        await deps.approvals.store.open()
        request = BundleRequest(service=args.service, requester=f"cli:{getpass.getuser()}",
                                window=bundle_window(config), origin="cli")
        bundle = await compile_bundle(deps, request)
    finally:
        await deps.aclose()
    path = save_archive(bundle.archive, bundle.filename, args.output)
    print(f"wrote {path} ({len(bundle.archive):,} bytes)")
    print(bundle.summary_line)
    return 0
