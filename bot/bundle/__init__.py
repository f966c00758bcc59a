"""The support bundle the guide's "Getting Help" asks for: service and version, errors and stack traces,
request IDs of failed requests, recent changes, logs and metrics — collected through the sources,
redacted, bounded, and packed as one archive (`summary.md`, `bundle.json`, `manifest.json`).

`compile_bundle(deps, request)` is the one entry point; the Slack handler, the CLI and the demo console
only decide where the archive goes.
"""

from bot.bundle.build import compile_bundle, process
from bot.bundle.package import save_archive
from bot.bundle.request import Bundle, BundleRequest, bundle_window

__all__ = ["Bundle", "BundleRequest", "bundle_window", "compile_bundle", "process", "save_archive"]
