"""Money: integer fen inside the engine, Decimal rates, one explicit rounding per rule.

Yuan are parsed once at the edges (profile input, scheme data) and formatted only for people.
"""

from __future__ import annotations

import re

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum
from typing import NewType

Fen = NewType("Fen", int)

FEN_PER_YUAN = 100


class Rounding(str, Enum):
    """How a rule turns an exact Decimal into whole fen."""

    down_to_fen = "down_to_fen"  # "不超过 / 最高" ceilings never round up
    half_up_to_fen = "half_up_to_fen"


class MoneyError(ValueError):
    """A value that cannot be an amount of money; carries zh and en messages."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh = zh
        self.en = en


def round_ratio(top: int, bottom: int, rounding: Rounding) -> Fen:
    """top / bottom (bottom > 0) in whole fen, in exact integer arithmetic, rounded once as the rule names."""
    quotient, remainder = divmod(top, bottom)
    if rounding is Rounding.half_up_to_fen and 2 * remainder >= bottom:
        quotient += 1
    return Fen(quotient)


def apply_rate(base: Fen, rate: Decimal, rounding: Rounding) -> Fen:
    """base × rate, rounded once, in exact integer arithmetic."""
    top, bottom = rate.as_integer_ratio()
    return round_ratio(base * top, bottom, rounding)


_THOUSANDS = re.compile(r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?")


def parse_decimal(value: object, *, allow_negative: bool = False) -> Decimal:
    """Parse an int, Decimal or decimal string exactly; reject floats, bools, NaN, infinity and negatives."""
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError("必须是整数或十进制字符串（不接受浮点数）", "must be an integer or a decimal string, not a float")
    if isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, Decimal):
        result = value
    elif isinstance(value, str):
        text = value.strip()
        if "," in text:
            # a comma only groups thousands: "1,5" or "3,2" is a decimal comma elsewhere, and read as 15 or 32 it
            # would be ten times off, silently
            if not _THOUSANDS.fullmatch(text):
                raise MoneyError(f"“{value}”：逗号只能用作千位分隔（如 3,000,000），小数请用小数点",
                                 f"'{value}': a comma may only group thousands (3,000,000); write decimals with a point")
            text = text.replace(",", "")
        text = text.replace("_", "")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise MoneyError(f"“{value}”不是有效的数字", f"'{value}' is not a valid number") from None
    else:
        raise MoneyError("必须是数字", "must be a number")
    if not result.is_finite():
        raise MoneyError("不能是 NaN 或无穷大", "must be finite (NaN and infinity are rejected)")
    if result < 0 and not allow_negative:
        raise MoneyError("不能为负数", "must not be negative")
    return result


def yuan_to_fen(value: object) -> Fen:
    """Parse a yuan amount given as int / Decimal / decimal string; at most two decimal places."""
    yuan = parse_decimal(value)
    # read the digits exactly: Decimal arithmetic would round to the context's 28 digits and let
    # "1.0000000000000000000000000001" through as 100 fen
    _, digits, exponent = yuan.as_tuple()
    if not any(digits):
        return Fen(0)
    while exponent < -2 and digits and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    if exponent < -2:
        raise MoneyError("金额最多保留两位小数（到分）", "amount has more than two decimal places (finer than a fen)")
    if len(digits) + exponent > 30:
        raise MoneyError("金额过大", "amount is too large")
    return Fen(int("".join(map(str, digits)) or "0") * 10 ** (exponent + 2))


_CENT = Decimal("0.01")


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / FEN_PER_YUAN).quantize(_CENT)


def grouped_yuan(fen: int) -> str:
    """f"{fen_to_yuan(fen):,}" (1234567 -> "12,345.67"), in integer arithmetic: engine results write it for every
    amount they show."""
    if abs(fen) >= 10**26:  # beyond the 28 digits Decimal keeps: let it answer (or fail) as it does
        return f"{fen_to_yuan(fen):,}"
    yuan, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{'-' if fen < 0 else ''}{yuan:,}.{cents:02d}"


def format_cny(fen: int) -> str:
    """¥1,234,567.89"""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def format_wan(fen: int) -> str:
    """123.46万元 (rounded half up to 0.01 万元, for display only)."""
    wan = (Decimal(fen) / (FEN_PER_YUAN * 10_000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{wan:,}万元"


# English readers count in thousands, not in 万 (ten thousand): the largest of these units whose rounded value is
# at least 1.00 names the amount, e.g. ¥2.63M for 263.12万元
_COMPACT_UNITS = ((10**9, "B"), (10**6, "M"), (10**3, "K"))


def format_cny_compact(fen: int) -> str:
    """¥2.63M / ¥54.00K / ¥1.20B, rounded half up to 0.01 of the unit; an amount that would read under ¥1.00K is
    written in full (¥500.00). For display only: charts, where a table nearby shows the exact amount."""
    sign = "-" if fen < 0 else ""
    for unit_yuan, suffix in _COMPACT_UNITS:
        # fen / unit_yuan is the amount in hundredths of the unit; rounded once, half up, in integers. The unit is
        # chosen after rounding, so 999,999.99 yuan reads ¥1.00M, never ¥1,000.00K.
        hundredths = round_ratio(abs(fen), unit_yuan, Rounding.half_up_to_fen)
        if hundredths >= 100:
            whole, part = divmod(hundredths, 100)
            return f"{sign}¥{whole:,}.{part:02d}{suffix}"
    return format_cny(fen)


def format_glance(fen: int, zh: bool) -> str:
    """An amount at a glance, beside its exact figure: 万元 for Chinese readers, ¥…K / ¥…M for English ones."""
    return format_wan(fen) if zh else format_cny_compact(fen)


def format_rate(rate: Decimal) -> str:
    """0.35 -> 35%"""
    percent = (rate * 100).normalize()
    text = format(percent, "f")
    return f"{text}%"
