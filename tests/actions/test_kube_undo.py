"""kubectl's client-side undo rules (kubectl 1.20 rollback.go) as pure functions."""

from __future__ import annotations

import pytest

from bot.sources.admin_records import ReplicaSetRevision
from bot.sources.errors import SourceError
from bot.sources.kube_undo import choose_revision, templates_equal, undo_annotations, undo_patch


def rs(revision: int, image: str, **annotations: str) -> ReplicaSetRevision:
    template = {"metadata": {"labels": {"app": "web", "pod-template-hash": f"h{revision}"}},
                "spec": {"containers": [{"name": "web", "image": image}]}}
    return ReplicaSetRevision(revision=revision, name=f"web-h{revision}",
                              annotations={"deployment.kubernetes.io/revision": str(revision), **annotations},
                              template=template, images=(image,))


HISTORY = [rs(3, "web:3"), rs(1, "web:1"), rs(2, "web:2")]


def test_default_is_the_second_highest_revision_whatever_the_list_order() -> None:
    assert choose_revision(HISTORY, None, "web").revision == 2


def test_explicit_revision_and_missing_ones() -> None:
    assert choose_revision(HISTORY, 1, "web").images == ("web:1",)
    with pytest.raises(SourceError, match="unable to find revision 7"):
        choose_revision(HISTORY, 7, "web")
    with pytest.raises(SourceError, match="no previous revision"):
        choose_revision([rs(1, "web:1")], None, "web")


def test_a_renumbered_revision_is_found_only_as_the_current_one() -> None:
    renumbered = rs(4, "web:1", **{"deployment.kubernetes.io/revision-history": "1"})
    history = [rs(2, "web:2"), rs(3, "web:3"), renumbered]
    assert choose_revision(history, 1, "web", current_revision=4) is renumbered
    with pytest.raises(SourceError):  # rolled forward since: revision 1 is gone, as kubectl would say
        choose_revision(history, 1, "web", current_revision=5)


def test_templates_compare_without_the_hash_label() -> None:
    deployment_template = {"metadata": {"labels": {"app": "web"}},
                           "spec": {"containers": [{"name": "web", "image": "web:2"}]}}
    assert templates_equal(rs(2, "web:2").template, deployment_template)
    assert not templates_equal(rs(1, "web:1").template, deployment_template)


def test_annotations_the_deployment_keeps_and_those_the_replicaset_brings() -> None:
    deployment = {"deployment.kubernetes.io/revision": "3", "kubectl.kubernetes.io/last-applied-configuration": "{}",
                  "kubernetes.io/change-cause": "deploy 3", "team": "payments"}
    replicaset = {"deployment.kubernetes.io/revision": "2", "deployment.kubernetes.io/desired-replicas": "3",
                  "deployment.kubernetes.io/max-replicas": "4", "kubernetes.io/change-cause": "deploy 2"}
    assert undo_annotations(deployment, replicaset) == {
        "deployment.kubernetes.io/revision": "3",
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
        "kubernetes.io/change-cause": "deploy 2",
    }  # "team" is dropped: kubectl replaces the annotations wholesale


def test_the_patch_is_kubectls_two_replace_operations() -> None:
    patch = undo_patch(rs(1, "web:1").template, {"a": "b"})
    assert [op["path"] for op in patch] == ["/spec/template", "/metadata/annotations"]
    assert all(op["op"] == "replace" for op in patch)
    assert "pod-template-hash" not in patch[0]["value"]["metadata"]["labels"]
    assert "pod-template-hash" in rs(1, "web:1").template["metadata"]["labels"]  # the input is not mutated
