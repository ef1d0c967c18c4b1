"""What the results page shows for units and condition values: the unit's id next to its name, yes/no for
booleans, the form's labels for codes, and the engine's Chinese placeholder texts in the page's language."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from incentives.evaluate import NO_UNIT, evaluate
from incentives.profile import loads_exact, parse_profile
from incentives.report import evaluation_dict
from incentives.web import i18n
from incentives.web.cards import result_card
from incentives.web.display_values import condition_value, unit_caption
from incentives.web.results_view import arrange

from .conftest import AS_OF

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ACTUAL = re.compile(r'<span class="cond-actual">（([^）]*)）</span>')


def _guangzhou_document() -> dict[str, Any]:
    profile = parse_profile(loads_exact((EXAMPLES / "guangzhou-manufacturer.json").read_bytes()))
    return evaluation_dict(evaluate(profile, date.fromisoformat(AS_OF)))


def _loan_cards(lang: str) -> dict[str, str]:
    """The Guangzhou example's loan cards, by loan id."""
    document = _guangzhou_document()
    panel = arrange(document)
    return {r["unit_id"]: str(result_card(r, panel.titles, lang)) for r in document["results"]
            if r["unit_kind"] == "loan" and r["scheme_id"] == "gd/loan-interest-subsidy"}


def _page(client: TestClient, lang: str) -> str:
    client.cookies.set("lang", lang)
    return client.get("/", params={"example": "guangzhou-manufacturer", "as_of": AS_OF}).text


@pytest.mark.parametrize("lang", sorted(i18n.LANGS))
def test_a_loan_card_with_a_lender_shows_the_loan_id(lang: str):
    cards = _loan_cards(lang)
    assert '<span class="unit">ccb-wc-2026 · 建设银行广东省分行</span>' in cards["ccb-wc-2026"]
    assert '<span class="unit">boc-fa-2025 · 中国银行广东省分行</span>' in cards["boc-fa-2025"]


def test_a_unit_without_a_name_shows_its_id_once():
    assert unit_caption("GZ01-WC", None) == "GZ01-WC"
    assert unit_caption("GZ01-WC", "") == "GZ01-WC"
    assert unit_caption("p1", "p1") == "p1"
    assert unit_caption("GZ01-WC", "建设银行广东省分行") == "GZ01-WC · 建设银行广东省分行"


@pytest.mark.parametrize(("lang", "yes", "no", "working_capital"),
                         [("zh-CN", "是", "否", "流动资金贷款"), ("en", "Yes", "No", "Working-capital loan")])
def test_loan_conditions_show_yes_no_and_the_loan_type_label(lang: str, yes: str, no: str, working_capital: str):
    shown = ACTUAL.findall(_loan_cards(lang)["ccb-wc-2026"])
    assert no in shown  # not claimed under another policy
    assert working_capital in shown
    assert not {"True", "False", "working_capital", "rd"} & set(shown)
    assert condition_value("True", "loan", lang) == yes


def test_rd_reads_as_a_loan_purpose_on_loans_and_as_an_activity_elsewhere():
    assert condition_value("rd", "loan", "zh-CN") == "研发（含研发人员薪酬）"
    assert condition_value("rd", "project", "zh-CN") == "研发投入"
    assert condition_value("rd, pilot_platform", "project", "zh-CN") == "研发投入、中试平台建设"
    assert condition_value("rd, pilot_platform", "project", "en") == "R&D investment, Building a pilot-scale platform"


def test_values_without_a_label_are_shown_as_written():
    for raw in ("35000000000", "2026-02-15", "C3743", "unknown_code", "a, b", "—", "火星"):
        assert condition_value(raw, "loan", "en") == raw
        assert condition_value(raw, "project", "zh-CN") == raw
    assert condition_value("unknown_code, rd", "project", "en") == "unknown_code, R&D investment"


def test_every_placeholder_of_the_engine_reads_in_both_languages():
    for _, _, actual in NO_UNIT.values():
        assert condition_value(actual, None, "zh-CN") == actual  # the engine's own Chinese text
        english = condition_value(actual, None, "en")
        assert english != actual and english.isascii()


def test_the_english_page_has_no_chinese_placeholder_texts(app):
    client = TestClient(app)
    english = _page(client, "en")
    assert "0 projects" in english and "No fund information" in english
    assert "个项目" not in english and "无基金信息" not in english
    assert not {"True", "False", "working_capital"} & set(ACTUAL.findall(english))
    chinese = _page(client, "zh-CN")
    assert "（0 个项目）" in chinese and "（无基金信息）" in chinese
    assert "（False）" not in chinese and "（working_capital）" not in chinese


def test_the_engine_output_keeps_its_raw_values():
    document = _guangzhou_document()
    actuals = {c["actual"] for r in document["results"] for c in r["conditions"]}
    assert {"False", "working_capital", "0 个项目"} <= actuals
