"""Edges of the actions' own checks: finished pods are not counted (one rule for every check), and a deployment
without containers is a clear refusal that verification reports, not an IndexError."""

from __future__ import annotations

from typing import Any, cast

import pytest

from bot.actions import ACTIONS
from bot.actions.base import ActionEnv, ActionError, ChecksItself
from bot.config import OpsConfig
from bot.model import Status
from bot.sandbox.runner import NAMESPACE, Sandbox
from bot.sources.admin_records import DeploymentSpecView
from bot.sources.kube_writes import KubeWriter
from bot.verification import measure_itself


def checker(name: str) -> Any:
    action = ACTIONS[name]
    assert isinstance(action, ChecksItself)
    return action


def finish_one_pod(sandbox: Sandbox, service: str) -> None:
    pod = sandbox.cluster.list("Pod", NAMESPACE, f"app={service}")[0]
    pod["status"]["phase"] = "Succeeded"
    sandbox.cluster.update(pod)


async def test_finished_pods_count_for_neither_scale_to_zero_nor_debug_logging(
    env: ActionEnv, config: OpsConfig, sandbox: Sandbox
) -> None:
    finish_one_pod(sandbox, "data-processor")
    down = checker("scale-to-zero")
    left = await down.check(env, config.target("data-processor"), down.parse({}, config))
    assert left.facts[0].value.startswith("2 (")

    finish_one_pod(sandbox, "auth-service")
    debug = checker("debug-logging")
    revert = await debug.check(env, config.target("auth-service"), debug.parse({"revert": "true"}, config))
    assert revert.facts[0].value == "0 of 2"


class NoContainers:
    """A kube writer whose deployment has an empty pod template (the API server never serves one; a bug or a
    half-read object might)."""

    async def deployment(self, target: Any) -> DeploymentSpecView:
        return DeploymentSpecView(name="auth-service", namespace=NAMESPACE, uid="u1", generation=1,
                                  observed_generation=1, revision=1, replicas=2, paused=False, annotations={},
                                  containers=(), template={})

    async def controlled_pods(self, deployment: DeploymentSpecView) -> list[Any]:
        return []


async def test_debug_logging_on_a_deployment_without_containers_says_so(config: OpsConfig) -> None:
    env = ActionEnv(kube=cast(KubeWriter, NoContainers()), config=config)
    debug = checker("debug-logging")
    finding = await measure_itself(debug, "debug-logging", env, config.target("auth-service"),
                                   debug.parse({"minutes": "15"}, config))
    assert finding.status is Status.ERROR
    assert finding.summary == "deployment auth-service has no containers"


async def test_debug_logging_preview_of_a_deployment_without_containers_is_refused(config: OpsConfig) -> None:
    env = ActionEnv(kube=cast(KubeWriter, NoContainers()), config=config)
    debug = ACTIONS["debug-logging"]
    with pytest.raises(ActionError, match="deployment auth-service has no containers"):
        await debug.preview(env, config.target("auth-service"), debug.parse({"minutes": "15"}, config))
