"""opsbot's rollback against the real `kubectl rollout undo` (issue 4: "the undo must leave the deployment
exactly as kubectl's undo would").

Two identical sandboxes (twins: the same scenario, the same seeded cluster, the same extra revisions
written the same way) are rolled back, one by kubectl, one by opsbot's rollback action; afterwards the
deployment, its ReplicaSets (revision numbers, which one is active, their annotations and templates) and
its pods must be the same on both, apart from the server-generated fields normalised out below.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from bot.actions import ACTIONS
from bot.actions.base import ActionEnv, ActionError
from bot.config import OpsConfig
from bot.sandbox.runner import NAMESPACE, Sandbox
from bot.sources.kube_undo import OPSBOT_DEPLOYMENT_RECORDS, REPLICAS_BEFORE
from tests.sandbox.kubectl import kubectl, run_kubectl

from .conftest import HasCluster, deployment, pods, revisions

SERVICE = "auth-service"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
CHANGE_CAUSE = "kubernetes.io/change-cause"
HASH_LABEL = "pod-template-hash"


def _patch(sandbox: Sandbox, body: dict[str, Any]) -> None:
    api = client.ApiClient(client.Configuration(host=sandbox.kube_url))
    try:
        client.AppsV1Api(api).patch_namespaced_deployment(SERVICE, NAMESPACE, body)
    finally:
        api.close()  # type: ignore[no-untyped-call]


def add_revisions(sandbox: Sandbox) -> None:
    """Revisions 8 and 9 on top of the scenario's 5, 6, 7, written as a deploy tool would: annotations on
    the deployment (the controller copies them to the new ReplicaSet, so undo copies them back),
    template labels and annotations, env and image changes. Revision 8 carries a team annotation that
    9 drops and 9 a ticket annotation 8 lacks, so undo must replace the annotations, not merge them."""
    _patch(sandbox, {
        "metadata": {"annotations": {CHANGE_CAUSE: "deploy 2.6.0: key rotation", "example.com/team": "identity"}},
        "spec": {"template": {
            "metadata": {"labels": {"track": "stable"}, "annotations": {"prometheus.io/scrape": "true"}},
            "spec": {"containers": [{"name": SERVICE, "image": "registry.example.com/auth-service:2.6.0",
                                     "env": [{"name": "KEY_ROTATION", "value": "on"}]}]},
        }},
    })
    _patch(sandbox, {
        "metadata": {"annotations": {CHANGE_CAUSE: "deploy 2.7.0: new token format", "example.com/team": None,
                                     "example.com/ticket": "OPS-42"}},
        "spec": {"template": {
            "metadata": {"annotations": {"prometheus.io/scrape": None, "example.com/build": "2.7.0-41"}},
            "spec": {"containers": [{"name": SERVICE, "image": "registry.example.com/auth-service:2.7.0"}]},
        }},
    })


@pytest.fixture
def kubectl_twin(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The platform kubectl acts on; `sandbox` (where `env` points opsbot) gets the same revisions."""
    with Sandbox(sandbox.scenario.name) as twin:
        for platform in (sandbox, twin):
            add_revisions(platform)
        assert comparable(sandbox) == comparable(twin)  # twins before anything is rolled back
        yield twin


def _without_opsbot_records(annotations: dict[str, str]) -> dict[str, str]:
    # opsbot keeps its records about spec.replicas (the count scale-to-zero restores) across an undo, where
    # kubectl takes every annotation but a fixed few from the ReplicaSet: the one intended difference
    # (bot/sources/kube_undo.py). Only those keys: opsbot's other records follow the template as kubectl's.
    return {k: v for k, v in annotations.items() if k not in OPSBOT_DEPLOYMENT_RECORDS}


def _normalised(obj: dict[str, Any]) -> dict[str, Any]:
    """An object without what the apiserver generates per write or per object rather than from the
    request: `uid` (random per object), `resourceVersion` (counts every write, and opsbot's preview
    makes server dry runs kubectl does not), `creationTimestamp` (wall clock), `managedFields` (names
    the field manager, which is the client's name), and the condition timestamps (wall clock)."""
    result = copy.deepcopy(obj)
    meta = result["metadata"]
    for generated in ("uid", "resourceVersion", "creationTimestamp", "managedFields"):
        meta.pop(generated, None)
    for ref in meta.get("ownerReferences") or []:
        ref.pop("uid", None)  # the owning deployment's random uid
    meta["annotations"] = _without_opsbot_records(meta.get("annotations") or {})
    for condition in (result.get("status") or {}).get("conditions") or []:
        condition.pop("lastUpdateTime", None)
        condition.pop("lastTransitionTime", None)
    return result


def comparable(sandbox: HasCluster) -> dict[str, Any]:
    """What an undo changes. ReplicaSet names are kept: the sandbox derives them from a hash of the
    template, deterministically, so the same template must give the same name on both twins (a
    different one would mean the controller saw a different template and made a new ReplicaSet).
    Pod names are not: they end in a random suffix; which ReplicaSet each pod belongs to is kept."""
    replicasets = {number: _normalised(rs) for number, rs in revisions(sandbox, SERVICE).items()}
    owners: dict[str, int] = {}
    for pod in sandbox.cluster.list("Pod", NAMESPACE, f"app={SERVICE}"):
        rs_hash = pod["metadata"]["labels"][HASH_LABEL]
        owners[rs_hash] = owners.get(rs_hash, 0) + 1
    return {"deployment": _normalised(deployment(sandbox, SERVICE)), "replicasets": replicasets,
            "pods per template hash": owners}


def image(sandbox: HasCluster) -> str:
    return str(deployment(sandbox, SERVICE)["spec"]["template"]["spec"]["containers"][0]["image"])


def active_revision(sandbox: HasCluster) -> int:
    """The revision whose ReplicaSet runs the pods (the only one scaled up once a rollout settled)."""
    (active,) = [n for n, rs in revisions(sandbox, SERVICE).items() if rs["spec"]["replicas"] > 0]
    return active


async def opsbot_undo(env: ActionEnv, config: OpsConfig, to_revision: int | None) -> str:
    action = ACTIONS["rollback"]
    raw = {} if to_revision is None else {"to_revision": str(to_revision)}
    outcome = await action.execute(env, config.target(SERVICE), action.parse(raw, config))
    assert outcome.ok
    return outcome.summary


def kubectl_undo(twin: Sandbox, to_revision: int | None) -> str:
    # `--to-revision` exists since kubectl 1.x's first rollout commands; 0 means "the previous one".
    return kubectl(twin.kube_url, "rollout", "undo", f"deployment/{SERVICE}", f"--to-revision={to_revision or 0}",
                   namespace=NAMESPACE)


# Each case is a sequence of undos applied to both twins, compared after every step. The history is
# 5, 6, 7 (scenario) then 8, 9 (add_revisions); 9 is live.
UNDO_SEQUENCES = {
    "previous": [None],  # 9 -> template of 8 (annotations with the team, without the ticket)
    "previous twice flips back": [None, None],
    "to revision 6": [6],  # the scenario's RS: annotations from the scenario, no template annotations
    "to 5 then previous": [5, None],
    "to 8 then to 6 then previous": [8, 6, None],
}


@pytest.mark.parametrize("steps", list(UNDO_SEQUENCES.values()), ids=list(UNDO_SEQUENCES))
async def test_rollback_leaves_what_kubectl_rollout_undo_leaves(
        env: ActionEnv, config: OpsConfig, sandbox: Sandbox, kubectl_twin: Sandbox,
        steps: list[int | None]) -> None:
    for to_revision in steps:
        summary = await opsbot_undo(env, config, to_revision)
        said = kubectl_undo(kubectl_twin, to_revision)
        assert "rolled back" in said and "Rolled back" in summary

        ours, kubectls = comparable(sandbox), comparable(kubectl_twin)
        assert ours["deployment"]["spec"]["template"] == kubectls["deployment"]["spec"]["template"]
        assert ours["deployment"]["metadata"] == kubectls["deployment"]["metadata"]
        assert ours["replicasets"] == kubectls["replicasets"]
        assert ours == kubectls  # and so everything else: spec, status, pods
        assert image(sandbox) == image(kubectl_twin)
        assert active_revision(sandbox) == active_revision(kubectl_twin)
        assert deployment(sandbox, SERVICE)["metadata"]["annotations"][REVISION] == str(active_revision(sandbox))


async def test_undo_to_the_previous_revision_in_detail(env: ActionEnv, config: OpsConfig, sandbox: Sandbox,
                                                       kubectl_twin: Sandbox) -> None:
    """What the comparison above relies on, spelled out for the default undo from 9."""
    await opsbot_undo(env, config, None)
    kubectl_undo(kubectl_twin, None)
    for platform in (sandbox, kubectl_twin):
        stored = deployment(platform, SERVICE)
        annotations = stored["metadata"]["annotations"]
        assert annotations[REVISION] == "10" and annotations[CHANGE_CAUSE] == "deploy 2.6.0: key rotation"
        assert annotations["example.com/team"] == "identity" and "example.com/ticket" not in annotations
        template = stored["spec"]["template"]
        assert image(platform).endswith(":2.6.0") and HASH_LABEL not in template["metadata"]["labels"]
        assert template["metadata"]["annotations"] == {"prometheus.io/scrape": "true"}
        history = revisions(platform, SERVICE)
        assert sorted(history) == [5, 6, 7, 9, 10]  # 8 became 10
        assert history[10]["metadata"]["annotations"][REVISION_HISTORY] == "8"
        assert active_revision(platform) == 10
        assert {p.rsplit("-", 1)[0] for p in pods(platform, SERVICE)} == {history[10]["metadata"]["name"]}


def undo_patch(platform: Sandbox) -> tuple[str | None, Any]:
    """The content type and body of the last PATCH of the deployment that was not a dry run: the undo."""
    patch = [r for r in platform.cluster.requests
             if r.method == "PATCH" and r.path.endswith(f"/deployments/{SERVICE}") and "dryRun" not in r.query][-1]
    body = copy.deepcopy(patch.body)
    for op in body:
        if op["path"] == "/spec/template":
            # kubectl serialises the template's zero creationTimestamp (a Go struct) as null; the
            # apiserver decodes null and absent alike. opsbot sends the template as the server served it.
            assert op["value"]["metadata"].pop("creationTimestamp", None) is None
    return patch.content_type, body


async def test_the_undo_is_the_same_json_patch(env: ActionEnv, config: OpsConfig, sandbox: Sandbox,
                                               kubectl_twin: Sandbox) -> None:
    await opsbot_undo(env, config, 6)
    kubectl_undo(kubectl_twin, 6)
    content_type, body = undo_patch(sandbox)
    assert (content_type, body) == undo_patch(kubectl_twin)
    assert content_type == "application/json-patch+json"
    assert [(op["op"], op["path"]) for op in body] == [("replace", "/spec/template"),
                                                        ("replace", "/metadata/annotations")]


async def test_repeating_an_undo_to_a_revision_changes_nothing_on_either(
        env: ActionEnv, config: OpsConfig, sandbox: Sandbox, kubectl_twin: Sandbox) -> None:
    """The one deliberate difference: revision 6, once restored, is renumbered 10, so kubectl refuses
    a second `--to-revision=6` ("unable to find specified revision"); opsbot recognises the revision in
    the current ReplicaSet's revision-history and reports nothing to do (an approved action executed
    twice must be a no-op, bot/sources/kube_undo.py). Neither writes: the platforms stay the same."""
    await opsbot_undo(env, config, 6)
    kubectl_undo(kubectl_twin, 6)
    after_first = comparable(sandbox)
    assert "nothing rolled back" in await opsbot_undo(env, config, 6)
    refused = run_kubectl(kubectl_twin.kube_url, "rollout", "undo", f"deployment/{SERVICE}", "--to-revision=6",
                          namespace=NAMESPACE)
    assert refused.returncode != 0 and "unable to find specified revision 6" in refused.stderr
    assert comparable(sandbox) == comparable(kubectl_twin) == after_first


async def test_undo_to_the_running_template_is_skipped_by_both(env: ActionEnv, config: OpsConfig,
                                                               sandbox: Sandbox, kubectl_twin: Sandbox) -> None:
    before = comparable(sandbox)
    summary = await opsbot_undo(env, config, 9)
    said = kubectl_undo(kubectl_twin, 9)
    assert "skipped rollback" in said and "nothing rolled back" in summary
    assert comparable(sandbox) == comparable(kubectl_twin) == before


async def test_a_missing_revision_is_refused_by_both(env: ActionEnv, config: OpsConfig, sandbox: Sandbox,
                                                     kubectl_twin: Sandbox) -> None:
    before = comparable(sandbox)
    with pytest.raises(ActionError, match="unable to find revision 3"):
        await opsbot_undo(env, config, 3)
    refused = run_kubectl(kubectl_twin.kube_url, "rollout", "undo", f"deployment/{SERVICE}", "--to-revision=3",
                          namespace=NAMESPACE)
    assert refused.returncode != 0 and "unable to find specified revision 3" in refused.stderr
    assert comparable(sandbox) == comparable(kubectl_twin) == before


async def test_a_paused_deployment_is_refused_by_both(env: ActionEnv, config: OpsConfig, sandbox: Sandbox,
                                                      kubectl_twin: Sandbox) -> None:
    for platform in (sandbox, kubectl_twin):
        _patch(platform, {"spec": {"paused": True}})
    before = comparable(sandbox)
    with pytest.raises(ActionError, match="paused"):
        await opsbot_undo(env, config, None)
    refused = run_kubectl(kubectl_twin.kube_url, "rollout", "undo", f"deployment/{SERVICE}", namespace=NAMESPACE)
    assert refused.returncode != 0 and "paused" in refused.stderr
    assert comparable(sandbox) == comparable(kubectl_twin) == before


async def test_opsbot_keeps_its_replica_record_where_kubectl_drops_it(
        env: ActionEnv, config: OpsConfig, sandbox: Sandbox, kubectl_twin: Sandbox) -> None:
    """Scaled to zero with opsbot's record of the count (as scale-to-zero leaves it), then rolled back:
    kubectl replaces the annotations with the ReplicaSet's and loses the record; opsbot keeps it, so
    restore-replicas still knows the count. Everything else is kubectl's."""
    for platform in (sandbox, kubectl_twin):
        _patch(platform, {"metadata": {"annotations": {REPLICAS_BEFORE: "3"}}, "spec": {"replicas": 0}})
    await opsbot_undo(env, config, None)
    kubectl_undo(kubectl_twin, None)
    assert deployment(sandbox, SERVICE)["metadata"]["annotations"][REPLICAS_BEFORE] == "3"
    assert REPLICAS_BEFORE not in deployment(kubectl_twin, SERVICE)["metadata"]["annotations"]
    assert comparable(sandbox) == comparable(kubectl_twin)
    assert deployment(sandbox, SERVICE)["spec"]["replicas"] == 0 and image(sandbox).endswith(":2.6.0")
