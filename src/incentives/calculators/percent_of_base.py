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
    label_zh, label_en, rate_text = _rate_texts(rate, rounding)
    base_step = Step(base_label[0], base_label[1], amount_fen=base_fen)
    rate_step = Step(label_zh, label_en, amount_fen=raw, value=rate_text, cite=rate_cite)
    if cap_fen is None:
        return Computation(raw, (base_step, rate_step), rate=rate_text, base_fen=base_fen)
    award = min(raw, cap_fen)
    binding = raw >= cap_fen
    cap_step = Step("不超过上限" if binding else "未触及上限", "limited to the cap" if binding else "under the cap",
                    amount_fen=award, cite=cap_cite)
    return Computation(award, (base_step, rate_step, cap_step), cap_fen=cap_fen, binding_cap=binding,
                       headroom_fen=cap_fen - award, rate=rate_text, base_fen=base_fen)


def _rounding_zh(rounding: Rounding) -> str:
    return "向下取整到分" if rounding is Rounding.down_to_fen else "四舍五入到分"


# Rates here come from the scheme data, so their texts are few and fixed: formatted once each. Keyed by the
# rate's text, not the Decimal, because Decimal("0.35") == Decimal("0.350") but they print differently.
_RATE_TEXTS: dict[tuple[str, Rounding], tuple[str, str, str]] = {}


def _rate_texts(rate: Decimal, rounding: Rounding) -> tuple[str, str, str]:
    """(zh label, en label, the rate as plain text) of the "× rate" step."""
    rate_text = format(rate, "f")
    key = (rate_text, rounding)
    found = _RATE_TEXTS.get(key)
    if found is None:
        percent = format_rate(rate)
        found = (f"× {percent}（{_rounding_zh(rounding)}）", f"× {percent} ({rounding.value})", rate_text)
        if len(_RATE_TEXTS) >= 10_000:  # only reached by generated rates (property tests): start again
            _RATE_TEXTS.clear()
        _RATE_TEXTS[key] = found
    return found
