"""Caps that earlier awards use up: annual percent with an annual cap, and a cumulative cap across awards."""

from __future__ import annotations

from decimal import Decimal

from ..citations import Cite
from ..money import Rounding
from ..results import Computation, Step
from .percent_of_base import percent_of_base


def annual_percent_with_cap(
    base_fen: int,
    rate: Decimal,
    annual_cap_fen: int,
    already_awarded_this_year_fen: int,
    rounding: Rounding,
    *,
    year: int,
    base_label: tuple[str, str],
    rate_cite: Cite | None = None,
    cap_cite: Cite | None = None,
) -> Computation:
    """This year's award = min(base × rate, annual cap − awards already received this calendar year)."""
    room = max(annual_cap_fen - already_awarded_this_year_fen, 0)
    inner = percent_of_base(base_fen, rate, None, rounding, base_label=base_label, rate_cite=rate_cite)
    award = min(inner.amount_fen, room)
    binding = inner.amount_fen >= room
    steps = list(inner.steps) + [
        Step(f"{year}年度上限", f"annual cap for {year}", amount_fen=annual_cap_fen, cite=cap_cite),
        Step(f"{year}年已获资助", f"already awarded in {year}", amount_fen=already_awarded_this_year_fen),
        Step("本年度可获（不超过剩余额度）", "this year's award (within the room left)", amount_fen=award),
    ]
    return Computation(award, tuple(steps), cap_fen=annual_cap_fen, binding_cap=binding,
                       headroom_fen=room - award, rate=inner.rate, base_fen=base_fen)


def cumulative_cap(cap_fen: int, already_awarded_fen: int, *, cite: Cite | None = None) -> Computation:
    """The award is what is left of the cumulative cap after earlier awards ("累计不超过")."""
    room = max(cap_fen - already_awarded_fen, 0)
    steps = (
        Step("累计上限", "cumulative cap", amount_fen=cap_fen, cite=cite),
        Step("已获同类资助", "already awarded under this scheme", amount_fen=already_awarded_fen),
        Step("剩余可获额度", "room left under the cap", amount_fen=room),
    )
    return Computation(room, steps, cap_fen=cap_fen, binding_cap=True, headroom_fen=0)
