"""Diagnosis wall time against the slowest single check, with latency injected into every source call.

Each source method call first sleeps its source's injected delay (a slow API server, a slow metrics API),
then does the real call against the sandbox. For every runbook the sandbox can serve, the checks run
(1) alone, one after another — the sequential baseline, whose longest single check is "the slowest
source" — and (2) through the engine, in parallel. The goal is parallel wall / slowest check <= 1.2.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import tempfile
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from bot.checks import CHECKS
from bot.config import Settings, load_ops_config
from bot.engine import context_for, diagnose, run_check
from bot.sandbox.local_servers import PostgresCluster, RedisServer
from bot.sandbox.runner import Sandbox
from bot.wiring import build_deps

# Per source: the delay added to every call. Kubernetes reads are the slow ones at 3 a.m.
INJECTED_S = {"kube": 0.30, "metrics": 0.20}
DEFAULT_INJECTED_S = 0.25
SERVICE = "auth-service"


class Delayed:
    """Forwards to `inner`, sleeping `delay` seconds before every coroutine method call."""

    def __init__(self, inner: Any, delay: float) -> None:
        self._inner = inner
        self._delay = delay

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        @functools.wraps(attr)
        async def slowed(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(self._delay)
            return await attr(*args, **kwargs)

        return slowed


@dataclass(frozen=True)
class Figures:
    symptom: str
    checks: int
    parallel_ms: float
    slowest_ms: float
    sequential_ms: float

    @property
    def ratio(self) -> float:
        return self.parallel_ms / self.slowest_ms if self.slowest_ms else 0.0


async def measure(sandbox: Sandbox, tmp: Path, target_db: str, cache: str) -> list[Figures]:
    kubeconfig = sandbox.write_kubeconfig(tmp / "kubeconfig")
    ops_config = sandbox.write_ops_config(tmp / "ops.yaml")  # points cluster DNS at the sandbox's server
    settings = Settings(_env_file=None, kubeconfig=str(kubeconfig), metrics_api_url=sandbox.metrics_url,
                        redis_url=None, database_url=None, opsbot_config=ops_config,
                        target_database_url=target_db, cache_redis_url=cache)
    config = load_ops_config(ops_config)
    deps = build_deps(settings, config)
    try:
        delayed = {
            f.name: Delayed(value, INJECTED_S.get(f.name, DEFAULT_INJECTED_S))
            for f in fields(deps.sources)
            if (value := getattr(deps.sources, f.name)) is not None
        }
        sources = replace(deps.sources, **delayed)
        target = config.target(SERVICE)
        results = []
        for symptom, runbook in sorted(deps.runbooks.items(), key=lambda kv: kv[0].value):
            ctx = context_for(config, target)
            solo = []
            for name in runbook.checks:
                started = time.perf_counter()
                await run_check(CHECKS[name], sources, ctx, config.diagnosis.check_timeout_s)
                solo.append((time.perf_counter() - started) * 1000)
            diag = await diagnose(runbook, sources, config, target)
            results.append(Figures(symptom.value, len(runbook.checks), diag.duration_ms, max(solo), sum(solo)))
        return results
    finally:
        await deps.aclose()


def report() -> list[str]:
    # The database and cache runbooks need real servers to measure anything: throwaway ones, as the tests use.
    postgres, cache = PostgresCluster(name="bench-pg"), RedisServer()
    with tempfile.TemporaryDirectory() as tmp, Sandbox("bad-deploy") as sandbox:
        postgres.start()
        cache.start()
        try:
            figures = asyncio.run(measure(sandbox, Path(tmp), postgres.dsn(), cache.url))
        finally:
            cache.stop()
            postgres.stop()
    injected = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in INJECTED_S.items())
    lines = [f"  diagnosis with injected source latency ({injected}, others {DEFAULT_INJECTED_S * 1000:.0f} ms"
             f" per call), {SERVICE}, every runbook; goal parallel/slowest <= 1.2:"]
    for f in figures:
        lines.append(
            f"    {f.symptom:<26} {f.checks} checks: parallel {f.parallel_ms:6.0f} ms, slowest check "
            f"{f.slowest_ms:6.0f} ms, ratio {f.ratio:.2f}; one after another {f.sequential_ms:6.0f} ms "
            f"({f.sequential_ms / f.parallel_ms:.1f}x slower)"
        )
    worst = max(figures, key=lambda f: f.ratio)
    lines.append(f"    worst ratio {worst.ratio:.2f} ({worst.symptom})")
    return lines


if __name__ == "__main__":
    print("\n".join(report()))
