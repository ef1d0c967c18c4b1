"""Fixed award ("给予X元的一次性奖励") and award up to a cap ("给予最高X元")."""

from __future__ import annotations

from ..citations import Cite
from ..results import Computation, Step


def fixed_award(amount_fen: int, cite: Cite | None = None) -> Computation:
    """The award is the stated amount."""
    return Computation(amount_fen, (Step("定额奖励", "fixed award", amount_fen=amount_fen, cite=cite),))


def award_up_to_cap(
    cap_fen: int, base_fen: int | None = None, *, base_label: tuple[str, str] | None = None, cite: Cite | None = None,
    already_this_year_fen: int = 0, year: int | None = None,
) -> Computation:
    """The award is at most the cap; with a base (an amount asked for or spent), at most the base as well.

    A yearly cap ("每年最高", a scheme that is not one-off) is what is left of it after the awards already received
    under the scheme that calendar year; the steps then show the cap and those awards."""
    room = max(cap_fen - already_this_year_fen, 0)
    yearly = () if not already_this_year_fen else (
        Step(f"{year}年度上限", f"annual cap for {year}", amount_fen=cap_fen, cite=cite),
        Step(f"{year}年已获资助", f"already awarded in {year}", amount_fen=already_this_year_fen),
    )
    if base_fen is None:
        step = (Step("最高额度（上限金额）", "up to the cap (upper bound)", amount_fen=cap_fen, cite=cite) if not yearly
                else Step("本年度剩余额度（上限）", "the room left this year (upper bound)", amount_fen=room))
        return Computation(room, (*yearly, step), cap_fen=cap_fen, binding_cap=True, headroom_fen=0)
    label = base_label or ("申请金额", "amount claimed")
    award = min(base_fen, room)
    binding = base_fen >= room
    steps = (
        Step(label[0], label[1], amount_fen=base_fen),
        *yearly,
        Step("不超过上限" if binding else "未触及上限", "limited to the cap" if binding else "under the cap",
             amount_fen=award, cite=None if yearly else cite),
    )
    return Computation(award, steps, cap_fen=cap_fen, binding_cap=binding, headroom_fen=room - award,
                       base_fen=base_fen)
