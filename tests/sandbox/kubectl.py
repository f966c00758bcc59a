"""The real kubectl, run against a sandbox apiserver: the reference the bot's kubectl-like writes are held to.

kubectl is a test prerequisite like PostgreSQL and Redis (.ci/run installs Debian's kubernetes-client when
it is missing): without it the tests that need it fail, they never skip. Only flags kubectl 1.20 already
had are used, so Debian bookworm's kubectl and a current one run the same commands.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from bot.sandbox.runner import kubeconfig


def kubectl_binary() -> str:
    """kubectl from PATH (or $KUBECTL); a missing one fails the test with how to get it."""
    found = shutil.which(os.environ.get("KUBECTL", "kubectl"))
    if found is None:
        pytest.fail("kubectl not found on PATH (set KUBECTL or install it: apt-get install kubernetes-client); "
                    "the tests comparing opsbot with the real kubectl need it", pytrace=False)
    return found


def write_kubeconfig(path: Path, server: str, namespace: str = "default") -> Path:
    """The sandbox's own kubeconfig (`bot.sandbox.runner.kubeconfig`) for `server`, written to `path`."""
    path.write_text(yaml.safe_dump(kubeconfig(server, namespace), sort_keys=False), encoding="utf-8")
    return path


def run_kubectl(server: str, *args: str, namespace: str = "default",
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `kubectl ARGS` against `server`: an argv list, never a shell string.

    Each run gets its own kubeconfig and discovery cache in a temp dir: the user's ~/.kube is neither
    read nor written, and a port reused by a later sandbox never sees a stale cache."""
    binary = kubectl_binary()
    with tempfile.TemporaryDirectory(prefix="opsbot-kubectl-") as scratch:
        config_path = write_kubeconfig(Path(scratch) / "kubeconfig", server, namespace)
        env = {**os.environ, "KUBECONFIG": str(config_path)}
        argv = [binary, f"--cache-dir={scratch}/cache", f"--namespace={namespace}", *args]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def kubectl(server: str, *args: str, namespace: str = "default", timeout: float = 60) -> str:
    """`run_kubectl`'s stdout; a non-zero exit fails the test with kubectl's stderr."""
    proc = run_kubectl(server, *args, namespace=namespace, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"kubectl {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}",
                    pytrace=False)
    return proc.stdout
