"""Route tests in process: full pages without JavaScript, fragments for htmx, the API and the edge behaviour."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from incentives.schemes import catalogue
from incentives.web.app import create_app
from incentives.web.config import WebSettings

from .conftest import AS_OF

REPO = Path(__file__).resolve().parents[2]
HX = {"HX-Request": "true"}


def _total(html: str, which: str) -> str:
    found = re.search(rf'id="total-{which}">([^<]*)<', html)
    assert found, f"no {which} total in the page"
    return found.group(1)


def _songjiang_form(**extra: str) -> dict[str, str]:
    form = {
        "as_of": AS_OF, "enterprise-name": "松江仪器有限公司", "enterprise-region-province": "上海市",
        "enterprise-region-city": "上海市", "enterprise-region-district": "松江区",
        "projects-0-id": "p1", "projects-0-fields": "scientific_instruments",
        "projects-0-location-province": "上海市", "projects-0-location-city": "上海市",
        "projects-0-location-district": "松江区", "projects-0-total_input_yuan": "50000000",
    }
    form.update(extra)
    return form


def test_every_response_carries_the_rules_version_and_security_headers(client: TestClient):
    for path in ["/", "/schemes", "/api/v1/schemes", "/static/app.css", "/no-such-page"]:
        response = client.get(path)
        assert response.headers["x-rules-version"] == catalogue().rules_version
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"


def test_pages_have_no_inline_script(client: TestClient):
    html = client.get(f"/?example=songjiang-satellite&as_of={AS_OF}").text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts, "htmx is loaded"
    assert all('src="/static/' in attrs and body.strip() == "" for attrs, body in scripts)
    assert "cdn" not in html.lower()


def test_the_self_check_page_defaults_to_chinese_and_switches_to_english(app):
    client = TestClient(app)
    assert "您的企业能享受哪些政策" in client.get("/").text
    switched = client.get("/lang/en?next=/schemes", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/schemes"
    client.cookies.set("lang", "en")
    assert "Which incentives can your firm get?" in client.get("/").text


def test_language_switch_never_redirects_off_site(client: TestClient):
    for target in ["//evil.example", "https://evil.example", "/\\evil.example"]:
        response = client.get("/lang/en", params={"next": target}, follow_redirects=False)
        assert response.headers["location"] == "/"


@pytest.mark.parametrize("name", ["songjiang-satellite", "beijing-ai-pilot-platform", "guangzhou-manufacturer"])
def test_each_example_loads_and_matches_the_cli_totals(client: TestClient, name: str):
    html = client.get("/", params={"example": name, "as_of": AS_OF}).text
    cli = subprocess.run([sys.executable, "-m", "incentives.cli", "evaluate", str(REPO / "examples" / f"{name}.json"),
                          "--as-of", AS_OF], capture_output=True, text=True, check=True)
    document = json.loads(cli.stdout)
    from incentives.money import format_cny

    assert _total(html, "confirmed") == format_cny(document["total_fen"])
    assert _total(html, "potential") == format_cny(document["potential_total_fen"])


def test_posting_the_form_without_javascript_returns_the_full_page_with_results(client: TestClient):
    response = client.post("/", data=_songjiang_form())
    assert response.status_code == 200
    assert response.text.startswith("<!doctype html>")
    assert _total(response.text, "confirmed") == "¥15,000,000.00"  # 50M × 30% = 15M, under the 20M cap
    assert "科学仪器产业经费支持" in response.text


def test_htmx_posts_get_only_the_results_block(client: TestClient):
    response = client.post("/", data=_songjiang_form(), headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="results"')
    assert "<html" not in response.text
    assert _total(response.text, "confirmed") == "¥15,000,000.00"


def test_a_bad_field_gets_an_inline_message_in_the_chosen_language(app):
    client = TestClient(app)
    form = _songjiang_form(**{"projects-0-total_input_yuan": "12.345"})
    page = client.post("/", data=form)
    assert page.status_code == 422
    assert 'id="e-projects-0-total_input_yuan"' in page.text
    assert "金额最多保留两位小数" in page.text
    fragment = client.post("/", data=form, headers=HX)
    assert fragment.headers["HX-Retarget"] == "#workspace"
    assert 'id="workspace"' in fragment.text and "<html" not in fragment.text
    client.cookies.set("lang", "en")
    assert "more than two decimal places" in client.post("/", data=form).text


def test_messages_land_on_the_row_the_user_sees_after_a_removal(client: TestClient):
    form = _songjiang_form(**{"projects-3-id": "bad id!", "projects-3-total_input_yuan": "1"})
    html = client.post("/", data=form).text
    assert 'id="e-projects-3-id"' in html


def test_unknown_tri_state_answers_stay_unknown(client: TestClient):
    form = _songjiang_form(**{"enterprise-certifications-hnte": "", "enterprise-declarations-on_dishonesty_list": ""})
    from incentives.web.forms import profile_document, state_from_form

    document = profile_document(state_from_form(form.items()))
    assert "hnte" not in document["enterprise"].get("certifications", {})
    assert client.post("/", data=form).status_code == 200


def test_adding_and_removing_rows_without_javascript(client: TestClient):
    added = client.post("/", data=_songjiang_form(action="add_loan")).text
    assert 'name="loans-0-id"' in added and 'value="loan1"' in added
    removed = client.post("/", data=_songjiang_form(action="remove_project:0")).text
    assert 'name="projects-0-id"' not in removed


def test_htmx_adds_a_project_row_with_the_next_free_index(client: TestClient):
    response = client.post("/fragments/project", data=_songjiang_form(), headers=HX)
    assert 'id="project-1"' in response.text and 'value="p2"' in response.text
    assert "<html" not in response.text


def test_region_picker_narrows_cities_to_the_province(client: TestClient):
    response = client.get("/fragments/region", params={"prefix": "enterprise-region", "enterprise-region-province": "广东省"},
                          headers=HX)
    assert '<option value="深圳市">' in response.text and "松江区" not in response.text
    assert client.get("/fragments/region", params={"prefix": "x<script>"}).status_code == 400


def test_industry_search_finds_codes_by_chinese_name(client: TestClient):
    response = client.get("/industry/search", params={"industry_q": "仪器"}, headers=HX)
    assert "pick_industry:" in response.text and "仪器" in response.text


def test_export_and_import_round_trip_the_profile(client: TestClient):
    exported = client.post("/profile/export", data=_songjiang_form())
    assert exported.headers["content-disposition"].startswith("attachment")
    document = json.loads(exported.text)
    assert document["projects"][0]["total_input_yuan"] == "50000000"
    imported = client.post("/profile/import", data={"as_of": AS_OF},
                           files={"profile_file": ("p.json", exported.content, "application/json")})
    assert _total(imported.text, "confirmed") == "¥15,000,000.00"


def test_an_example_with_awards_keeps_them_through_export(client: TestClient):
    html = client.get("/", params={"example": "songjiang-satellite", "as_of": AS_OF}).text
    carry = re.search(r'name="carry" value="([^"]*)"', html).group(1)
    import html as html_lib

    form = {"as_of": AS_OF, "carry": html_lib.unescape(carry), "enterprise-name": "x",
            "enterprise-region-province": "上海市"}
    document = json.loads(client.post("/profile/export", data=form).text)
    assert document["awards"][0]["scheme_id"] == "sh-g60/industry-cluster"


def test_an_imported_award_outside_the_catalogue_is_shown_not_ignored(client: TestClient):
    document = {"enterprise": {"name": "x", "region": {"province": "上海市"}},
                "awards": [{"scheme_id": "nope/scheme", "amount_yuan": "1", "date": "2026-01-01"}]}
    response = client.post("/profile/import", data={"as_of": AS_OF}, files={
        "profile_file": ("p.json", json.dumps(document).encode(), "application/json")})
    assert "nope/scheme" in response.text and "未知的方案" in response.text
    assert 'id="total-confirmed"' not in response.text  # no results for a profile the engine cannot take


def test_carried_awards_show_their_amounts_as_the_page_shows_money(client: TestClient):
    html = client.get("/", params={"example": "songjiang-satellite", "as_of": AS_OF}).text
    carried = html.split('class="panel carried"')[1].split("</fieldset>")[0]
    assert re.search(r"</code> ¥[0-9]{1,3}(,[0-9]{3})*\.[0-9]{2} ·", carried), carried


def test_english_size_bounds_are_in_yuan_not_in_ten_thousands():
    from incentives.scheme_files import SizeBounds
    from incentives.sme_size import _describe_bounds

    zh, en = _describe_bounds(SizeBounds(employees=20, revenue_wan=300, assets_wan=5000), "，", ", ", "≥")
    assert zh == "从业人员≥20人，营业收入≥300万元，资产总额≥5000万元"
    assert en == "staff ≥ 20 persons, revenue ≥ ¥3,000,000, assets ≥ ¥50,000,000"


def test_an_implausible_loan_rate_is_flagged_open_on_its_card(client: TestClient):
    from incentives.resources import examples_dir

    document = json.loads((examples_dir() / "guangzhou-manufacturer.json").read_text(encoding="utf-8"))
    document["loans"][0]["annual_rate"] = "0.45"
    for headers in ({}, HX):  # the full page and the htmx fragment render cards in two ways: both flag it
        page = client.post("/profile/import", data={"as_of": AS_OF}, headers=headers, files={
            "profile_file": ("p.json", json.dumps(document).encode(), "application/json")}).text
        assert page.count('class="tag tag-check">请核对<') == 1 and '<details class="notes" open>' in page
        assert "年利率 45% 高于 24%" in page


def test_a_loan_to_confirm_on_the_other_track_says_so_open_on_its_card(client: TestClient):
    from incentives.resources import examples_dir

    document = json.loads((examples_dir() / "guangzhou-manufacturer.json").read_text(encoding="utf-8"))
    document["enterprise"]["certifications"]["hnte"] = None  # the working-capital loan now hangs on HNTE
    for headers in ({}, HX):
        page = client.post("/profile/import", data={"as_of": AS_OF}, headers=headers, files={
            "profile_file": ("p.json", json.dumps(document).encode(), "application/json")}).text
        card = page.split('<span class="unit">ccb-wc-2026 · ')[1].split("</article>")[0]
        assert 'class="tag tag-check">另一路径<' in card and '<details class="notes" open>' in card
        assert "若企业可按“高新技术企业”路径申报" in card and "持有有效的高新技术企业证书（高新技术企业路径）" in card
        assert "年度上限剩余额度（按最紧的年份）" in card  # the cap is yearly: the room is the tightest year's


def test_importing_broken_json_says_why(client: TestClient):
    response = client.post("/profile/import", files={"profile_file": ("p.json", b"{oops", "application/json")})
    assert response.status_code == 400 and "不是有效的 JSON" in response.text


def test_a_firm_name_with_markup_is_escaped(client: TestClient):
    response = client.post("/", data=_songjiang_form(**{"enterprise-name": "<script>alert(1)</script>"}))
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_superseded_results_name_the_winner(client: TestClient):
    html = client.get("/", params={"example": "songjiang-satellite", "as_of": AS_OF}).text
    assert "从优、就高、不重复" in html


def test_scheme_catalogue_filters_by_region_and_kind(client: TestClient):
    full = client.get("/schemes").text
    shanghai = client.get("/schemes", params={"region": "shanghai", "kind": "percent_of_base"}).text
    assert "/schemes/bj-pilot/platform-construction" in full
    assert "/schemes/bj-pilot/platform-construction" not in shanghai
    assert "/schemes/sh-g60/scientific-instruments" in shanghai
    fragment = client.get("/schemes", params={"region": "beijing"}, headers=HX).text
    assert fragment.lstrip().startswith('<div id="scheme-list"')


def test_scheme_detail_shows_parameters_with_quoted_citations(client: TestClient):
    html = client.get("/schemes/sh-g60/scientific-instruments").text
    assert "30%" in html and "¥20,000,000.00" in html
    assert "打造松江科学仪器产业园区" in html
    assert client.get("/schemes/no/such-scheme").status_code == 404


def test_rates_page_has_a_chart_per_tool(client: TestClient):
    html = client.get("/tools/rates").text
    assert html.count('class="chart rate-chart"') == len(catalogue().rates.tools)


def test_deadline_tool_lists_working_days_and_refuses_unpublished_years(client: TestClient):
    html = client.get("/tools/deadline", params={"rule": "ndrc/fund-registration-deadline",
                                                 "event_date": "2025-12-31"}).text
    assert 'id="deadline-date">2026-01-29<' in html  # 20th working day after 2025-12-31
    assert html.count("<li>2026-01-") == 20
    refused = client.get("/tools/deadline", params={"rule": "ndrc/fund-registration-deadline",
                                                    "event_date": "2027-03-01"}, headers=HX).text
    assert "2027年的法定节假日安排尚未发布" in refused and "<html" not in refused


def test_fund_check_form_flags_a_disguised_debt(client: TestClient):
    response = client.post("/tools/fund", data={"fund-name": "测试基金", "fund-first_paid_in_date": "2026-02-02",
                                                "fund-investments-0-id": "inv1",
                                                "fund-investments-0-is_disguised_debt": "true", "as_of": AS_OF})
    assert re.search(r'id="violation-count">1<', response.text)
    assert "名股实债" in response.text


def test_api_evaluate_returns_exactly_the_cli_document(client: TestClient):
    profile = (REPO / "examples" / "beijing-ai-pilot-platform.json").read_text(encoding="utf-8")
    response = client.post("/api/v1/evaluate", content=f'{{"as_of": "{AS_OF}", "profile": {profile}}}',
                           headers={"content-type": "application/json"})
    cli = subprocess.run([sys.executable, "-m", "incentives.cli", "evaluate",
                          str(REPO / "examples" / "beijing-ai-pilot-platform.json"), "--as-of", AS_OF],
                         capture_output=True, text=True, check=True)
    assert response.status_code == 200
    assert response.text == cli.stdout


def _guangzhou_with_percent_rates() -> dict:
    """The Guangzhou example with its loans' 0.04, 0.032 and 0.03 written as percentages."""
    document = json.loads((REPO / "examples" / "guangzhou-manufacturer.json").read_text(encoding="utf-8"))
    for loan, rate in zip(document["loans"], ["4%", "3.2 %", "3％"], strict=True):
        loan["annual_rate"] = rate
    return document


def test_api_reads_rates_written_as_percentages_as_their_fractions(client: TestClient):
    def evaluate(profile: str) -> str:
        response = client.post("/api/v1/evaluate", content=f'{{"as_of": "{AS_OF}", "profile": {profile}}}',
                               headers={"content-type": "application/json"})
        assert response.status_code == 200, response.text
        return response.text

    fractions = (REPO / "examples" / "guangzhou-manufacturer.json").read_text(encoding="utf-8")
    assert evaluate(json.dumps(_guangzhou_with_percent_rates(), ensure_ascii=False)) == evaluate(fractions)


def test_api_names_a_percentage_over_100(client: TestClient):
    profile = _guangzhou_with_percent_rates()
    profile["loans"][0]["annual_rate"] = "400%"
    response = client.post("/api/v1/evaluate", json={"as_of": AS_OF, "profile": profile})
    assert response.status_code == 400
    [problem] = response.json()["problems"]
    assert problem["path"] == "$.profile.loans[0].annual_rate" and "100%" in problem["en"] and "100%" in problem["zh"]


def test_the_form_reads_a_rate_written_as_a_percentage(client: TestClient):
    from incentives.web.forms import state_from_document

    def totals(document: dict) -> tuple[str, str]:
        state = state_from_document(document, AS_OF)  # the fields as the form names them, the rates as typed
        response = client.post("/", data={**state.values, "as_of": AS_OF, "carry": state.carry})
        assert response.status_code == 200
        return _total(response.text, "confirmed"), _total(response.text, "potential")

    fractions = json.loads((REPO / "examples" / "guangzhou-manufacturer.json").read_text(encoding="utf-8"))
    assert totals(_guangzhou_with_percent_rates()) == totals(fractions)


def test_english_award_charts_write_amounts_in_millions_and_chinese_ones_in_wan(app):
    client = TestClient(app)

    def chart(headers: dict[str, str]) -> str:
        page = client.post("/", data=_songjiang_form(), headers=headers).text
        return re.search(r'<svg class="chart award-chart".*?</svg>', page, flags=re.S).group(0)

    for headers in ({}, HX):  # the full page and the htmx fragment
        assert "上限 2,000.00万元" in chart(headers) and "您 1,500.00万元" in chart(headers)
    client.cookies.set("lang", "en")
    for headers in ({}, HX):
        english = chart(headers)
        assert "万" not in english
        assert "Cap ¥20.00M" in english and "You ¥15.00M" in english and "Headroom ¥5.00M" in english


def test_amounts_at_a_glance_are_in_wan_in_chinese_and_in_millions_in_english(app):
    client = TestClient(app)
    # the exact totals stay; the figure beside each (the totals, every card) reads as its readers count
    for headers in ({}, HX):
        page = client.post("/", data=_songjiang_form(), headers=headers).text
        assert re.findall(r'class="wan">([^<]*)<', page)[:3] == ["1,500.00万元", "1,500.00万元", "1,500.00万元"]
    client.cookies.set("lang", "en")
    for headers in ({}, HX):
        page = client.post("/", data=_songjiang_form(), headers=headers).text
        glances = re.findall(r'class="wan">([^<]*)<', page)
        assert glances[:3] == ["¥15.00M", "¥15.00M", "¥15.00M"] and not any("万" in g for g in glances)


@pytest.mark.parametrize("employees", ["true", '"68"'])
def test_api_rejects_booleans_and_strings_for_integers(client: TestClient, employees: str):
    body = ('{"as_of": "2026-06-01", "profile": {"enterprise": {"name": "x", "region": {"province": "上海市"}, '
            '"employees": ' + employees + '}}}')
    response = client.post("/api/v1/evaluate", content=body)
    assert response.status_code == 400
    assert response.json()["problems"][0]["path"] == "$.profile.enterprise.employees"


def test_api_rejects_an_award_under_a_scheme_outside_the_catalogue(client: TestClient):
    body = ('{"as_of": "2026-06-01", "profile": {"enterprise": {"name": "x", "region": {"province": "上海市"}}, '
            '"awards": [{"scheme_id": "nope/scheme", "amount_yuan": "1", "date": "2026-01-01"}]}}')
    response = client.post("/api/v1/evaluate", content=body)
    assert response.status_code == 400
    [problem] = response.json()["problems"]
    assert problem["path"] == "$.profile.awards[0].scheme_id" and "nope/scheme" in problem["zh"] + problem["en"]


def test_api_rejects_a_string_for_a_boolean(client: TestClient):
    body = ('{"profile": {"enterprise": {"name": "x", "region": {"province": "上海市"}, '
            '"certifications": {"hnte": "yes"}}}}')
    problem = client.post("/api/v1/evaluate", content=body).json()["problems"][0]
    assert problem["path"] == "$.profile.enterprise.certifications.hnte" and problem["zh"] and problem["en"]


@pytest.mark.parametrize("body", [b"not json", b"[1]", b'{"profile": {}, "surprise": 1}', b'{"profile": 1}',
                                  '{"profile": {"enterprise": {"name": "x", "region": {"province": "上海市"}}}, "as_of": "June"}'.encode()])
def test_api_answers_malformed_bodies_with_a_documented_400(client: TestClient, body: bytes):
    response = client.post("/api/v1/evaluate", content=body)
    assert response.status_code == 400
    for problem in response.json()["problems"]:
        assert set(problem) == {"path", "zh", "en"}


def test_api_keeps_amounts_exact(client: TestClient):
    body = ('{"as_of": "2026-06-01", "profile": {"enterprise": {"name": "x", "region": {"province": "上海市"}}, '
            '"projects": [{"id": "p", "fields": ["scientific_instruments"], "total_input_yuan": 0.1, '
            '"location": {"province": "上海市", "city": "上海市", "district": "松江区"}}]}}')
    results = client.post("/api/v1/evaluate", content=body).json()["results"]
    instruments = next(r for r in results if r["scheme_id"] == "sh-g60/scientific-instruments")
    assert instruments["amount_fen"] == 3  # 10 fen × 30% = 3 fen, no float drift


def test_api_rate_deadline_and_scheme_endpoints(client: TestClient):
    rate = client.get("/api/v1/rate", params={"tool": "sme-relending", "on": "2026-03-01"}).json()
    assert rate["rate"] == "0.0125" and rate["cite"]["quote_zh"]
    deadline = client.get("/api/v1/deadline", params={"rule": "ndrc/fund-registration-deadline",
                                                      "event_date": "2025-12-31"}).json()
    assert deadline["deadline"] == "2026-01-29" and len(deadline["working_days"]) == 20
    refused = client.get("/api/v1/deadline", params={"rule": "ndrc/fund-registration-deadline", "event_date": "2027-03-01"})
    assert refused.status_code == 409 and "2027" in refused.json()["problems"][0]["zh"]
    schemes = client.get("/api/v1/schemes", params={"region": "beijing"}).json()["schemes"]
    assert {s["region"] for s in schemes} == {"beijing"}
    detail = client.get("/api/v1/schemes/bj-pilot/platform-construction").json()
    assert detail["definition"]["kind"] == "tiered_percent_of_base"
    assert client.get("/api/v1/schemes/nope/nope").status_code == 404


def test_api_fund_check_reports_violations(client: TestClient):
    body = {"as_of": AS_OF, "fund": {"name": "f", "investments": [{"id": "a", "is_disguised_debt": True}]}}
    report = client.post("/api/v1/fund-check", json=body).json()
    assert [v["rule"] for v in report["violations"]] == ["disguised-debt"]


def test_openapi_documents_the_400_on_every_api_operation(client: TestClient):
    document = client.get("/openapi.json").json()
    for path, item in document["paths"].items():
        assert path.startswith("/api/v1/")
        for operation in item.values():
            assert "400" in operation["responses"] and "413" in operation["responses"]
    employees = document["components"]["schemas"]["Enterprise"]["properties"]["employees"]["anyOf"][0]
    assert employees["type"] == "integer" and employees["minimum"] == 0


def test_request_bodies_over_the_limit_get_a_clear_413():
    small = TestClient(create_app(WebSettings(max_body_bytes=1000)))
    api = small.post("/api/v1/evaluate", content=b"x" * 2000)
    assert api.status_code == 413 and "1000 B" in api.json()["problems"][0]["zh"]
    page = small.post("/", data={"enterprise-name": "x" * 2000})
    assert page.status_code == 413 and "<html" in page.text


def test_an_unexpected_error_shows_a_friendly_page_and_no_traceback(app, caplog):
    from fastapi import APIRouter

    from incentives.web.app import create_app as make

    broken = make()
    router = APIRouter()

    @router.get("/boom")
    async def boom():
        raise RuntimeError("secret detail")

    broken.include_router(router)
    response = TestClient(broken, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert "secret detail" not in response.text and "Traceback" not in response.text
    assert "出错了" in response.text
    assert response.headers["x-rules-version"]
    assert any("secret detail" in (r.exc_text or "") or r.exc_info for r in caplog.records)
