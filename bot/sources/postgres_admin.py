"""Administrative queries on the platform database (TARGET_DATABASE_URL): idle connections, cancel a query."""

from __future__ import annotations


class PostgresAdmin:
    def __init__(self, dsn: str, timeout_s: float = 5.0) -> None:
        self._dsn = dsn
        self._timeout_s = timeout_s
