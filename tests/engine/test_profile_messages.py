"""Profile problems read as sentences in both languages: bounds are named, and no message is the validation
library's own wording (a regular expression, "Input should be ...")."""

from __future__ import annotations

import pytest

from incentives.errors import InputError
from incentives.profile import parse_profile

ENTERPRISE = {"name": "某公司", "region": {"province": "上海市", "city": "上海市"}}


def _problems(document: dict) -> dict[str, tuple[str, str]]:
    with pytest.raises(InputError) as raised:
        parse_profile(document)
    return {p.path: (p.zh, p.en) for p in raised.value.problems}


@pytest.mark.parametrize(("employees", "zh", "en"), [
    (-5, "不能小于 0", "must be at least 0"),
    (10**9, "不能大于 10000000", "must be at most 10000000"),
])
def test_a_number_out_of_bounds_names_its_bound(employees: int, zh: str, en: str) -> None:
    assert _problems({"enterprise": ENTERPRISE | {"employees": employees}})["$.enterprise.employees"] == (zh, en)


def test_a_malformed_id_and_a_missing_field_are_explained_in_english_too() -> None:
    found = _problems({"enterprise": {"region": ENTERPRISE["region"]}, "projects": [{"id": "P 1"}]})
    assert found["$.projects[0].id"] == ("格式不对（不能含空格，最长 64 个字符）",
                                         "not a valid id (no spaces, at most 64 characters)")
    assert found["$.enterprise.name"] == ("缺少必填字段", "required, but missing")
    assert not any(en.startswith(("Input should", "String should", "Field required")) for _, en in found.values())
