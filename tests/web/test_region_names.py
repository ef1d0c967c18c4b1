"""Regions read in the page's language: 上海市 is Shanghai on the English page, in the pickers and on the result
cards alike, while every form value (and the engine's output) keeps the Chinese name the rules use."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from incentives import regions
from incentives.evaluate import evaluate
from incentives.profile import parse_profile
from incentives.report import evaluation_dict
from incentives.resources import package_data_dir
from incentives.web.cards import result_card
from incentives.web.display_values import condition_value, region_name
from incentives.web.forms import profile_document, state_from_form
from incentives.web.results_view import arrange

from .conftest import AS_OF, client_in

ACTUAL = re.compile(r'<span class="cond-actual">（([^）]*)）</span>')


def _known_names() -> set[str]:
    names = set(regions.regions())
    for cities in regions.regions().values():
        names |= set(cities)
        for districts in cities.values():
            names |= set(districts)
    return names



def _example(app, lang: str, example: str) -> str:
    return client_in(app, lang).get("/", params={"example": example, "as_of": AS_OF}).text


def test_every_region_the_calculator_knows_has_an_english_name():
    english = regions.english_names()
    missing = sorted(name for name in _known_names() if name not in english)
    assert missing == []
    assert all(name.strip() and name.isascii() for name in english.values())
    # and the English table names no region the calculator does not know (a misspelt key would never be shown)
    with open(package_data_dir() / "regions_en.json", encoding="utf-8") as handle:
        levels = json.load(handle)
    assert set(levels["provinces"]) == set(regions.regions())
    assert {name for level in levels.values() for name in level} <= _known_names()


@pytest.mark.parametrize(("chinese", "english"), [
    ("上海市", "Shanghai"), ("北京市", "Beijing"), ("广东省", "Guangdong"), ("广州市", "Guangzhou"),
    ("松江区", "Songjiang District"), ("浦东新区", "Pudong New Area"), ("香港特别行政区", "Hong Kong"),
])
def test_a_region_reads_in_english_on_the_english_page_and_as_written_on_the_chinese_page(chinese, english):
    assert region_name(chinese, "en") == english
    assert region_name(chinese, "zh-CN") == chinese
    assert condition_value(chinese, None, "en") == english
    assert condition_value(chinese, "loan", "zh-CN") == chinese


def test_a_region_without_an_english_name_shows_its_chinese_name():
    # 天津市 lists no districts, so any district is accepted as typed; none has an English name
    assert regions.english_name("滨海新区") is None
    assert region_name("滨海新区", "en") == "滨海新区"
    assert condition_value("滨海新区", None, "en") == "滨海新区"
    assert region_name("", "en") == ""


def test_result_cards_show_region_conditions_in_english_on_the_english_page(app):
    english = set(ACTUAL.findall(_example(app, "en", "songjiang-satellite")))
    assert {"Shanghai", "Songjiang District"} <= english
    assert not {"上海市", "松江区"} & english
    guangzhou = set(ACTUAL.findall(_example(app, "en", "guangzhou-manufacturer")))
    assert {"Guangdong", "Guangzhou", "Huangpu District"} <= guangzhou
    chinese = set(ACTUAL.findall(_example(app, "zh-CN", "songjiang-satellite")))
    assert {"上海市", "松江区"} <= chinese
    assert not {"Shanghai", "Songjiang District"} & chinese


def test_the_fast_card_writer_shows_regions_in_english_too():
    profile = parse_profile({"enterprise": {"name": "X", "region": {"province": "北京市", "city": "北京市",
                                                                     "district": "海淀区"}}})
    document = evaluation_dict(evaluate(profile, date.fromisoformat(AS_OF)))
    titles = arrange(document).titles
    shown = {value for r in document["results"] for value in ACTUAL.findall(str(result_card(r, titles, "en")))}
    assert {"Beijing", "Haidian District"} <= shown and not {"北京市", "海淀区"} & shown
    # the engine's own output keeps the Chinese names
    actuals = {c["actual"] for r in document["results"] for c in r["conditions"]}
    assert {"北京市", "海淀区"} <= actuals


def test_a_region_without_an_english_name_is_shown_in_chinese_on_the_english_results(app):
    form = {"as_of": AS_OF, "enterprise-name": "滨海制造有限公司", "enterprise-region-province": "天津市",
            "enterprise-region-city": "天津市", "enterprise-region-district": "滨海新区"}
    page = client_in(app, "en").post("/", data=form).text
    shown = set(ACTUAL.findall(page))
    assert "Tianjin" in shown and "滨海新区" in shown  # never blank
    assert '<input id="f-enterprise-region-district" name="enterprise-region-district" value="滨海新区"' in page


def test_the_pickers_read_in_english_but_keep_the_chinese_values(app):
    page = _example(app, "en", "songjiang-satellite")
    assert '<option value="上海市" selected>Shanghai</option>' in page
    assert '<option value="广东省" >Guangdong</option>' in page
    assert '<option value="松江区" label="Songjiang District"></option>' in page  # district suggestions
    # the typed fields still hold (and post) the Chinese names, with the English name beside them
    assert 'name="enterprise-region-city" value="上海市"' in page
    assert 'name="enterprise-region-district" value="松江区"' in page
    assert '<small class="hint region-name">Songjiang District</small>' in page
    assert 'value="Shanghai"' not in page and 'value="Songjiang District"' not in page

    chinese = _example(app, "zh-CN", "songjiang-satellite")
    assert '<option value="上海市" selected>上海市</option>' in chinese
    assert '<option value="松江区"></option>' in chinese and "region-name" not in chinese


def test_the_region_fragment_htmx_swaps_in_reads_in_english(app):
    params = {"prefix": "enterprise-region", "enterprise-region-province": "广东省"}
    english = client_in(app, "en").get("/fragments/region", params=params).text
    assert '<option value="广东省" selected>Guangdong</option>' in english
    assert '<option value="广州市" label="Guangzhou"></option>' in english
    chinese = client_in(app, "zh-CN").get("/fragments/region", params=params).text
    assert '<option value="广东省" selected>广东省</option>' in chinese
    assert '<option value="广州市"></option>' in chinese


def test_the_english_page_posts_the_chinese_names_and_evaluates_them(app):
    """What the English form posts back is what it showed as values: the engine accepts it and says Shanghai."""
    page = _example(app, "en", "songjiang-satellite")
    selected = re.search(r'<select id="f-enterprise-region-province".*?<option value="([^"]+)" selected>', page,
                         flags=re.S).group(1)
    assert selected == "上海市"
    form = {"as_of": AS_OF, "enterprise-name": "松江卫星", "enterprise-region-province": selected,
            "enterprise-region-city": "上海市", "enterprise-region-district": "松江区"}
    result = client_in(app, "en").post("/", data=form)
    assert result.status_code == 200
    shown = set(ACTUAL.findall(result.text))
    assert "Shanghai" in shown and "上海市" not in shown


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_choosing_a_province_by_its_english_name_submits_the_chinese_one(page: Page, live_server: str):
    page.context.add_cookies([{"name": "lang", "value": "en", "url": live_server}])
    page.goto(live_server + "/")
    expect(page.locator("h1")).to_have_text("Which incentives can your firm get?")
    page.fill("#f-enterprise-name", "Songjiang Instruments")
    page.select_option("#f-enterprise-region-province", label="Shanghai")
    # htmx swaps the picker in: the one city of a 直辖市 is filled in, as its Chinese name, read in English beside it
    expect(page.locator("#f-enterprise-region-city")).to_have_value("上海市")
    expect(page.locator("#rp-enterprise-region .region-name")).to_have_text("Shanghai")
    expect(page.locator("#f-enterprise-region-province")).to_have_value("上海市")
    page.fill("#f-enterprise-region-district", "松江区")
    page.fill("#f-as_of", AS_OF)
    page.click("#evaluate-button")
    conditions = page.locator("#results .cond-actual")
    expect(conditions.filter(has_text="Shanghai").first).to_be_attached()
    assert "（上海市）" not in page.locator("#results").inner_text()


def test_english_region_names_typed_are_read_as_the_chinese_names_the_rules_use():
    assert regions.from_english("Guangdong", "guangzhou", "Tianhe District") == ("广东省", "广州市", "天河区")
    assert regions.from_english("SHANGHAI", "Shanghai", "pudong") == ("上海市", "上海市", "浦东新区")
    assert regions.from_english("上海市", "上海市", "jingan") == ("上海市", "上海市", "静安区")
    # one English name, two districts: each is looked up among its own city's
    assert regions.from_english("上海市", "上海市", "Huangpu District")[2] == "黄浦区"
    assert regions.from_english("广东省", "广州市", "Huangpu District")[2] == "黄埔区"
    # what is Chinese already, or unknown, stays as typed, for the usual check to report
    assert regions.from_english("Atlantis", "Shanghai", None) == ("Atlantis", "Shanghai", None)
    assert regions.from_english("广东省", "深圳市", "Mars District") == ("广东省", "深圳市", "Mars District")


def test_every_english_name_reads_back_as_its_chinese_name_within_its_parent():
    english = regions.english_names()
    for province, cities in regions.regions().items():
        assert regions.from_english(english[province])[0] == province
        for city, districts in cities.items():
            assert regions.from_english(province, english[city].upper())[1] == city
            for district in districts:
                assert regions.from_english(province, city, english[district].lower())[2] == district


def test_a_city_and_district_typed_in_english_on_the_english_page_are_evaluated(app):
    form = {"as_of": AS_OF, "enterprise-name": "松江卫星", "enterprise-region-province": "上海市",
            "enterprise-region-city": "Shanghai", "enterprise-region-district": "songjiang district"}
    result = client_in(app, "en").post("/", data=form)
    assert result.status_code == 200 and 'id="error-summary"' not in result.text
    assert "Shanghai" in set(ACTUAL.findall(result.text))
    # the engine was given the Chinese names; the form keeps what was typed
    document = profile_document(state_from_form(form.items()))
    assert document["enterprise"]["region"] == {"province": "上海市", "city": "上海市", "district": "松江区"}
    assert 'name="enterprise-region-district" value="songjiang district"' in result.text
    wrong = client_in(app, "en").post("/", data=form | {"enterprise-region-district": "Songjiang Dist"})
    assert 'id="error-summary"' in wrong.text  # a name it cannot tell is still reported
