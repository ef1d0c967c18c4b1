"""The GB/T 4754-2017 table, read lazily, equals a plain DictReader reading of the same CSV."""

from __future__ import annotations

import csv

from hypothesis import given
from hypothesis import strategies as st

from incentives import industry
from incentives.resources import package_data_dir


def _reference() -> dict[str, tuple[str, int, str, str | None, str]]:
    table = {}
    with open(package_data_dir() / "gbt4754_2017.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            level = int(row["level"])
            code = [row["section"], row["division"], row["group"], row["class"]][level - 1]
            table[code] = (code, level, row["section"], row["division"] or None, row["name_zh"].strip())
    return table


_REFERENCE = _reference()


def _as_tuple(found: industry.Industry | None) -> tuple | None:
    return None if found is None else (found.code, found.level, found.section, found.division, found.name_zh)


def _reference_lookup(code: str) -> tuple | None:
    code = code.strip().upper()
    if len(code) > 1 and code[0].isalpha() and code[1:].isdigit():
        found = _REFERENCE.get(code[1:])
        return found if found is not None and found[2] == code[0] else None
    return _REFERENCE.get(code)


def test_the_whole_table_matches() -> None:
    table = industry.industries()
    assert list(table) == list(_REFERENCE)
    assert {code: _as_tuple(entry) for code, entry in table.items()} == _REFERENCE


def test_every_code_with_and_without_a_section_letter() -> None:
    for code, (_, _, section, _, _) in _REFERENCE.items():
        assert _as_tuple(industry.lookup(code)) == _REFERENCE[code]
        assert _as_tuple(industry.lookup(f"{section}{code}")) == _reference_lookup(f"{section}{code}")
        assert industry.lookup(code) is industry.industries()[code]  # one object per code, whichever way found


@given(st.sampled_from(sorted(_REFERENCE)), st.sampled_from(list("ABCDEFGHIJKLMNOPQRSTZabc ")), st.booleans())
def test_lookup_agrees_on_prefixed_and_padded_codes(code: str, prefix: str, pad: bool) -> None:
    text = prefix + code + (" " if pad else "")
    assert _as_tuple(industry.lookup(text)) == _reference_lookup(text)


@given(st.text(alphabet="0123456789ABCcXZ -", max_size=6))
def test_lookup_agrees_on_arbitrary_text(text: str) -> None:
    assert _as_tuple(industry.lookup(text)) == _reference_lookup(text)
