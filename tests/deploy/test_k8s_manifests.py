"""The Kubernetes manifests against the Kubernetes schemas and against each other.

Schemas: each object is loaded with the official client's model for its kind (v37: pydantic models whose
`from_dict` rejects wrong types and missing required fields), and every field written in the YAML must
survive the round trip (a misspelt or misplaced field would be dropped by the model, as a strict apiserver
rejects it). Kinds the sandbox serves (Deployment, ConfigMap, Service) are also created there over HTTP, where
the fake apiserver validates them, and the Deployment must roll out.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from bot.config import Settings, load_ops_config
from bot.sandbox.runner import Sandbox

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "manifests" / "k8s"
MAINTENANCE = ROOT / "manifests" / "maintenance-mode.yaml"
MODELS = {
    "Namespace": "V1Namespace", "ServiceAccount": "V1ServiceAccount", "Role": "V1Role",
    "RoleBinding": "V1RoleBinding", "Secret": "V1Secret", "ConfigMap": "V1ConfigMap", "Service": "V1Service",
    "Deployment": "V1Deployment", "PodDisruptionBudget": "V1PodDisruptionBudget",
}
SERVED_BY_SANDBOX = {"Deployment", "ConfigMap", "Service"}


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _objects() -> list[tuple[str, dict[str, Any]]]:
    paths = [*sorted(K8S.glob("*.yaml")), MAINTENANCE]
    return [(f"{p.name}:{d['kind']}", d) for p in paths if p.name != "kustomization.yaml" for d in _documents(p)]


def _one(kind: str) -> dict[str, Any]:
    found = [obj for _, obj in _objects() if obj["kind"] == kind and obj["metadata"]["name"] != "maintenance-mode"]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def _dropped_fields(written: Any, kept: Any, path: str = "") -> list[str]:
    """Fields present in the YAML that the model's serialization no longer has."""
    if isinstance(written, dict):
        if not isinstance(kept, dict):
            return [path or "."]
        return [p for key, value in written.items()
                for p in ([f"{path}.{key}"] if key not in kept else _dropped_fields(value, kept[key], f"{path}.{key}"))]
    if isinstance(written, list) and isinstance(kept, list) and len(written) == len(kept):
        pairs = enumerate(zip(written, kept, strict=True))
        return [p for i, (w, k) in pairs for p in _dropped_fields(w, k, f"{path}[{i}]")]
    return []


@pytest.mark.parametrize(("where", "obj"), _objects(), ids=[name for name, _ in _objects()])
def test_every_object_matches_its_kubernetes_schema(where: str, obj: dict[str, Any]) -> None:
    model = getattr(client, MODELS[obj["kind"]])
    loaded = model.from_dict(obj)  # raises on a wrong type or a missing required field
    assert loaded.api_version == obj["apiVersion"] and loaded.metadata.name
    kept = client.ApiClient().sanitize_for_serialization(loaded)
    assert _dropped_fields(obj, kept) == [], f"{where}: fields unknown to {MODELS[obj['kind']]}"


def test_the_schema_check_catches_a_misspelt_field() -> None:
    deployment = _one("Deployment")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = broken["spec"]["template"]["spec"][
        "containers"][0].pop("readinessProbe")
    kept = client.ApiClient().sanitize_for_serialization(client.V1Deployment.from_dict(broken))
    assert _dropped_fields(broken, kept) == [".spec.template.spec.containers[0].readinesProbe"]


def test_deployment_is_hardened_and_probed() -> None:
    deployment = _one("Deployment")
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert spec["replicas"] == 2
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"]) and "memory" in container["resources"]["limits"]
    security = container["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
    assert security["allowPrivilegeEscalation"] is False and security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"] and "add" not in security["capabilities"]
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert container["args"] == ["run"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert ports["http"] == int(env["PORT"])
    # Writable /tmp (bundles) on a read-only root; the config mounted where OPSBOT_CONFIG points.
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts["/tmp"] in {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    config_mount = next(path for path in mounts if env["OPSBOT_CONFIG"].startswith(path + "/"))
    volume = next(v for v in pod["volumes"] if v["name"] == mounts[config_mount])
    assert volume["configMap"]["name"] == _one("ConfigMap")["metadata"]["name"]
    assert container["envFrom"][0]["secretRef"]["name"] == _one("Secret")["metadata"]["name"]


def test_objects_reference_each_other_consistently() -> None:
    deployment, service, pdb = _one("Deployment"), _one("Service"), _one("PodDisruptionBudget")
    account, binding, role = _one("ServiceAccount"), _one("RoleBinding"), _one("Role")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"]["minAvailable"] < deployment["spec"]["replicas"]  # a drain can always evict one
    port_names = {p["name"] for p in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == account["metadata"]["name"]
    bot_namespace = deployment["metadata"]["namespace"]
    for obj in (service, pdb, account, _one("ConfigMap"), _one("Secret")):
        assert obj["metadata"]["namespace"] == bot_namespace
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": role["metadata"]["name"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account["metadata"]["name"],
                                    "namespace": bot_namespace}]
    assert binding["metadata"]["namespace"] == role["metadata"]["namespace"]


def test_config_map_holds_a_valid_ops_config_whose_services_the_role_covers(tmp_path: Path) -> None:
    ops = tmp_path / "ops.yaml"
    ops.write_text(_one("ConfigMap")["data"]["ops.yaml"])
    config = load_ops_config(ops)
    role_namespace = _one("Role")["metadata"]["namespace"]
    assert config.services and {s.namespace for s in config.services.values()} == {role_namespace}


def test_secret_example_has_placeholders_only_and_names_real_settings() -> None:
    secret = _one("Secret")
    values = secret["stringData"]
    assert values and all("REPLACE-ME" in value for value in values.values())
    assert {key.lower() for key in values} <= set(Settings.model_fields)
    assert "data" not in secret


def test_kustomization_applies_everything_but_the_secret_example() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert set(kustomization["resources"]) == files


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox("bad-deploy") as running:
        yield running


def test_sandbox_apiserver_accepts_the_served_kinds_and_rolls_the_deployment_out(sandbox: Sandbox) -> None:
    api = client.ApiClient(client.Configuration(host=sandbox.kube_url))
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    create = {"Deployment": apps.create_namespaced_deployment, "ConfigMap": core.create_namespaced_config_map,
              "Service": core.create_namespaced_service}
    try:
        for _, obj in _objects():
            if obj["kind"] in SERVED_BY_SANDBOX:
                create[obj["kind"]](obj["metadata"]["namespace"], obj)
        deployment = _one("Deployment")
        name, namespace = deployment["metadata"]["name"], deployment["metadata"]["namespace"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status = apps.read_namespaced_deployment(name, namespace).status
            if status.available_replicas == deployment["spec"]["replicas"]:
                break
            time.sleep(0.1)
        assert status.available_replicas == 2 and status.updated_replicas == 2
        served = apps.read_namespaced_deployment(name, namespace).spec.template.spec.containers[0]
        assert served.security_context.read_only_root_filesystem is True
        assert served.readiness_probe.http_get.path == "/readyz"
    finally:
        api.close()  # type: ignore[no-untyped-call]
