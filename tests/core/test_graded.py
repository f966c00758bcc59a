"""The two lines a number is held to (warn, crit), shared by the latency, error-rate, pool, cache and log checks."""

import pytest

from bot.checks.base import graded
from bot.model import Status


@pytest.mark.parametrize(
    ("value", "status"),
    [(0.0, Status.OK), (149.9, Status.OK), (150.0, Status.WARN), (199.9, Status.WARN), (200.0, Status.CRIT),
     (1e9, Status.CRIT)],
)
def test_a_value_on_a_line_counts_as_over_it(value: float, status: Status) -> None:
    assert graded(value, 150.0, 200.0) is status
