"""The Role in manifests/k8s/rbac.yaml is exactly what the bot uses.

The dedicated check: run every runbook and every Kubernetes action (preview, fingerprint, execute, settled,
automatic revert) through the bot's own client against the sandbox, then compare the authorization checks
its requests need with the Role, both ways. The session-wide check (`rbac_plugin.py`) adds every other test's
bot requests to the "allowed" half.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from bot.actions import ACTIONS
from bot.actions.base import REVERT_PARAM
from bot.config import Settings, load_ops_config
from bot.sandbox.kube.recording import RecordedRequest
from bot.sandbox.runner import NAMESPACE, Sandbox
from bot.wiring import Deps, build_deps
from tests.deploy.rbac import (
    Access,
    accesses,
    describe,
    is_bot_request,
    load_role,
    not_allowed,
    unused,
)

# Actions that talk to PostgreSQL or Redis only: no Kubernetes request to authorize.
NOT_KUBERNETES = {"flush-cache", "terminate-idle", "cancel-query"}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox("bad-deploy") as running:
        yield running


def _deps(sandbox: Sandbox, tmp_path: Path) -> Deps:
    kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    settings = Settings(_env_file=None, kubeconfig=str(kubeconfig), metrics_api_url=sandbox.metrics_url,
                        redis_url=None, database_url=None, opsbot_config=None)
    return build_deps(settings, load_ops_config(None))


def _bot_accesses(requests: list[RecordedRequest]) -> set[Access]:
    return {a for r in requests if is_bot_request(r) for a in accesses(r)}


async def _run_action(deps: Deps, name: str, service: str, raw: dict[str, str]) -> None:
    action = ACTIONS[name]
    env, target = deps.action_env, deps.config.target(service)
    params = action.parse(raw, deps.config)
    await action.preview(env, target, params)
    await action.fingerprint(env, target, params)
    outcome = await action.execute(env, target, params)
    assert outcome.ok, f"{name} {raw}: {outcome}"
    await action.settled(env, target, params)


async def _every_code_path(deps: Deps, sandbox: Sandbox) -> None:
    await deps.readiness()  # pings /version: a non-resource URL, no grant needed
    for service in deps.config.services:
        for symptom in sorted(deps.runnable):
            await deps.diagnose(service, symptom)
    pod = sandbox.cluster.list("Pod", NAMESPACE, "app=auth-service")[0]["metadata"]["name"]
    steps: list[tuple[str, str, dict[str, str]]] = [
        ("delete-pod", "auth-service", {"pod": pod}),  # first: the rollback below replaces these pods
        ("scale", "api-gateway", {"replicas": "6"}),
        ("restart", "business-logic", {}),
        ("rollback", "auth-service", {}),
        ("debug-logging", "data-processor", {"minutes": "30"}),
        ("debug-logging", "data-processor", {REVERT_PARAM: "true"}),
        ("memory-bump", "data-processor", {"limit": "4Gi", "minutes": "30"}),
        ("memory-bump", "data-processor", {REVERT_PARAM: "true"}),
        ("scale-to-zero", "business-logic", {}),
        ("restore-replicas", "business-logic", {}),
        ("maintenance", "api-gateway", {"mode": "on"}),
        ("maintenance", "api-gateway", {"mode": "on"}),  # applied again: the update path of the apply
        ("maintenance", "api-gateway", {"mode": "off"}),
    ]
    assert {name for name, _, _ in steps} == set(ACTIONS) - NOT_KUBERNETES
    for name, service, raw in steps:
        await _run_action(deps, name, service, raw)


async def test_role_allows_every_bot_request_and_grants_nothing_else(sandbox: Sandbox, tmp_path: Path) -> None:
    deps = _deps(sandbox, tmp_path)
    try:
        await _every_code_path(deps, sandbox)
    finally:
        await deps.aclose()
    seen = _bot_accesses(sandbox.cluster.requests)
    role = load_role()
    assert not not_allowed(role, seen), "the bot made requests the Role does not allow:\n" + describe(
        not_allowed(role, seen))
    assert not unused(role, seen), "the Role grants what the bot never uses:\n" + describe(unused(role, seen))
    # The maintenance ConfigMap was created by an apply, so `create` was exercised, not assumed.
    assert Access("create", "", "configmaps", "maintenance-mode") in seen


def test_requests_of_tests_themselves_do_not_count(sandbox: Sandbox) -> None:
    raw = client.ApiClient(client.Configuration(host=sandbox.kube_url))
    try:
        client.CoreV1Api(raw).list_namespaced_config_map(NAMESPACE)
    finally:
        raw.close()  # type: ignore[no-untyped-call]
    recorded = [r for r in sandbox.cluster.requests if r.path.endswith("/configmaps")]
    assert recorded and recorded[-1].user_agent and recorded[-1].user_agent.startswith("OpenAPI-Generator/")
    assert _bot_accesses(recorded) == set()


def _request(method: str, path: str, **kwargs: Any) -> RecordedRequest:
    return RecordedRequest(method=method, path=path, **kwargs)


@pytest.mark.parametrize(("request_", "expected"), [
    (_request("GET", "/apis/apps/v1/namespaces/default/deployments/web"),
     [Access("get", "apps", "deployments", "web")]),
    (_request("GET", "/api/v1/namespaces/default/pods", query={"labelSelector": "app=web"}),
     [Access("list", "", "pods")]),
    (_request("GET", "/api/v1/namespaces/default/pods", query={"watch": "true"}), [Access("watch", "", "pods")]),
    (_request("GET", "/api/v1/namespaces/default/pods/web-1/log"), [Access("get", "", "pods/log", "web-1")]),
    (_request("PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale"),
     [Access("patch", "apps", "deployments/scale", "web")]),
    (_request("POST", "/api/v1/namespaces/default/configmaps"), [Access("create", "", "configmaps")]),
    (_request("DELETE", "/api/v1/namespaces/default/pods/web-1"), [Access("delete", "", "pods", "web-1")]),
    (_request("DELETE", "/api/v1/namespaces/default/pods"), [Access("deletecollection", "", "pods")]),
    (_request("PATCH", "/api/v1/namespaces/default/configmaps/m", content_type="application/apply-patch+yaml",
              status=201), [Access("patch", "", "configmaps", "m"), Access("create", "", "configmaps", "m")]),
    (_request("PATCH", "/api/v1/namespaces/default/configmaps/m", content_type="application/apply-patch+yaml",
              status=200), [Access("patch", "", "configmaps", "m")]),
    (_request("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods"),
     [Access("list", "metrics.k8s.io", "pods")]),
    (_request("GET", "/api/v1/nodes"), [Access("list", "", "nodes")]),
    (_request("GET", "/version"), []),
    (_request("GET", "/apis/apps/v1"), []),
])
def test_requests_map_to_the_checks_the_authorizer_makes(request_: RecordedRequest, expected: list[Access]) -> None:
    assert accesses(request_) == expected


def test_role_honours_resource_names_and_rejects_what_it_does_not_list() -> None:
    role = load_role()
    assert not not_allowed(role, [Access("patch", "", "configmaps", "maintenance-mode")])
    assert not_allowed(role, [Access("patch", "", "configmaps", "other")])
    assert not_allowed(role, [Access("list", "", "secrets")])
    assert not_allowed(role, [Access("list", "", "nodes")])
