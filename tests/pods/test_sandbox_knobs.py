"""The two scenario knobs the pod scenarios need: a Recreate deployment strategy and a previous instance
whose lines span its run (a slow start-up), seen through the sandbox's Kubernetes API over HTTP."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

from kubernetes import client, config

from bot.sandbox.logs import previous_times
from bot.sandbox.runner import Sandbox
from bot.sandbox.scenario import load_scenario
from bot.sources.kube_parse import parse_timestamped

from .records import NOW


def _api(sandbox: Sandbox, tmp_path: Path) -> client.ApiClient:
    path = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    return config.new_client_from_config(config_file=str(path))


def test_recreate_strategy_reaches_the_deployment(tmp_path: Path) -> None:
    with Sandbox("pods-unavailable") as sandbox:
        apps = client.AppsV1Api(_api(sandbox, tmp_path))
        assert apps.read_namespaced_deployment("data-processor", "default").spec.strategy.type == "Recreate"
        rolling = apps.read_namespaced_deployment("api-gateway", "default").spec.strategy
        assert rolling.type == "RollingUpdate" and rolling.rolling_update.max_unavailable == "25%"


def test_previous_span_spreads_the_previous_instance_over_its_run(tmp_path: Path) -> None:
    with Sandbox("failed-health-check") as sandbox:
        core = client.CoreV1Api(_api(sandbox, tmp_path))
        pods = core.list_namespaced_pod("default", label_selector="app=api-gateway").items
        looping = [p for p in pods if p.status.container_statuses[0].restart_count]
        assert len(looping) == 2
        for pod in looping:
            last = pod.status.container_statuses[0].last_state.terminated
            text = core.read_namespaced_pod_log(pod.metadata.name, "default", container="api-gateway",
                                                previous=True, timestamps=True)
            stamped = [parse_timestamped(line) for line in text.splitlines()]
            first, final = stamped[0][0], stamped[-1][0]
            assert first is not None and final is not None
            # The runtime's timestamps span the instance's run, 39 s, not 7 x 250 ms, and end with it (the
            # status is written a moment before the log and to the second, so the log ends at or after it).
            assert (final - first).total_seconds() == 39
            assert final >= last.finished_at and first >= last.started_at
            assert "Received SIGTERM" in stamped[-1][1]


def test_previous_times_default_and_span() -> None:
    spread = previous_times(load_scenario("failed-health-check").profiles["api-gateway"], finished=NOW)
    assert len(spread) == 7 and spread[-1] == NOW and spread[0] == NOW - timedelta(seconds=39)
    # Without a span the lines stay 250 ms apart, ending 250 ms before the end, as before the knob existed.
    crash = load_scenario("crash-loop").profiles["business-logic-crashing"]
    unspread = crash.model_copy(update={"logs": crash.logs.model_copy(update={"previous_span": None})})
    default = previous_times(unspread, finished=NOW)
    assert len(default) == len(crash.logs.previous) and default[-1] == NOW - timedelta(milliseconds=250)
    assert all(b - a == timedelta(milliseconds=250) for a, b in itertools.pairwise(default))
