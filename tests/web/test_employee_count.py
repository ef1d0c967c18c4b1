"""The employee count is read as a whole number, signed or not, and any string of digits is answered, never a 500."""

from __future__ import annotations

import pytest

from .conftest import AS_OF, assert_field_flagged, client_in, error_summary


def _form(employees: str) -> dict[str, str]:
    return {"as_of": AS_OF, "enterprise-name": "松江仪器有限公司", "enterprise-region-province": "上海市",
            "enterprise-employees": employees}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_negative_count_is_refused_for_its_sign_not_as_not_an_integer(app, lang: str):
    page = client_in(app, lang).post("/", data=_form("-5"))
    assert page.status_code == 422
    [item] = error_summary(page.text)
    assert "整数" not in item and "integer" not in item
    assert item.startswith("从业人员：" if lang == "zh-CN" else "Employees: ")
    assert_field_flagged(page.text, "enterprise-employees")


def test_thousands_of_digits_are_an_error_on_the_field_not_a_server_error(app):
    page = client_in(app, "zh-CN").post("/", data=_form("9" * 5000))
    assert page.status_code == 422
    [item] = error_summary(page.text)
    assert item.startswith("从业人员：")


def test_a_plain_count_still_counts(app):
    page = client_in(app, "zh-CN").post("/", data=_form("120"))
    assert page.status_code == 200
    assert 'id="total-confirmed"' in page.text
