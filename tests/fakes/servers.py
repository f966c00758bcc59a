"""The throwaway PostgreSQL and Redis servers of the tests: they live in bot.sandbox.local_servers, which
`opsbot demo` uses as well; this module keeps the tests' imports short and stable."""

from bot.sandbox.local_servers import (
    PG_OS_USER,
    PG_USER,
    PostgresCluster,
    RedisServer,
    ServerStartError,
    find_pg_bin_dir,
    free_port,
)

__all__ = [
    "PG_OS_USER",
    "PG_USER",
    "PostgresCluster",
    "RedisServer",
    "ServerStartError",
    "find_pg_bin_dir",
    "free_port",
]
