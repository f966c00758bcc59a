"""Patch semantics in isolation: what each Content-Type does to a stored object."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.sandbox.kube import FakeCluster, KubeError
from bot.sandbox.kube.patches import merge_patch, strategic_merge_patch
from bot.sandbox.kube.workloads import template_hash

from .conftest import deployment_manifest

POD_SPEC: dict[str, Any] = {"containers": [
    {"name": "web", "image": "web:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
     "ports": [{"containerPort": 8080, "protocol": "TCP"}],
     "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}]},
    {"name": "envoy", "image": "envoy:1"},
]}


def test_strategic_merge_merges_lists_by_key_and_honours_directives() -> None:
    patch = {
        "$setElementOrder/containers": [{"name": "web"}, {"name": "envoy"}],
        "containers": [
            {"name": "web", "$setElementOrder/env": [{"name": "A"}, {"name": "C"}],
             "env": [{"name": "B", "$patch": "delete"}, {"name": "C", "value": "3"}],
             "ports": [{"containerPort": 8080, "name": "http"}]},
            {"name": "envoy", "$patch": "delete"},
        ],
    }
    result = strategic_merge_patch(POD_SPEC, patch)
    assert result == {"containers": [
        {"name": "web", "image": "web:1", "env": [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}],
         "ports": [{"containerPort": 8080, "protocol": "TCP", "name": "http"}],
         "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}]},
    ]}
    assert POD_SPEC["containers"][1]["name"] == "envoy"  # inputs are never mutated


def test_strategic_merge_replace_directive_and_primitive_lists() -> None:
    replaced = strategic_merge_patch(POD_SPEC, {"containers": [
        {"name": "solo", "image": "solo:1"}, {"$patch": "replace"}]})
    assert replaced == {"containers": [{"name": "solo", "image": "solo:1"}]}
    obj = {"metadata": {"finalizers": ["a", "b"]}, "spec": {"args": ["x"]}}
    assert strategic_merge_patch(obj, {"$deleteFromPrimitiveList/finalizers": ["a"]}) == obj  # wrong level
    patched = strategic_merge_patch(obj, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]},
                                          "spec": {"args": ["y"]}})
    assert patched == {"metadata": {"finalizers": ["b"]}, "spec": {"args": ["y"]}}
    assert strategic_merge_patch({"a": {"b": 1}}, {"a": {"$patch": "replace", "c": 2}}) == {"a": {"c": 2}}


def test_merge_patch_replaces_lists_and_deletes_nulls() -> None:
    target = {"a": 1, "b": {"c": 2, "d": 3}, "l": [1, 2]}
    result = merge_patch(target, {"a": None, "b": {"c": None}, "l": [3]})
    assert result == {"b": {"d": 3}, "l": [3]}


def test_template_hash_ignores_its_own_label_and_is_stable() -> None:
    template = deployment_manifest()["spec"]["template"]
    labelled = {**template, "metadata": {"labels": {**template["metadata"]["labels"],
                                                    "pod-template-hash": "x"}}}
    assert template_hash(template) == template_hash(labelled) == template_hash(dict(template))
    assert len(template_hash(template)) == 10


def test_store_bookkeeping() -> None:
    cluster = FakeCluster(auto_reconcile=False)
    past = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    created = cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},
                             created_at=past)
    assert created["metadata"]["creationTimestamp"] == "2024-01-02T03:04:05Z"
    assert created["metadata"]["namespace"] == "default"
    again = cluster.update({**created, "data": {"k": "v"}})
    assert int(again["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert cluster.update(again) == again  # a no-op write keeps the resourceVersion
    with pytest.raises(KubeError) as raised:
        cluster.update(created)
    assert raised.value.status == 409 and raised.value.reason == "Conflict"
    deployment = cluster.create(deployment_manifest())
    deployment["spec"]["replicas"] = 4
    assert cluster.update(deployment)["metadata"]["generation"] == 2
    deployment = cluster.get("Deployment", "default", "web")
    assert deployment is not None
    deployment["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    deployment["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    with pytest.raises(KubeError) as raised:
        cluster.update(deployment)
    assert raised.value.status == 422 and "immutable" in raised.value.message


def test_deployment_defaults_are_filled_like_the_apiserver() -> None:
    manifest = deployment_manifest()
    del manifest["spec"]["replicas"]
    created = FakeCluster().create(manifest)
    assert created["spec"]["replicas"] == 1
    assert created["spec"]["revisionHistoryLimit"] == 10
    assert created["spec"]["strategy"] == {"type": "RollingUpdate",
                                           "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}


def test_revision_history_limit_prunes_old_replicasets() -> None:
    cluster = FakeCluster(seed=1)
    manifest = deployment_manifest(replicas=1)
    manifest["spec"]["revisionHistoryLimit"] = 2
    cluster.create(manifest)
    for n in range(5):
        deployment = cluster.get("Deployment", "default", "web")
        assert deployment is not None
        deployment["spec"]["template"]["metadata"]["annotations"] = {"restartedAt": str(n)}
        cluster.update(deployment)
        cluster.reconcile()
    revisions = sorted(int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
                       for rs in cluster.list("ReplicaSet", "default"))
    assert revisions == [3, 4, 5]  # five templates; the current one plus two old ones kept
    assert len(cluster.list("Pod", "default")) == 1
