"""Runs `opsbot run` as a real subprocess in HTTP mode, for end-to-end tests and the benchmark."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from bot.sandbox.local_servers import free_port


def opsbot_executable() -> str:
    beside = Path(sys.executable).with_name("opsbot")
    found = str(beside) if beside.exists() else shutil.which("opsbot")
    if not found:
        raise RuntimeError("no `opsbot` console script: run `make install`")
    return found


class BotProcess:
    """`opsbot run` with the given environment; waits for /healthz, keeps its log for failure messages."""

    def __init__(self, env: dict[str, str], startup_timeout: float = 20.0) -> None:
        self.port = free_port()
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPSBOT_", "REDIS", "DATABASE"))}
        self.env = {**base, "PORT": str(self.port), "LOG_LEVEL": "INFO", **env}
        self.startup_timeout = startup_timeout
        self._log = tempfile.NamedTemporaryFile(prefix="opsbot-run-", suffix=".log", delete=False)  # noqa: SIM115
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    def log(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def start(self) -> Self:
        self.proc = subprocess.Popen(
            [opsbot_executable(), "run"], env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
            cwd=tempfile.gettempdir(),
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"opsbot run exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"opsbot run did not answer /healthz within {self.startup_timeout}s:\n{self.log()}")

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        os.unlink(self._log.name)
