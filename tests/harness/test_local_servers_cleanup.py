"""A throwaway server that cannot be set up leaves no temp dir behind, and the demo's platform data reports
a server binary that hangs past its timeout as unavailable (one line) instead of a traceback."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from bot.sandbox import local_servers
from bot.sandbox.local_servers import PostgresCluster, ServerStartError
from bot.sandbox.platform_data import platform_data

Completed = subprocess.CompletedProcess[str]


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """mkdtemp's directories go here, so a test sees exactly what was left behind."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_no_owner_for_the_cluster_leaves_no_directory(temp_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_postgres_user() -> tuple[list[str], int | None, int | None]:
        raise ServerStartError("running as root but OS user 'postgres' does not exist")

    monkeypatch.setattr(local_servers, "_as_owner_prefix", no_postgres_user)
    with pytest.raises(ServerStartError, match="does not exist"):
        PostgresCluster(name="ownerless")
    assert list(temp_root.iterdir()) == []


def test_a_failed_chown_removes_the_directory_it_made(temp_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: object, uid: int, gid: int) -> None:
        raise PermissionError(1, "Operation not permitted", str(path))

    monkeypatch.setattr(local_servers, "_as_owner_prefix", lambda: ([], 4242, 4242))
    monkeypatch.setattr(local_servers.os, "chown", refuse)
    with pytest.raises(PermissionError):
        PostgresCluster(name="unchowned")
    assert list(temp_root.iterdir()) == []


def test_a_server_binary_past_its_timeout_makes_the_platform_data_unavailable(
    temp_root: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An initdb that never finishes (exec: the timeout's kill reaches the sleeping process itself), run as
    # ourselves, under a tiny timeout: PostgresCluster.run raises subprocess.TimeoutExpired.
    bin_dir = tmp_path_factory.mktemp("hanging-pg-bin")
    initdb = bin_dir / "initdb"
    initdb.write_text("#!/bin/sh\nexec sleep 30\n")
    initdb.chmod(0o755)
    monkeypatch.setattr(local_servers, "find_pg_bin_dir", lambda: bin_dir)
    monkeypatch.setattr(local_servers, "_as_owner_prefix", lambda: ([], None, None))
    run = PostgresCluster.run

    def hurried(self: PostgresCluster, binary: str, *args: str, timeout: float = 60) -> Completed:
        return run(self, binary, *args, timeout=0.2)

    monkeypatch.setattr(PostgresCluster, "run", hurried)
    reasons: list[str] = []
    with platform_data(reasons.append) as data:
        assert data is None
        assert len(reasons) == 1 and "timed out after 0.2 seconds" in reasons[0], reasons
    assert list(temp_root.iterdir()) == []  # the cluster's and the redis server's directories are gone
