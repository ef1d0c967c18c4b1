"""The profile's own USCC check agrees with python-stdnum's on every input, valid or not."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError

from incentives import uscc

# the code's alphabet, the letters it excludes, lower case, separators and full-width look-alikes
_CHARS = uscc.ALPHABET + "IOZSV" + "ab" + " -" + "\u3000\uff11\uff21\u2013"


def _stdnum(text: str) -> str | None:
    try:
        return stdnum_uscc.validate(text)
    except ValidationError:
        return None


def _ours(text: str) -> str | None:
    try:
        return uscc.validate(text)
    except uscc.InvalidUscc:
        return None


@given(st.text(alphabet=_CHARS, min_size=0, max_size=22), st.booleans())
@example("91110000600037341L", False)
@example("91110000600037341X", False)
@example("91310117MA1J3XYZ8Q", True)
@example("9131011 7MA1J3XYZ8Q", False)
@example("91110000600037341l", False)
def test_agrees_with_stdnum(text: str, fix_check_digit: bool) -> None:
    if fix_check_digit and len(text) == 18 and text[:8].isdigit() and all(c in uscc.ALPHABET for c in text[8:17]):
        text = text[:17] + stdnum_uscc.calc_check_digit(text[:17])
    assert _ours(text) == _stdnum(text)


_codes = st.builds(
    lambda head, body, last, right: head + body + (stdnum_uscc.calc_check_digit(head + body) if right else last),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet=uscc.ALPHABET, min_size=9, max_size=9),
    st.sampled_from(uscc.ALPHABET + "IOZSV"),
    st.booleans(),
)


@given(_codes, st.sampled_from(["", " ", "-", "\u2013", "\u3000"]), st.integers(0, 18), st.booleans())
def test_agrees_with_stdnum_on_code_shaped_input(code: str, separator: str, at: int, lower: bool) -> None:
    text = code[:at] + separator + code[at:]
    text = text.lower() if lower else text
    assert _ours(text) == _stdnum(text)


def test_check_digit_is_stdnums() -> None:
    assert uscc.check_digit("91110000600037341") == stdnum_uscc.calc_check_digit("91110000600037341") == "L"
    assert uscc.validate("91110000600037341L") == "91110000600037341L"
