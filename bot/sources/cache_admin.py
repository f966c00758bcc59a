"""The platform cache (CACHE_REDIS_URL): key count and FLUSHDB of the configured DB only."""

from __future__ import annotations


class CacheAdmin:
    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self._url = url
        self._timeout_s = timeout_s
