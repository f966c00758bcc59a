"""kubectl rollout undo's client-side logic (kubectl 1.20 `DeploymentRollbacker`), pure functions.

Undo is not a server operation: kubectl picks a ReplicaSet from the history, copies its pod template
(without the `pod-template-hash` label the controller added) and its annotations back into the deployment
with one JSON patch; the deployment controller then adopts that ReplicaSet and renumbers it to the next
revision. Doing exactly the same keeps `kubectl rollout history` identical to what a person would get.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from bot.sources.admin_records import ReplicaSetRevision
from bot.sources.errors import SourceError

HASH_LABEL = "pod-template-hash"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
# Annotations the deployment keeps as they are; every other one comes from the ReplicaSet (kubectl's
# annotationsToSkip).
KEPT_ON_DEPLOYMENT = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    REVISION_HISTORY,
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
})


def choose_revision(history: Sequence[ReplicaSetRevision], to_revision: int | None, deployment: str,
                    current_revision: int | None = None) -> ReplicaSetRevision:
    """`--to-revision=N`, or with none the second-highest revision (the one before the current).

    An undo to N that already happened renumbered N: the current ReplicaSet then lists N in its
    revision-history, and is returned so the caller sees "already there" instead of a missing revision
    (this is what makes executing the same undo twice a no-op)."""
    if to_revision is not None:
        for entry in history:
            if entry.revision == to_revision:
                return entry
        for entry in history:
            if entry.revision == current_revision and str(to_revision) in _former_revisions(entry):
                return entry
        raise SourceError("kubernetes", f"unable to find revision {to_revision} of deployment {deployment}")
    ordered = sorted(history, key=lambda r: r.revision)
    if len(ordered) < 2:
        raise SourceError("kubernetes", f"no previous revision of deployment {deployment} to roll back to")
    return ordered[-2]


def _former_revisions(entry: ReplicaSetRevision) -> list[str]:
    return [r for r in entry.annotations.get(REVISION_HISTORY, "").split(",") if r]


def without_hash(template: Mapping[str, Any]) -> dict[str, Any]:
    stripped = copy.deepcopy(dict(template))
    labels = (stripped.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return stripped


def templates_equal(replicaset_template: Mapping[str, Any], deployment_template: Mapping[str, Any]) -> bool:
    """kubectl's equalIgnoreHash: the same pod template apart from the hash label (undo is then skipped)."""
    return without_hash(replicaset_template) == without_hash(deployment_template)


def undo_annotations(deployment: Mapping[str, str], replicaset: Mapping[str, str]) -> dict[str, str]:
    kept = {k: v for k, v in deployment.items() if k in KEPT_ON_DEPLOYMENT}
    copied = {k: v for k, v in replicaset.items() if k not in KEPT_ON_DEPLOYMENT}
    return {**kept, **copied}


def undo_patch(replicaset_template: Mapping[str, Any], annotations: Mapping[str, str]) -> list[dict[str, Any]]:
    """The JSON patch kubectl sends: replace the template and the annotations."""
    return [
        {"op": "replace", "path": "/spec/template", "value": without_hash(replicaset_template)},
        {"op": "replace", "path": "/metadata/annotations", "value": dict(annotations)},
    ]
