"""`Sandbox`: the simulated platform (Kubernetes API + metrics API) served on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import yaml

from .coredns import seed_coredns
from .dns_server import SandboxDnsServer
from .kube.cluster import FakeCluster
from .kube.server import build_kube_app
from .metrics_api import build_metrics_app
from .platform import Platform
from .scenario import load_scenario
from .serving import BackgroundServer

NAMESPACE = "default"
_CONTEXT = "opsbot-sandbox"


def kubeconfig(server: str, namespace: str = NAMESPACE) -> dict[str, object]:
    """A kubeconfig for a sandbox apiserver at `server`: plain HTTP, a dummy token (the fake checks none)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": _CONTEXT, "cluster": {"server": server}}],
        "users": [{"name": _CONTEXT, "user": {"token": "sandbox-token-not-a-secret"}}],
        "contexts": [{"name": _CONTEXT, "context": {"cluster": _CONTEXT, "user": _CONTEXT, "namespace": namespace}}],
        "current-context": _CONTEXT,
        "preferences": {},
    }


class Sandbox:
    """Seeds a FakeCluster from a scenario and serves it; use as a context manager or start()/stop()."""

    def __init__(self, scenario: str = "bad-deploy", *, kube_port: int = 0, metrics_port: int = 0,
                 api_key: str | None = None, dns_port: int = 0) -> None:
        self.scenario = load_scenario(scenario)  # fails fast, before any port is bound
        self.api_key = api_key
        self._kubeconfig_path: Path | None = None
        # Seeded so pod names (and so the generated logs) are the same on every run.
        self.cluster = FakeCluster(seed=0)
        self.platform = Platform(self.cluster, self.scenario)
        seed_coredns(self.cluster, self.scenario.coredns, self.platform.now())
        self._ops_config_path: Path | None = None
        self.dns = SandboxDnsServer(self.cluster, when_down=self.scenario.coredns.when_down, port=dns_port)
        self._kube = BackgroundServer(build_kube_app(self.cluster), port=kube_port)
        self._metrics = BackgroundServer(build_metrics_app(self.platform, api_key), port=metrics_port)

    @property
    def kube_url(self) -> str:
        return self._kube.url

    @property
    def metrics_url(self) -> str:
        return self._metrics.url

    @property
    def dns_port(self) -> int:
        return self.dns.port

    def start(self) -> None:
        self._kube.start()
        try:
            self._metrics.start()
            self.dns.start()
        except BaseException:
            self._metrics.stop()
            self._kube.stop()
            raise

    def stop(self) -> None:
        self.dns.stop()
        self._metrics.stop()
        self._kube.stop()

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def kubeconfig(self) -> dict[str, object]:
        """A kubeconfig for this sandbox's apiserver (see `kubeconfig`)."""
        return kubeconfig(self.kube_url)

    def write_kubeconfig(self, path: str | Path) -> Path:
        if not self.kube_url:
            raise RuntimeError("start() the sandbox before writing its kubeconfig")
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(self.kubeconfig(), sort_keys=False), encoding="utf-8")
        self._kubeconfig_path = target
        return target

    def ops_config(self) -> dict[str, object]:
        """The ops-config overlay that points the bot's DNS checks at the sandbox DNS server."""
        return {"dns": {"nameservers": ["127.0.0.1"], "port": self.dns_port}}

    def write_ops_config(self, path: str | Path) -> Path:
        if not self.dns_port:
            raise RuntimeError("start() the sandbox before writing its ops config")
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(self.ops_config(), sort_keys=False), encoding="utf-8")
        self._ops_config_path = target
        return target

    def env_lines(self) -> list[str]:
        """`NAME=value` lines that point the bot at this sandbox."""
        lines = []
        if self._kubeconfig_path is not None:
            lines.append(f"KUBECONFIG={self._kubeconfig_path}")
        if self._ops_config_path is not None:
            lines.append(f"OPSBOT_CONFIG={self._ops_config_path}")
        lines.append(f"METRICS_API_URL={self.metrics_url}")
        if self.api_key:
            lines.append(f"METRICS_API_KEY={self.api_key}")
        lines.append(f"K8S_NAMESPACE={NAMESPACE}")
        return lines
