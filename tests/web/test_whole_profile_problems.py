"""A problem with the profile as a whole (two loans with one id) is listed as its message, not as a bare "$" linked
to a field that does not exist."""

from __future__ import annotations

import pytest

from .conftest import AS_OF, client_in, error_summary

LOAN = {"principal_yuan": "1000000", "annual_rate": "0.03", "issue_date": "2026-01-01", "maturity_date": "2027-01-01"}


@pytest.mark.parametrize(("lang", "words"), [("zh-CN", "重复"), ("en", "duplicate")])
def test_two_loans_with_one_id_are_reported_without_a_json_path(app, lang: str, words: str):
    form = {"as_of": AS_OF, "enterprise-name": "测试企业", "enterprise-region-province": "广东省"}
    for index in (0, 1):
        form |= {f"loans-{index}-id": "L1", **{f"loans-{index}-{key}": value for key, value in LOAN.items()}}
    page = client_in(app, lang).post("/", data=form)
    assert page.status_code == 422
    [item] = error_summary(page.text)
    assert words in item and "L1" in item and not item.startswith("$")
    assert 'href="#f-"' not in page.text
