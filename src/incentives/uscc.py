"""统一社会信用代码 (GB 32100-2015): length, characters and check digit, exactly as `stdnum.cn.uscc.validate`.

Importing python-stdnum loads ssl, pydoc and a table of Unicode names (tens of milliseconds of a command-line
run, most of the time it takes to parse a profile). A code written as 18 plain ASCII digits and capitals, which
is how nearly every code is written, is checked here with stdnum's own rules; anything else (lower case, spaces,
dashes, full-width characters) goes to stdnum, which normalises it first. tests/engine/test_uscc.py keeps the two
equal on generated input.
"""

from __future__ import annotations

import re

# the characters of a code (no I, O, Z, S, V) and the weights 3^i mod 31 of its first 17, as in stdnum.cn.uscc
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}
_PLAIN = re.compile(r"[0-9A-Z]{18}")  # ASCII only: stdnum's normalisation leaves such a string unchanged


class InvalidUscc(ValueError):
    """Wrong length, a character outside the code's alphabet, or a wrong check digit."""


def check_digit(first17: str) -> str:
    total = sum(_INDEX[ch] * weight for ch, weight in zip(first17, _WEIGHTS))
    return ALPHABET[(31 - total) % 31]


def _plain_is_valid(code: str) -> bool:
    return (code[:8].isdigit() and all(ch in _INDEX for ch in code[8:])
            and code[17] == check_digit(code[:17]))


def validate(value: str) -> str:
    """The code in its compact form; raises InvalidUscc when stdnum.cn.uscc.validate would reject it."""
    if _PLAIN.fullmatch(value):
        if _plain_is_valid(value):
            return value
        raise InvalidUscc(value)
    from stdnum.cn import uscc  # deferred: only for codes that need stdnum's normalisation
    from stdnum.exceptions import ValidationError

    try:
        return uscc.validate(value)
    except ValidationError:
        raise InvalidUscc(value) from None
