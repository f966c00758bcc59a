"""rollback leaves the deployment exactly as `kubectl rollout undo` does: the same template, images,
annotations and revision numbers as kubectl's client-side undo applied to an identical platform."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from bot.actions import ACTIONS
from bot.actions.base import ActionEnv, ActionError
from bot.config import OpsConfig
from bot.sandbox.runner import Sandbox
from tests.sandbox.conftest import KubeSandbox
from tests.sandbox.test_kube_rollouts import kubectl_undo

from .conftest import deployment, revisions, snapshot

REVISION = "deployment.kubernetes.io/revision"


@pytest.fixture
def kubectl_twin() -> Iterator[KubeSandbox]:
    """An identical platform that kubectl's undo (as the sandbox tests reproduce it) is applied to."""
    with Sandbox("bad-deploy") as twin:
        api = client.ApiClient(client.Configuration(host=twin.kube_url))
        try:
            yield KubeSandbox(twin.cluster, twin.kube_url, api)
        finally:
            api.close()  # type: ignore[no-untyped-call]


def image(stored: dict[str, Any]) -> str:
    return str(stored["spec"]["template"]["spec"]["containers"][0]["image"])


async def test_undo_matches_kubectl(env: ActionEnv, config: OpsConfig, sandbox: Sandbox,
                                    kubectl_twin: KubeSandbox) -> None:
    action = ACTIONS["rollback"]
    params = action.parse({}, config)
    target = config.target("auth-service")
    before = snapshot(sandbox, "auth-service")
    preview = await action.preview(env, target, params)
    assert snapshot(sandbox, "auth-service") == before
    assert "from revision 7" in preview.summary and "to revision 6" in preview.summary

    outcome = await action.execute(env, target, params)
    kubectl_undo(kubectl_twin, "auth-service")
    ours, kubectls = deployment(sandbox, "auth-service"), deployment(kubectl_twin, "auth-service")

    assert ours["spec"]["template"] == kubectls["spec"]["template"]
    assert ours["metadata"]["annotations"] == kubectls["metadata"]["annotations"]
    assert image(ours) == image(kubectls) and image(ours).endswith(":2.4.1")
    assert sorted(revisions(sandbox, "auth-service")) == sorted(revisions(kubectl_twin, "auth-service")) == [5, 7, 8]
    assert ours["metadata"]["annotations"][REVISION] == "8"
    assert ours["metadata"]["annotations"]["kubernetes.io/change-cause"] == "deploy 2.4.1: fix token expiry off-by-one"
    assert outcome.revert is not None and dict(outcome.revert.params) == {"to_revision": "7"}


async def test_undo_to_a_revision_twice_is_one_undo_and_revert_goes_back(env: ActionEnv, config: OpsConfig,
                                                                        sandbox: Sandbox) -> None:
    action = ACTIONS["rollback"]
    target = config.target("auth-service")
    params = action.parse({"to_revision": "5"}, config)
    outcome = await action.execute(env, target, params)
    assert image(deployment(sandbox, "auth-service")).endswith(":2.4.0")
    assert sorted(revisions(sandbox, "auth-service")) == [6, 7, 8]

    again = await action.execute(env, target, params)  # revision 5 is now 8: already there
    assert again.ok and "nothing rolled back" in again.summary
    assert sorted(revisions(sandbox, "auth-service")) == [6, 7, 8]

    assert outcome.revert is not None
    await action.execute(env, target, action.parse(outcome.revert.params, config))
    assert image(deployment(sandbox, "auth-service")).endswith(":2.5.0")
    assert sorted(revisions(sandbox, "auth-service")) == [6, 8, 9]


async def test_unknown_revision_and_paused_deployment_are_refused(env: ActionEnv, config: OpsConfig,
                                                                  sandbox: Sandbox) -> None:
    action = ACTIONS["rollback"]
    target = config.target("auth-service")
    missing = action.parse({"to_revision": "99"}, config)
    assert "unable to find revision 99" in ((await action.preview(env, target, missing)).blocked or "")
    with pytest.raises(ActionError, match="revision 99"):
        await action.execute(env, target, missing)

    stored = deployment(sandbox, "auth-service")
    stored["spec"]["paused"] = True
    sandbox.cluster.update(stored)
    previous = action.parse({}, config)
    assert "paused" in ((await action.preview(env, target, previous)).blocked or "")
    with pytest.raises(ActionError, match="paused"):
        await action.execute(env, target, previous)
    assert image(deployment(sandbox, "auth-service")).endswith(":2.5.0")
