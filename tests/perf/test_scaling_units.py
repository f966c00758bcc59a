"""How far a proposal scales out, and how quantities are written for people and for actions."""

from bot.checks.scaling import scale_out_target
from bot.checks.units import cores, memory, memory_limit

GIB = 1024**3


def test_scale_out_uses_the_hpa_formula_with_at_least_one_more_pod() -> None:
    assert scale_out_target(4, 0.96, 0.8) == 5  # ceil(4.8)
    assert scale_out_target(10, 0.96, 0.8) == 12
    assert scale_out_target(3, 0.5, 0.8) == 4  # called only when saturated, still one more at least


def test_scale_out_is_capped_and_says_when_nothing_fits() -> None:
    assert scale_out_target(15, 0.97, 0.8, ceiling=15) is None  # already at the HPA's maximum
    assert scale_out_target(18, 0.96, 0.8) == 20  # the guide's biggest emergency scale-up
    assert scale_out_target(20, 0.96, 0.8) is None
    assert scale_out_target(0, 0.9, 0.8) is None


def test_quantities() -> None:
    assert memory(1896 * 1024**2) == "1,896 MiB"
    assert memory(12 * GIB) == "12.0 GiB"
    assert cores(1.94) == "1,940m"
    assert memory_limit(4 * GIB) == "4Gi"
    assert memory_limit(3 * GIB // 2) == "1536Mi"
    assert memory_limit(1024**2 + 1) == "2Mi"  # rounded up: a bump never lands below what was asked
