"""The coordination store under test, once per implementation: in memory and on real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.store.coordination import Coordination, MemoryCoordination, RedisCoordination


@pytest.fixture(params=["memory", "redis"])
async def coord(request: pytest.FixtureRequest) -> AsyncIterator[Coordination]:
    impl: Coordination
    if request.param == "redis":
        impl = RedisCoordination(request.getfixturevalue("redis_client_url"))
    else:
        impl = MemoryCoordination()
    yield impl
    await impl.aclose()
