"""The fund check form names a bad field by its label on the form, not by its JSON path (the API keeps the paths)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from incentives.web.forms import FundState, fund_field_caption

from .conftest import AS_OF, assert_field_flagged, client_in, error_summary

HX = {"HX-Request": "true"}


def _form(**extra: str) -> dict[str, str]:
    form = {"as_of": AS_OF, "fund-name": "长三角科创母基金", "fund-first_paid_in_date": "2026-02-02",
            "fund-investments-0-id": "inv1"}
    form.update(extra)
    return form


@pytest.mark.parametrize(("lang", "expected"), [
    ("zh-CN", "基金名称：缺少必填字段"),
    ("en", "Fund name: required, but missing"),
])
def test_a_missing_fund_name_is_named_by_its_label_on_the_form(app, lang: str, expected: str):
    page = client_in(app, lang).post("/tools/fund", data=_form(**{"fund-name": ""}))
    assert page.status_code == 422
    assert error_summary(page.text) == [expected]
    assert "$.fund" not in page.text
    # the summary's label is the one beside the field, and the field is still marked and linked
    label = expected.split("：" if lang == "zh-CN" else ":")[0]
    assert f'<label for="f-fund-name">{label} <span class="req" aria-hidden="true">*</span></label>' in page.text
    assert_field_flagged(page.text, "fund-name")


@pytest.mark.parametrize(("lang", "label"), [("zh-CN", "设立日期："), ("en", "Established: ")])
def test_a_bad_date_of_the_fund_is_named_by_its_label(app, lang: str, label: str):
    page = client_in(app, lang).post("/tools/fund", data=_form(**{"fund-established_date": "2025-13-01"}))
    [item] = error_summary(page.text)
    assert item.startswith(label) and "2025-13-01" in item
    assert "$.fund.established_date" not in page.text


@pytest.mark.parametrize(("lang", "row", "catalogue"), [
    ("zh-CN", "投资项目", "产业目录类别"), ("en", "Investment", "Industry catalogue class"),
])
def test_a_bad_investment_field_names_the_row_as_its_legend_does_and_the_field_label(app, lang, row, catalogue):
    client = client_in(app, lang)
    # form row 2 is the second investment on the page (row 1 was removed): the document's position 1
    form = _form(**{"fund-investments-2-id": "inv3", "fund-investments-2-target": "某芯片公司",
                    "fund-investments-2-industry_catalogue": "zzz"})
    page = client.post("/tools/fund", data=form)
    [item] = error_summary(page.text)
    colon = "：" if lang == "zh-CN" else ": "
    assert item.startswith(f"{row} inv3 · 某芯片公司 · {catalogue}{colon}")
    assert "encouraged" in item
    assert f'<legend>{row} <span class="row-id">inv3 · 某芯片公司</span></legend>' in page.text
    assert '<a href="#f-fund-investments-2-industry_catalogue">' in page.text
    assert "$.fund.investments[1]" not in page.text
    select = re.search(r'<select id="f-fund-investments-2-industry_catalogue"[^>]*>', page.text).group(0)
    assert 'aria-invalid="true"' in select
    # the htmx post (the workspace swapped in) says the same
    fragment = client.post("/tools/fund", data=form, headers=HX)
    assert fragment.status_code == 200 and 'id="fund-workspace"' in fragment.text
    assert error_summary(fragment.text) == [item]


def test_an_investment_without_an_id_is_called_by_its_place_and_a_yes_no_answer_by_its_label(app):
    form = _form(**{"fund-investments-0-id": "", "fund-investments-0-is_disguised_debt": "maybe"})
    zh = error_summary(client_in(app, "zh-CN").post("/tools/fund", data=form).text)
    assert zh == ["投资项目 1 · 投资编号：缺少必填字段", "投资项目 1 · 名股实债：必须是 true 或 false"]
    en = error_summary(client_in(app, "en").post("/tools/fund", data=form).text)
    assert en[0] == "Investment 1 · Investment id: required, but missing"
    assert en[1].startswith("Investment 1 · Disguised debt (equity in name, debt in substance): ")


@pytest.mark.parametrize(("lang", "expected"), [
    ("zh-CN", "评估日：评估日必须是 YYYY-MM-DD 日期"),
    ("en", "Evaluation date: the evaluation date must be a YYYY-MM-DD date"),
])
def test_a_bad_evaluation_date_is_named_by_its_label(app, lang: str, expected: str):
    page = client_in(app, lang).post("/tools/fund", data=_form(as_of="2026-13-01")).text
    assert error_summary(page) == [expected]
    assert "$.as_of" not in page


def test_a_path_with_no_field_on_the_fund_form_is_shown_as_it_is(app):
    state = FundState(investments=[0, 2])
    state.values.update({"fund-investments-0-id": "inv1", "fund-investments-2-target": "某公司"})
    assert fund_field_caption("fund-name", state, str) == "Fund name"
    assert fund_field_caption("fund", state, str) == "Fund"
    assert fund_field_caption("fund-investments", state, str) == "Investments"
    assert fund_field_caption("fund-investments-0-target", state, str) == "Investment inv1 · Target"
    assert fund_field_caption("fund-investments-2", state, str) == "Investment 某公司"
    assert fund_field_caption("fund-investments-7-id", state, str) is None  # no such row on the form
    assert fund_field_caption("fund-investments-0-colour", state, str) is None
    assert fund_field_caption("fund-colour", state, str) is None
    assert fund_field_caption("enterprise-name", state, str) is None  # the stand-in enterprise is not on the form

    # a hand-made post with a field the form does not have: the engine's path, nothing lost
    page = client_in(app, "en").post("/tools/fund", data=_form(**{"fund-investments-0-colour": "red"})).text
    [item] = error_summary(page)
    assert item.startswith("$.fund.investments[0].colour")


def test_the_fund_api_still_answers_with_json_paths(client: TestClient):
    body = {"as_of": AS_OF, "fund": {"investments": [{"id": "a", "industry_catalogue": "zzz"}]}}
    response = client.post("/api/v1/fund-check", json=body, headers={"cookie": "lang=en"})
    assert response.status_code == 400
    problems = response.json()["problems"]
    assert [p["path"] for p in problems] == ["$.fund.name", "$.fund.investments[0].industry_catalogue"]
    assert "Fund name" not in response.text and "基金名称" not in response.text
