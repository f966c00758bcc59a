"""Operator mistakes end in one readable line and a non-zero exit, never a traceback."""

import subprocess
import sys
from pathlib import Path


def test_a_missing_kubeconfig_is_named_not_a_traceback(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("opsbot")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "absent")}
    done = subprocess.run([str(exe), "diagnose", "auth-service", "errors"], capture_output=True, text=True,
                          timeout=60, env=env, cwd=tmp_path, check=False)
    assert done.returncode == 1
    assert "cannot load the kubeconfig" in done.stderr and "Traceback" not in done.stderr
