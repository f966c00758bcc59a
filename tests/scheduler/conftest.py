"""Fixtures for the scheduler tests: the coordination store on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.store.coordination import Coordination, MemoryCoordination, RedisCoordination


@pytest.fixture(params=["memory", "redis"])
async def coord(request: pytest.FixtureRequest) -> AsyncIterator[Coordination]:
    impl: Coordination = (RedisCoordination(request.getfixturevalue("redis_client_url"))
                          if request.param == "redis" else MemoryCoordination())
    yield impl
    await impl.aclose()
