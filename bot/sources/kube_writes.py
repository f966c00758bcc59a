"""Kubernetes writes for the remediations (scale, restart, undo, delete pod, env/limit patches, maintenance).

Every write takes `dry_run`: True sends the API server's server-side dry run (`dryRun=All`), which runs
admission and validation and returns the object as it would be, changing nothing; previews use it."""

from __future__ import annotations

from kubernetes import client


class KubeWriter:
    def __init__(self, api_client: client.ApiClient, timeout_s: float = 10.0) -> None:
        self._api = api_client
        self._timeout = (min(timeout_s, 3.0), timeout_s)
