"""The self-check form names a bad field by its label on the form, not by its JSON path (the API keeps the paths)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from .conftest import AS_OF, assert_field_flagged, client_in, error_summary

HX = {"HX-Request": "true"}


def _form(**extra: str) -> dict[str, str]:
    form = {
        "as_of": AS_OF, "enterprise-name": "松江仪器有限公司", "enterprise-region-province": "上海市",
        "enterprise-region-city": "上海市", "enterprise-region-district": "松江区",
        "loans-0-id": "loan1", "loans-0-principal_yuan": "10000000", "loans-0-annual_rate": "0.035",
        "loans-0-issue_date": "2025-01-01", "loans-0-maturity_date": "2028-01-01",
    }
    form.update(extra)
    return form


@pytest.mark.parametrize(("lang", "expected"), [
    ("zh-CN", "营业收入（上年）：不能为负数"),
    ("en", "Revenue (last year): must not be negative"),
])
def test_a_negative_revenue_is_named_by_its_label_on_the_form(app, lang: str, expected: str):
    page = client_in(app, lang).post("/", data=_form(**{"enterprise-revenue_yuan": "-5"}))
    assert page.status_code == 422
    assert error_summary(page.text) == [expected]
    assert "$.enterprise.revenue_yuan" not in page.text
    # the summary's label is the one beside the field, and the field is still marked and linked
    label = expected.split("：" if lang == "zh-CN" else ":")[0]
    assert f'<label for="f-enterprise-revenue_yuan">{label}</label>' in page.text
    assert_field_flagged(page.text, "enterprise-revenue_yuan")


@pytest.mark.parametrize(("lang", "row", "rate"), [("zh-CN", "贷款", "年利率"), ("en", "Loan", "Annual rate")])
def test_a_bad_rate_on_the_first_loan_names_the_row_as_its_legend_does_and_the_rate_label(app, lang, row, rate):
    client = client_in(app, lang)
    page = client.post("/", data=_form(**{"loans-0-annual_rate": "abc"}))
    [item] = error_summary(page.text)
    colon = "：" if lang == "zh-CN" else ": "
    assert item.startswith(f"{row} loan1 · {rate}{colon}") and "abc" in item
    assert f'<legend>{row} <span class="row-id">loan1</span></legend>' in page.text  # the row as the form calls it
    assert "$.loans[0]" not in page.text
    field = re.search(r'<input id="f-loans-0-annual_rate"[^>]*>', page.text, flags=re.S).group(0)
    assert 'aria-invalid="true"' in field
    # the htmx post (the workspace swapped in) says the same
    fragment = client.post("/", data=_form(**{"loans-0-annual_rate": "abc"}), headers=HX)
    assert fragment.headers["HX-Retarget"] == "#workspace"
    assert error_summary(fragment.text) == [item]


def test_a_row_without_a_name_or_id_is_called_by_its_place_among_the_rows(app):
    form = _form(**{"loans-0-id": "", "loans-0-annual_rate": "abc"})
    zh = error_summary(client_in(app, "zh-CN").post("/", data=form).text)
    assert "贷款 1 · 贷款编号：缺少必填字段" in zh
    assert any(item.startswith("贷款 1 · 年利率：") for item in zh)
    en = error_summary(client_in(app, "en").post("/", data=form).text)
    assert "Loan 1 · Loan id: required, but missing" in en


def test_a_row_is_named_by_its_id_and_lender_and_rows_count_as_shown_after_a_removal(app):
    form = _form(**{"loans-0-lender": "工商银行", "loans-0-annual_rate": "abc",
                    "loans-3-id": "", "loans-3-principal_yuan": "1", "loans-3-annual_rate": "0.03",
                    "loans-3-issue_date": "2025-01-01", "loans-3-maturity_date": "2026-01-01"})
    page = client_in(app, "zh-CN").post("/", data=form).text
    items = error_summary(page)
    # two loans from one bank differ by their ids
    assert any(item.startswith("贷款 loan1 · 工商银行 · 年利率：") for item in items)
    assert "贷款 2 · 贷款编号：缺少必填字段" in items  # form row 3 is the second loan on the page
    assert '<a href="#f-loans-3-id">' in page


def test_region_parts_and_the_evaluation_date_are_named_too(app):
    page = client_in(app, "en").post("/", data=_form(as_of="2026-13-01")).text
    assert error_summary(page) == ["Evaluation date: evaluation date '2026-13-01' is not a YYYY-MM-DD date"]
    page = client_in(app, "en").post("/", data=_form(**{"projects-0-id": "p1",
                                                       "projects-0-location-province": "火星"})).text
    assert error_summary(page) == ["Project p1 · Project location: unknown province"]


def test_a_path_with_no_field_on_the_form_is_shown_as_it_is(app):
    from incentives.web.forms import FormState, field_caption

    state = FormState(loans=[0])
    assert field_caption("awards-0-scheme_id", state, str) is None
    assert field_caption("enterprise-revenue_yaun", state, str) is None
    assert field_caption("loans-7-annual_rate", state, str) is None  # no such row on the form
    assert field_caption("loans-0-annual_rate", state, str) == "Loan 1 · Annual rate"
    assert field_caption("enterprise-certifications-hnte", state, str) == "High and New Technology Enterprise"
    assert field_caption("enterprise-region-province", state, str) == "Registered region · Province"

    carry = '{"awards": [{"scheme_id": "nope/scheme", "amount_yuan": "1", "date": "2025-01-01"}]}'
    page = client_in(app, "en").post("/", data=_form(carry=carry)).text
    [item] = error_summary(page)
    assert item.startswith("$.awards[0].scheme_id") and "nope/scheme" in item  # the engine's path: nothing lost


def test_the_api_still_answers_with_json_paths(client: TestClient):
    profile = {"enterprise": {"name": "X", "region": {"province": "上海市"}, "revenue_yuan": "-5"},
               "loans": [{"id": "loan1", "principal_yuan": "100", "annual_rate": "abc", "issue_date": "2025-01-01",
                          "maturity_date": "2027-01-01"}]}
    response = client.post("/api/v1/evaluate", json={"as_of": AS_OF, "profile": profile},
                           headers={"cookie": "lang=en"})
    assert response.status_code == 400
    problems = response.json()["problems"]
    assert [p["path"] for p in problems] == ["$.profile.enterprise.revenue_yuan", "$.profile.loans[0].annual_rate"]
    assert problems[0]["zh"] == "不能为负数" and problems[0]["en"] == "must not be negative"
    assert "营业收入" not in response.text and "Revenue" not in response.text
