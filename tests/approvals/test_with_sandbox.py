"""The approvals wired as the bot runs them (build_deps: PostgreSQL store, Redis lock, the real `scale`
action) against the sandbox's Kubernetes API over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.approvals import Approver, DecisionKind, RefusalReason
from bot.approvals.decision import NothingToChange
from bot.config import Settings
from bot.sandbox.runner import Sandbox
from bot.store.approvals_pg import PostgresApprovalStore
from bot.wiring import Deps, build_deps
from tests.approvals.conftest import EDITOR, EDITOR_2, role_config


def _replicas(sandbox: Sandbox) -> int:
    deployment = sandbox.cluster.get("Deployment", "default", "auth-service")
    assert deployment is not None
    return int(deployment["spec"]["replicas"])


@pytest.fixture
async def wired(tmp_path: Path, pg_db: str, redis_client_url: str) -> AsyncIterator[tuple[Sandbox, Deps]]:
    with Sandbox("bad-deploy") as sandbox:
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        settings = Settings(_env_file=None, kubeconfig=str(kubeconfig), metrics_api_url=sandbox.metrics_url,
                            database_url=pg_db, redis_url=redis_client_url, opsbot_config=None)
        deps = build_deps(settings, role_config())
        try:
            yield sandbox, deps
        finally:
            await deps.aclose()


async def test_build_deps_uses_postgres_and_scale_executes(wired: tuple[Sandbox, Deps]) -> None:
    sandbox, deps = wired
    assert isinstance(deps.approvals.store, PostgresApprovalStore) and not deps.in_memory
    before = _replicas(sandbox)
    proposed = await deps.approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    assert proposed.request.state["replicas"] == str(before)
    assert _replicas(sandbox) == before  # proposing previews with a server dry run only
    decision = await deps.approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert decision.kind is DecisionKind.SUCCEEDED, decision.message
    assert _replicas(sandbox) == 5
    assert decision.outcome is not None and decision.outcome.revert is not None
    assert dict(decision.outcome.revert.params) == {"replicas": str(before)}


async def test_someone_scaled_meanwhile_so_refuse_and_repropose(wired: tuple[Sandbox, Deps]) -> None:
    sandbox, deps = wired
    proposed = await deps.approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    deployment = sandbox.cluster.get("Deployment", "default", "auth-service")
    assert deployment is not None
    deployment["spec"]["replicas"] = 4  # someone ran kubectl scale between the proposal and the click
    sandbox.cluster.update(deployment)
    decision = await deps.approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert decision.kind is DecisionKind.REFUSED and decision.reason is RefusalReason.TARGET_CHANGED
    assert _replicas(sandbox) == 4
    fresh = decision.reproposal
    assert fresh is not None and fresh.request.state["replicas"] == "4"
    assert "from 4 to 5" in fresh.preview.summary
    retry = await deps.approvals.approve(fresh.request.id, Approver.slack_user(EDITOR_2))
    assert retry.kind is DecisionKind.SUCCEEDED and _replicas(sandbox) == 5


def _pods(sandbox: Sandbox, service: str) -> set[str]:
    return {p["metadata"]["name"] for p in sandbox.cluster.list("Pod", "default", f"app={service}")}


def _deletes(sandbox: Sandbox) -> list[str]:
    return [r.path for r in sandbox.cluster.requests if r.method == "DELETE" and "dryRun" not in r.query]


async def test_delete_pod_still_runs_after_an_autoscaler_added_pods(wired: tuple[Sandbox, Deps]) -> None:
    sandbox, deps = wired
    victim = sorted(_pods(sandbox, "business-logic"))[0]
    proposed = await deps.approvals.propose("delete-pod", "business-logic", {"pod": victim}, requester=EDITOR)
    with sandbox.cluster.lock:  # an HPA scales up between the proposal and the click: new pods elsewhere
        deployment = sandbox.cluster.get("Deployment", "default", "business-logic")
        assert deployment is not None
        deployment["spec"]["replicas"] = int(deployment["spec"]["replicas"]) + 2
        sandbox.cluster.update(deployment)
        sandbox.cluster.reconcile()
    assert len(_pods(sandbox, "business-logic")) == 5
    decision = await deps.approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert decision.kind is DecisionKind.SUCCEEDED, decision.message
    assert _deletes(sandbox) == [f"/api/v1/namespaces/default/pods/{victim}"]


async def test_delete_pod_of_a_replaced_pod_is_refused_and_re_proposed(wired: tuple[Sandbox, Deps]) -> None:
    sandbox, deps = wired
    victim = sorted(_pods(sandbox, "business-logic"))[0]
    proposed = await deps.approvals.propose("delete-pod", "business-logic", {"pod": victim}, requester=EDITOR)
    with sandbox.cluster.lock:  # deleted and created again under the same name: another pod (another UID)
        pod = sandbox.cluster.get("Pod", "default", victim)
        assert pod is not None
        sandbox.cluster.delete("Pod", "default", victim)
        meta = {k: v for k, v in pod["metadata"].items() if k not in ("uid", "resourceVersion", "creationTimestamp")}
        new_uid = sandbox.cluster.create({**pod, "metadata": meta})["metadata"]["uid"]
    decision = await deps.approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert decision.kind is DecisionKind.REFUSED and decision.reason is RefusalReason.TARGET_CHANGED
    assert "pod_uid" in decision.message and _deletes(sandbox) == []
    fresh = decision.reproposal
    assert fresh is not None and fresh.request.state["pod_uid"] == new_uid
    retry = await deps.approvals.approve(fresh.request.id, Approver.slack_user(EDITOR_2))
    assert retry.kind is DecisionKind.SUCCEEDED, retry.message
    assert _deletes(sandbox) == [f"/api/v1/namespaces/default/pods/{victim}"]


async def test_delete_pod_of_a_pod_gone_is_refused_with_nothing_to_re_propose(wired: tuple[Sandbox, Deps]) -> None:
    sandbox, deps = wired
    victim = sorted(_pods(sandbox, "business-logic"))[0]
    proposed = await deps.approvals.propose("delete-pod", "business-logic", {"pod": victim}, requester=EDITOR)
    sandbox.cluster.delete("Pod", "default", victim)  # someone deleted it already; its ReplicaSet replaces it
    sandbox.cluster.reconcile()
    decision = await deps.approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert decision.kind is DecisionKind.REFUSED and decision.reason is RefusalReason.TARGET_CHANGED
    assert decision.reproposal is None and "could not re-propose" in decision.message
    assert f"{victim} is not one of business-logic's pods" in decision.message
    assert _deletes(sandbox) == [] and len(_pods(sandbox, "business-logic")) == 3


async def test_a_scale_that_changes_nothing_is_not_offered(wired: tuple[Sandbox, Deps]) -> None:
    sandbox, deps = wired
    now = _replicas(sandbox)
    with pytest.raises(NothingToChange, match=f"nothing to change — auth-service already runs {now} replicas"):
        await deps.approvals.propose("scale", "auth-service", {"replicas": str(now)}, requester=EDITOR)
    assert await deps.approvals.store.audit(service="auth-service") == []  # nothing stored, nothing to click
    _, preview = await deps.approvals.preview("scale", "auth-service", {"replicas": str(now)})
    assert preview.unchanged == f"auth-service already runs {now} replicas"  # previewing still answers


async def test_a_stale_request_whose_target_now_matches_is_not_reproposed(wired: tuple[Sandbox, Deps]) -> None:
    sandbox, deps = wired
    proposed = await deps.approvals.propose("scale", "auth-service", {"replicas": "5"}, requester=EDITOR)
    deployment = sandbox.cluster.get("Deployment", "default", "auth-service")
    assert deployment is not None
    deployment["spec"]["replicas"] = 5  # someone already did it by hand
    sandbox.cluster.update(deployment)
    decision = await deps.approvals.approve(proposed.request.id, Approver.slack_user(EDITOR_2))
    assert decision.kind is DecisionKind.REFUSED and decision.reason is RefusalReason.TARGET_CHANGED
    assert decision.reproposal is None
    assert "nothing to change — auth-service already runs 5 replicas" in decision.message
