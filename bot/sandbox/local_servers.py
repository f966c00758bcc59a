"""Throwaway PostgreSQL clusters and Redis servers started from the installed binaries.

Integration tests run against real servers (DESIGN.md, Testing), and `opsbot demo` seeds a small
platform database and cache on them (bot.sandbox.platform_data). These helpers start small, fast,
disposable ones on free ports under a temp dir, and raise ``ServerStartError`` with the server's log
tail when that fails, so fixtures can fail loudly instead of skipping and the demo can say why.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg

PG_USER = "postgres"
# initdb refuses to run as root; when we are root, the cluster is owned by this OS account.
PG_OS_USER = "postgres"


class ServerStartError(RuntimeError):
    """A throwaway server could not be started; the message carries the reason and the log tail."""


def free_port() -> int:
    """A port that was free a moment ago (the kernel picks it; small race, retried by callers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"


def find_pg_bin_dir() -> Path:
    """Directory holding initdb/pg_ctl/postgres: PATH first, then /usr/lib/postgresql/<newest>/bin."""
    initdb = shutil.which("initdb")
    if initdb:
        # Debian puts wrapper symlinks on PATH; the sibling binaries live next to the real file.
        real = Path(os.path.realpath(initdb)).parent
        if (real / "pg_ctl").exists() and (real / "postgres").exists():
            return real
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
    )
    for cand in reversed(candidates):
        if (Path(cand) / "initdb").exists():
            return Path(cand)
    raise ServerStartError(
        "PostgreSQL binaries not found (no initdb on PATH or in /usr/lib/postgresql/*/bin)"
    )


def _as_owner_prefix() -> tuple[list[str], int | None, int | None]:
    """Command prefix and uid/gid for running PostgreSQL binaries as a non-root user."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        entry = pwd.getpwnam(PG_OS_USER)
    except KeyError as exc:
        raise ServerStartError(f"running as root but OS user {PG_OS_USER!r} does not exist") from exc
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", PG_OS_USER, "--"], entry.pw_uid, entry.pw_gid
    return ["su", PG_OS_USER, "-s", "/bin/sh", "-c"], entry.pw_uid, entry.pw_gid


class PostgresCluster:
    """One throwaway cluster: initdb + pg_ctl start on a free port; ``stop()`` deletes everything.

    Settings trade durability for start-up speed (fsync off, tiny shared buffers): the data is
    thrown away anyway. ``pg_stat_statements`` is preloaded because diagnosis reads it.
    """

    def __init__(self, *, extra_settings: dict[str, str] | None = None, name: str = "pg") -> None:
        self.bin_dir = find_pg_bin_dir()
        self.port = 0
        self.extra_settings = dict(extra_settings or {})
        # The owner first: it can fail (root without a postgres OS user) before there is a directory to leak.
        self._prefix, uid, gid = _as_owner_prefix()
        self._uid, self._gid = uid, gid
        self.base_dir = Path(tempfile.mkdtemp(prefix=f"opsbot-{name}-"))
        self.data_dir = self.base_dir / "data"
        self.socket_dir = self.base_dir / "sock"
        self.log_path = self.base_dir / "server.log"
        try:
            self.socket_dir.mkdir()
            if uid is not None and gid is not None:
                for path in (self.base_dir, self.socket_dir):
                    os.chown(path, uid, gid)
        except BaseException:
            # No caller holds this object yet to stop() it: the directory goes here or never.
            shutil.rmtree(self.base_dir, ignore_errors=True)
            raise
        self.started = False
        self.startup_seconds = 0.0

    # -- commands ------------------------------------------------------------------------------
    def run(self, binary: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL binary (initdb, pg_ctl, pg_basebackup...) as the cluster's owner."""
        argv = [str(self.bin_dir / binary), *args]
        if self._prefix and self._prefix[0] == "su":
            argv = [*self._prefix, " ".join(_shell_quote(a) for a in argv)]
        else:
            argv = [*self._prefix, *argv]
        # argv: an installed binary and this module's own flags and temp paths, never user or chat text.
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603

    def _check(self, proc: subprocess.CompletedProcess[str], what: str) -> None:
        if proc.returncode != 0:
            raise ServerStartError(
                f"{what} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n"
                f"--- server log tail ---\n{_tail(self.log_path)}"
            )

    def settings(self) -> dict[str, str]:
        base = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "shared_preload_libraries": "pg_stat_statements",
            "max_connections": "100",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "16MB",
            "logging_collector": "off",
        }
        base.update(self.extra_settings)
        return base

    def initdb(self) -> None:
        proc = self.run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            PG_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",  # the cluster is disposable; skipping fsync saves most of initdb's time
            "--no-instructions",
        )
        self._check(proc, "initdb")

    def start(self, *, initdb: bool = True, attempts: int = 3) -> Self:
        t0 = time.monotonic()
        if initdb:
            self.initdb()
        for attempt in range(attempts):
            self.port = free_port()
            opts = " ".join(f"-c {k}={_shell_quote(v)}" for k, v in self.settings().items())
            proc = self.run(
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_path),
                "-o",
                opts,
                "-w",
                "-t",
                "30",
                "start",
            )
            if proc.returncode == 0:
                break
            # A port grabbed by someone else between free_port() and bind is the usual transient cause.
            if attempt == attempts - 1 or "could not bind" not in _tail(self.log_path):
                self._check(proc, "pg_ctl start")
        self.started = True
        self._wait_ready()
        self.startup_seconds = time.monotonic() - t0
        return self

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.dsn(), connect_timeout=2, autocommit=True) as conn:
                    conn.execute("SELECT 1")
                    return
            except psycopg.Error as exc:
                # A standby rejects connections until it has replayed to consistency; keep polling.
                last = exc
                time.sleep(0.05)
        raise ServerStartError(f"server did not accept connections: {last}\n{_tail(self.log_path)}")

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{dbname}"

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)

    def create_standby(self, *, name: str = "standby") -> PostgresCluster:
        """A streaming replica of this cluster (pg_basebackup -R -X stream), started and ready.

        For replication-lag tests: on the standby, ``SELECT pg_wal_replay_pause()`` then write on
        the primary, and ``pg_stat_replication`` on the primary shows the replay lag grow.
        """
        standby = PostgresCluster(extra_settings={**self.extra_settings, "hot_standby": "on"}, name=name)
        proc = standby.run(
            "pg_basebackup",
            "-D",
            str(standby.data_dir),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            PG_USER,
            "-R",
            "-X",
            "stream",
            "--no-sync",
            "--checkpoint=fast",
        )
        try:
            standby._check(proc, "pg_basebackup")
            standby.start(initdb=False)
        except BaseException:
            standby.stop()
            raise
        return standby

    def stop(self) -> None:
        if self.started:
            # Immediate: no shutdown checkpoint; the directory is deleted right after anyway.
            self.run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop", timeout=30)
            self.started = False
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _shell_quote(value: str) -> str:
    # pg_ctl -o passes its string through /bin/sh; quote anything that is not plainly safe.
    if value and all(c.isalnum() or c in "-_./=:," for c in value):
        return value
    return "'" + value.replace("'", "'\"'\"'") + "'"


class RedisServer:
    """A throwaway ``redis-server`` without persistence on a free port."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServerStartError("redis-server binary not found on PATH")
        self.binary = binary
        self.port = 0
        self.base_dir = Path(tempfile.mkdtemp(prefix="opsbot-redis-"))
        self.log_path = self.base_dir / "redis.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, attempts: int = 3) -> Self:
        t0 = time.monotonic()
        for attempt in range(attempts):
            self.port = free_port()
            with self.log_path.open("ab") as log:
                # argv: the redis-server on PATH with fixed flags, a free port and our temp dir.
                self._proc = subprocess.Popen(  # noqa: S603
                    [
                        self.binary,
                        "--port",
                        str(self.port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        str(self.base_dir),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            try:
                self._wait_ping()
                break
            except ServerStartError:
                self._kill()
                if attempt == attempts - 1:
                    raise
        self.startup_seconds = time.monotonic() - t0
        return self

    def _wait_ping(self, timeout: float = 10) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ServerStartError(
                    f"redis-server exited with {self._proc.returncode}\n{_tail(self.log_path)}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return
            except OSError as exc:
                last = str(exc)
            time.sleep(0.02)
        raise ServerStartError(f"redis-server did not answer PING: {last}\n{_tail(self.log_path)}")

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=10)
        self._proc = None

    def stop(self) -> None:
        self._kill()
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
