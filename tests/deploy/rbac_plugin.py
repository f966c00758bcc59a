"""Session-wide RBAC audit: every request the bot makes against any sandbox during the test run must be
allowed by `manifests/k8s/rbac.yaml`'s Role, or the run fails.

Registered by `tests/conftest.py`. It wraps `FakeCluster.record` (the sandbox apiserver's request log, which
every served request goes through) so requests from every sandbox in this process count, including those of
`opsbot run` subprocesses talking to an in-process sandbox. Only the bot's requests count (User-Agent, see
`tests.deploy.rbac`). That the Role grants nothing unused is checked by `test_rbac.py`, which exercises
every code path itself; a partial run (`pytest -k ...`) cannot tell "unused" from "not run".
"""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

from bot.sandbox.kube.cluster import FakeCluster
from bot.sandbox.kube.recording import RecordedRequest
from tests.deploy.rbac import Access, accesses, describe, is_bot_request, load_role, not_allowed


class RbacRecorder:
    def __init__(self) -> None:
        self.seen: dict[Access, str] = {}  # access -> the test that first made it
        self._lock = threading.Lock()  # sandboxes serve from their own threads
        self._original: Any = None

    def install(self) -> None:
        original = FakeCluster.record
        recorder = self

        def record(cluster: FakeCluster, request: RecordedRequest) -> None:
            original(cluster, request)
            if is_bot_request(request):
                recorder.add(request)

        self._original = original
        FakeCluster.record = record  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            FakeCluster.record = self._original  # type: ignore[method-assign]

    def add(self, request: RecordedRequest) -> None:
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]
        with self._lock:
            for access in accesses(request):
                self.seen.setdefault(access, test)

    def violations(self) -> list[Access]:
        return not_allowed(load_role(), self.seen)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.violations() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        bad = self.violations()
        if not bad:
            return
        terminalreporter.section("RBAC: bot requests the Role does not allow", red=True)
        terminalreporter.write_line("manifests/k8s/rbac.yaml must allow every request the bot makes:")
        terminalreporter.write_line(describe(f"{a}   (first in {self.seen[a]})" for a in bad))
