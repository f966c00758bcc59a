"""A simulated Kubernetes API server over real HTTP, for the official client in tests and the sandbox."""

from .cluster import FakeCluster
from .errors import KubeError
from .recording import RecordedRequest
from .server import build_kube_app

__all__ = ["FakeCluster", "KubeError", "RecordedRequest", "build_kube_app"]
