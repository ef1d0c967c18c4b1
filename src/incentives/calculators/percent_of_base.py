"""Percent of base with an optional cap ("不超过总投入X%、最高Y元"); also the tiered kind's arithmetic."""

from __future__ import annotations

from decimal import Decimal

from ..citations import Cite
from ..money import Rounding, apply_rate, format_rate
from ..results import Computation, Step


def percent_of_base(
    base_fen: int,
    rate: Decimal,
    cap_fen: int | None,
    rounding: Rounding,
    *,
    base_label: tuple[str, str] = ("基数", "base"),
    rate_cite: Cite | None = None,
    cap_cite: Cite | None = None,
) -> Computation:
    """Award = base × rate, rounded once, then limited to the cap."""
    raw = apply_rate(base_fen, rate, rounding)
    steps = [
        Step(base_label[0], base_label[1], amount_fen=base_fen),
        Step(f"× {format_rate(rate)}（{_rounding_zh(rounding)}）", f"× {format_rate(rate)} ({rounding.value})",
             amount_fen=raw, value=format(rate, "f"), cite=rate_cite),
    ]
    if cap_fen is None:
        return Computation(raw, tuple(steps), rate=format(rate, "f"), base_fen=base_fen)
    award = min(raw, cap_fen)
    binding = raw >= cap_fen
    steps.append(Step("不超过上限" if binding else "未触及上限", "limited to the cap" if binding else "under the cap",
                      amount_fen=award, cite=cap_cite))
    return Computation(award, tuple(steps), cap_fen=cap_fen, binding_cap=binding, headroom_fen=cap_fen - award,
                       rate=format(rate, "f"), base_fen=base_fen)


def _rounding_zh(rounding: Rounding) -> str:
    return "向下取整到分" if rounding is Rounding.down_to_fen else "四舍五入到分"
