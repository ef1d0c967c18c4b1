"""The industry picker on the English page: English words find codes, and a code reads in English (the Chinese
name second); the Chinese page searches and shows as before."""

from __future__ import annotations

import html
import re

from incentives import industry

from .conftest import AS_OF, client_in

HX = {"HX-Request": "true"}
INSTRUMENTS = "Manufacture of instruments and meters"


def _hits(page: str) -> list[tuple[str, str]]:
    """The listed codes as (code picked, text the user reads), tags stripped."""
    found = re.findall(r'value="pick_industry:([^"]+)".*?>\s*(.*?)\s*</button>', page, flags=re.S)
    return [(code, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())) for code, text in found]


def _hint(page: str) -> str:
    found = re.search(r'<input id="f-enterprise-industry_code".*?<small class="hint">(.*?)</small>', page, flags=re.S)
    assert found, "no hint under the industry code field"
    return found.group(1)


def test_the_english_page_finds_industries_by_an_english_word(app):
    page = client_in(app, "en").get("/industry/search", params={"industry_q": "instrument"}, headers=HX).text
    hits = _hits(page)
    assert hits[0] == ("40", f"C40 {INSTRUMENTS} 仪器仪表制造业")
    assert ("4021", f"C4021 {INSTRUMENTS} 环境监测专用仪器仪表制造") in hits
    assert "No industry code matches." not in page


def test_the_english_page_still_finds_chinese_names_and_codes(app):
    client = client_in(app, "en")
    chinese = _hits(client.get("/industry/search", params={"industry_q": "仪器"}, headers=HX).text)
    assert [code for code, _ in chinese] == [found.code for found in industry.search("仪器")]
    assert ("3053", "C3053 Manufacture of non-metallic mineral products 玻璃仪器制造") in chinese
    by_code = _hits(client.get("/industry/search", params={"industry_q": "65"}, headers=HX).text)
    assert by_code[0] == ("65", "I65 Software and information technology services 软件和信息技术服务业")


def test_the_chinese_page_lists_chinese_names_only_and_reads_no_english(app):
    client = client_in(app, "zh-CN")
    hits = _hits(client.get("/industry/search", params={"industry_q": "仪器"}, headers=HX).text)
    assert [code for code, _ in hits] == [found.code for found in industry.search("仪器")]
    assert ("40", "C40 仪器仪表制造业") in hits
    assert not any("Manufacture" in text for _, text in hits)
    english = client.get("/industry/search", params={"industry_q": "instrument"}, headers=HX).text
    assert _hits(english) == [] and "没有匹配的行业代码。" in english


def test_a_chosen_class_is_named_by_its_division_in_english_with_its_chinese_name(app):
    fragment = client_in(app, "en").get("/fragments/industry", params={"code": "4021"}, headers=HX).text
    assert _hint(fragment) == f'4021 · {INSTRUMENTS} (<span lang="zh-CN">环境监测专用仪器仪表制造</span>)'
    assert 'value="4021"' in fragment  # the field keeps the code the engine reads


def test_picking_on_the_english_page_shows_the_english_name(app):
    page = client_in(app, "en").post("/", data={"as_of": AS_OF, "action": "pick_industry:C"}).text
    assert _hint(page) == 'C · Manufacturing (<span lang="zh-CN">制造业</span>)'


def test_the_chinese_page_shows_the_chosen_industry_in_chinese_only(app):
    client = client_in(app, "zh-CN")
    assert _hint(client.get("/fragments/industry", params={"code": "4021"}, headers=HX).text) == "环境监测专用仪器仪表制造"
    page = client.post("/", data={"as_of": AS_OF, "action": "pick_industry:C"}).text
    assert _hint(page) == "制造业"


def test_the_hint_says_english_names_are_searched_on_the_english_page_only(app):
    english = client_in(app, "en").get("/", params={"as_of": AS_OF}).text
    assert _hint(english) == "Section letter or 2–4 digit code; search by code, English or Chinese name below"
    assert 'placeholder="e.g. instrument, 仪器 or 3743"' in english
    chinese = client_in(app, "zh-CN").get("/", params={"as_of": AS_OF}).text
    assert _hint(chinese) == "门类字母或 2–4 位代码；可在下方按代码或名称搜索"
    assert 'placeholder="如：仪器 或 3743"' in chinese
