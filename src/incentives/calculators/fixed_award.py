"""Fixed award ("给予X元的一次性奖励") and award up to a cap ("给予最高X元")."""

from __future__ import annotations

from ..citations import Cite
from ..results import Computation, Step


def fixed_award(amount_fen: int, cite: Cite | None = None) -> Computation:
    """The award is the stated amount."""
    return Computation(amount_fen, (Step("定额奖励", "fixed award", amount_fen=amount_fen, cite=cite),))


def award_up_to_cap(
    cap_fen: int, base_fen: int | None = None, *, base_label: tuple[str, str] | None = None, cite: Cite | None = None,
    already_fen: int = 0, year: int | None = None,
) -> Computation:
    """The award is at most the cap; with a base (an amount asked for or spent), at most the base as well.

    A cap that earlier awards use up is what is left of it after the awards already received under the scheme:
    that calendar year for a yearly cap ("每年最高", `year` given), or in all for a cap of the unit in total
    (`year` None); the steps then show the cap and those awards."""
    room = max(cap_fen - already_fen, 0)
    when = (f"{year}年度上限", f"annual cap for {year}", f"{year}年已获资助", f"already awarded in {year}",
            "本年度剩余额度（上限）", "the room left this year (upper bound)") if year is not None else (
        "上限", "cap", "已获资助", "already awarded", "剩余额度（上限）", "the room left (upper bound)")
    used = () if not already_fen else (
        Step(when[0], when[1], amount_fen=cap_fen, cite=cite),
        Step(when[2], when[3], amount_fen=already_fen),
    )
    if base_fen is None:
        step = (Step("最高额度（上限金额）", "up to the cap (upper bound)", amount_fen=cap_fen, cite=cite) if not used
                else Step(when[4], when[5], amount_fen=room))
        return Computation(room, (*used, step), cap_fen=cap_fen, binding_cap=True, headroom_fen=0)
    label = base_label or ("申请金额", "amount claimed")
    award = min(base_fen, room)
    binding = base_fen >= room
    steps = (
        Step(label[0], label[1], amount_fen=base_fen),
        *used,
        Step("不超过上限" if binding else "未触及上限", "limited to the cap" if binding else "under the cap",
             amount_fen=award, cite=None if used else cite),
    )
    return Computation(award, steps, cap_fen=cap_fen, binding_cap=binding, headroom_fen=room - award,
                       base_fen=base_fen)
