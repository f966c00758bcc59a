"""kubectl rollout undo's client-side logic (kubectl 1.20 `DeploymentRollbacker`), pure functions.

Undo is not a server operation: kubectl picks a ReplicaSet from the history, copies its pod template
(without the `pod-template-hash` label the controller added) and its annotations back into the deployment
with one JSON patch; the deployment controller then adopts that ReplicaSet and renumbers it to the next
revision. Doing exactly the same keeps `kubectl rollout history` identical to what a person would get.
The one deliberate difference is metadata only: opsbot's record of the replica count to restore survives
(`OPSBOT_DEPLOYMENT_RECORDS`).
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
# scale-to-zero's record of the replica count to restore (read by restore-replicas). Defined here because
# undo must know it: "scale to 0, roll back the bad deploy, restore" is the guide's emergency sequence.
REPLICAS_BEFORE = "opsbot.io/replicas-before-scale-to-zero"
# opsbot's annotations about the deployment's spec.replicas, which undo does not touch: they survive an undo
# as the deployment has them, and a ReplicaSet's copy (the controller copies deployment annotations onto the
# current ReplicaSet and never removes them, so an old one can hold a count restored long ago) never comes
# back. Only these metadata annotations differ from kubectl; the template and revision numbers are its own.
#
# The timed changes' records (debug-logging's `opsbot.io/log-level-before-debug` / `-until`, memory-bump's
# `opsbot.io/memory-limit-before-bump` / `-until`) are deliberately NOT kept: they describe the pod template
# (LOG_LEVEL, the memory limit), so they follow it as kubectl does. The patch that makes such a change writes
# the records with it, so the ReplicaSet of the changed template carries them: undo to an older template
# without the change drops them (the setting is gone with the template, so a pending revert would be moot,
# and a later one would wrongly overwrite the older template's own value with the recorded one), while undo
# to a template made with the change brings them back, so its revert still runs (at once if its
# time has passed).
OPSBOT_DEPLOYMENT_RECORDS = frozenset({REPLICAS_BEFORE})


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
    """kubectl's: the kept keys from the deployment, everything else from the chosen ReplicaSet; except that
    opsbot's own records of the replica count (`OPSBOT_DEPLOYMENT_RECORDS`) stay exactly as the deployment
    has them (present or absent)."""
    kept = {k: v for k, v in deployment.items() if k in KEPT_ON_DEPLOYMENT or k in OPSBOT_DEPLOYMENT_RECORDS}
    copied = {k: v for k, v in replicaset.items()
              if k not in KEPT_ON_DEPLOYMENT and k not in OPSBOT_DEPLOYMENT_RECORDS}
    return {**kept, **copied}


def undo_patch(replicaset_template: Mapping[str, Any], annotations: Mapping[str, str]) -> list[dict[str, Any]]:
    """The JSON patch kubectl sends: replace the template and the annotations."""
    return [
        {"op": "replace", "path": "/spec/template", "value": without_hash(replicaset_template)},
        {"op": "replace", "path": "/metadata/annotations", "value": dict(annotations)},
    ]
