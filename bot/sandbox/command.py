"""`opsbot sandbox`: run the simulated platform standalone until SIGINT/SIGTERM."""

from __future__ import annotations

import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from .runner import Sandbox
from .scenario import ScenarioError, list_scenarios

EXIT_USAGE = 2


def print_scenarios() -> int:
    """`opsbot sandbox --list`."""
    scenarios = list_scenarios()
    width = max((len(name) for name, _ in scenarios), default=0)
    for name, description in scenarios:
        print(f"{name:<{width}}  {description}")
    return 0


@contextmanager
def _stop_on_signal() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while inside; installed before anything is announced."""
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_sandbox(scenario: str, kube_port: int, metrics_port: int, kubeconfig: str | None,
                api_key: str | None) -> int:
    """Start the sandbox, write its kubeconfig, print how to use it, serve until killed. Exit code."""
    try:
        sandbox = Sandbox(scenario, kube_port=kube_port, metrics_port=metrics_port, api_key=api_key)
    except ScenarioError as error:
        print(f"opsbot sandbox: {error}", file=sys.stderr)
        return EXIT_USAGE
    with _stop_on_signal() as stop, tempfile.TemporaryDirectory(prefix="opsbot-sandbox-") as scratch, sandbox:
        path = sandbox.write_kubeconfig(kubeconfig or Path(scratch) / "kubeconfig")
        ops_config = sandbox.write_ops_config(Path(scratch) / "opsbot-sandbox.yaml")
        print(f"sandbox platform running, scenario {sandbox.scenario.name}: {sandbox.scenario.description}")
        print(f"  Kubernetes API: {sandbox.kube_url}")
        print(f"  metrics API:    {sandbox.metrics_url}")
        print(f"  cluster DNS:    udp://127.0.0.1:{sandbox.dns_port} (answers *.svc.cluster.local)")
        print(f"  kubeconfig:     {path}")
        print(f"  ops config:     {ops_config} (points the DNS checks at the sandbox DNS)")
        print("environment for the bot:")
        for line in sandbox.env_lines():
            print(f"  {line}")
        print("Ctrl-C (SIGINT) or SIGTERM stops it.", flush=True)
        while not stop.wait(0.5):  # a timeout keeps the main thread responsive to signals
            pass
    print("sandbox stopped", flush=True)
    return 0
