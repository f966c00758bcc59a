"""Least-squares line through (x, y) points: how fast something grows and how well a line explains it. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LineFit:
    slope: float
    intercept: float
    r_squared: float  # 1.0: the points lie on the line; near 0: the line explains nothing


def fit_line(points: Sequence[tuple[float, float]]) -> LineFit | None:
    """None with fewer than two points or when all x are equal (no slope can be told)."""
    if len(points) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    syy = sum((y - mean_y) ** 2 for _, y in points)
    slope = sxy / sxx
    # All y equal: a flat line explains them perfectly.
    r_squared = 1.0 if syy == 0 else (sxy * sxy) / (sxx * syy)
    return LineFit(slope, mean_y - slope * mean_x, r_squared)
