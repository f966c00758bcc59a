"""Watches on lists (what kubectl rollout status and informers use), through the official client's Watch."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import urllib3
from kubernetes import watch

from bot.sandbox.kube.watch import Watcher

from .conftest import KubeSandbox, deployment_manifest


def _collect(kube: KubeSandbox, seconds: int, **kwargs: Any) -> tuple[threading.Thread, list[tuple[str, str]]]:
    """Watch deployments for `seconds` in a thread; the events as (type, name[:replicas])."""
    seen: list[tuple[str, str]] = []

    def run() -> None:
        for event in watch.Watch().stream(kube.apps.list_namespaced_deployment, "default",
                                          timeout_seconds=seconds, **kwargs):
            obj = event["object"]
            seen.append((event["type"], f"{obj.metadata.name}:{obj.spec.replicas}"))

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.3)  # the watch is open before anything changes
    return thread, seen


def test_changes_after_the_resource_version_are_streamed(web: KubeSandbox) -> None:
    since = web.cluster.resource_version
    thread, seen = _collect(web, 2, resource_version=since)
    web.apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 3}})
    web.apps.create_namespaced_deployment("default", deployment_manifest("api", replicas=1))
    time.sleep(0.3)
    web.apps.delete_namespaced_deployment("api", "default")
    thread.join(timeout=10)
    assert not thread.is_alive()  # the stream ended at timeoutSeconds
    assert ("MODIFIED", "web:3") in seen and ("MODIFIED", "web:2") not in seen  # nothing from before `since`
    api_events = [kind for kind, what in seen if what.startswith("api:")]
    assert api_events[0] == "ADDED" and api_events[-1] == "DELETED"


def test_without_a_resource_version_the_current_objects_come_first_and_selectors_apply(web: KubeSandbox) -> None:
    thread, seen = _collect(web, 1, label_selector="app=api")
    web.apps.create_namespaced_deployment("default", deployment_manifest("api", replicas=1))
    thread.join(timeout=10)
    assert seen[0] == ("ADDED", "api:1") and all(what.startswith("api:") for _, what in seen)

    thread, seen = _collect(web, 1)
    thread.join(timeout=10)
    assert sorted(seen) == [("ADDED", "api:1"), ("ADDED", "web:2")]


def test_a_watch_whose_client_left_stops_polling(web: KubeSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    polls = [0]
    poll = Watcher.poll

    def counted(self: Watcher) -> list[dict[str, Any]]:
        polls[0] += 1
        return poll(self)

    monkeypatch.setattr(Watcher, "poll", counted)
    pool = urllib3.PoolManager()
    response = pool.request("GET", f"{web.url}/apis/apps/v1/namespaces/default/deployments"
                                   "?watch=true&timeoutSeconds=60", preload_content=False)
    assert response.status == 200
    time.sleep(0.3)
    response.shutdown()
    response.close()
    pool.clear()
    time.sleep(0.3)
    stopped_at = polls[0]
    time.sleep(0.5)
    assert stopped_at > 0 and polls[0] == stopped_at
