"""Real Chromium (Debian's, via Playwright) against a live uvicorn on loopback: the self-check as a user does it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import AS_OF

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _mark_page(page: Page) -> None:
    """A marker that only survives if the page is never reloaded (htmx swaps in place)."""
    page.evaluate("window.__noReload = true")


def _still_same_page(page: Page) -> bool:
    return page.evaluate("window.__noReload === true")


def _choose_region(page: Page, prefix: str, province: str, district: str | None = None) -> None:
    page.select_option(f"#f-{prefix}-province", province)
    # the picker is swapped by htmx; a 直辖市 gets its one city filled in
    expect(page.locator(f"#f-{prefix}-city")).to_have_value(province)
    if district:
        page.fill(f"#f-{prefix}-district", district)


def _fill_enterprise(page: Page, name: str, province: str, district: str) -> None:
    page.fill("#f-enterprise-name", name)
    _choose_region(page, "enterprise-region", province, district)
    page.fill("#f-as_of", AS_OF)


def _add_project(page: Page) -> str:
    count = page.locator("#project-rows .row-card").count()
    page.click("button[value='add_project']")
    expect(page.locator("#project-rows .row-card")).to_have_count(count + 1)
    return page.locator("#project-rows .row-card").last.get_attribute("id").removeprefix("project-")


def test_songjiang_instruments_project_and_a_loan_without_reload(page: Page, live_server: str, artifacts):
    page.goto(live_server + "/")
    _mark_page(page)
    _fill_enterprise(page, "松江精密仪器有限公司", "上海市", "松江区")
    index = _add_project(page)
    row = f"projects-{index}"
    page.fill(f"#f-{row}-name", "高端质谱仪研发")
    page.check(f"input[name='{row}-fields'][value='scientific_instruments']")
    _choose_region(page, f"{row}-location", "上海市", "松江区")
    page.fill(f"#f-{row}-total_input_yuan", "50000000")
    page.click("button[value='add_loan']")
    expect(page.locator("#loan-rows .row-card")).to_have_count(1)
    page.fill("#f-loans-0-principal_yuan", "10000000")
    page.fill("#f-loans-0-annual_rate", "0.03")
    page.fill("#f-loans-0-issue_date", "2026-03-01")
    page.fill("#f-loans-0-maturity_date", "2028-02-28")
    page.click("#evaluate-button")
    card = page.locator("article[id^='r-sh-g60-scientific-instruments']")
    expect(card).to_contain_text("¥15,000,000.00")  # 50M × 30% = 15M, under the 20M cap
    expect(card.locator("svg.award-chart")).to_be_visible()
    expect(page.locator("#total-confirmed")).to_have_text("¥15,000,000.00")
    assert _still_same_page(page)
    page.screenshot(path=str(artifacts / "selfcheck-songjiang.png"), full_page=True)


def test_removing_a_project_with_htmx_keeps_the_page(page: Page, live_server: str):
    page.goto(live_server + "/")
    _mark_page(page)
    _add_project(page)
    _add_project(page)
    page.locator("#project-rows .row-card").first.locator("button.remove").click()
    expect(page.locator("#project-rows .row-card")).to_have_count(1)
    assert _still_same_page(page)


def test_beijing_ai_pilot_platform_is_capped_at_100_million(page: Page, live_server: str, artifacts):
    page.goto(live_server + "/")
    _fill_enterprise(page, "北京智算中试科技有限公司", "北京市", "海淀区")
    index = _add_project(page)
    row = f"projects-{index}"
    page.check(f"input[name='{row}-activities'][value='pilot_platform']")
    page.check(f"input[name='{row}-fields'][value='ai']")
    _choose_region(page, f"{row}-location", "北京市", "海淀区")
    page.fill(f"#f-{row}-total_input_yuan", "260000000")
    page.select_option(f"#f-{row}-is_independent_legal_entity", "true")
    page.select_option(f"#f-{row}-is_new", "true")
    page.click("#evaluate-button")
    card = page.locator("article[id^='r-bj-pilot-platform-construction']")
    # 260M × 45% = 117M, limited to the 100M cap
    expect(card).to_contain_text("¥100,000,000.00")
    expect(card).to_contain_text("已达上限")
    expect(card.locator(".badge")).to_have_text("符合条件")
    page.screenshot(path=str(artifacts / "selfcheck-beijing.png"), full_page=True)


def test_unknown_certifications_stay_unknown_and_are_listed_to_confirm(page: Page, live_server: str):
    page.goto(live_server + f"/?example=guangzhou-manufacturer&as_of={AS_OF}")
    expect(page.locator("#f-enterprise-declarations-has_high_rd_intensity")).to_have_value("")
    expect(page.locator("#results")).to_contain_text("¥")


def test_switching_to_english_is_remembered(page: Page, live_server: str, artifacts):
    page.goto(live_server + f"/?example=songjiang-satellite&as_of={AS_OF}")
    expect(page.locator("h1")).to_have_text("您的企业能享受哪些政策？")
    page.click("a[data-lang='en']")
    expect(page.locator("h1")).to_have_text("Which incentives can your firm get?")
    expect(page.locator("#results")).to_contain_text("What you can get")
    page.screenshot(path=str(artifacts / "selfcheck-english.png"), full_page=True)
    page.goto(live_server + "/schemes")
    expect(page.locator("h1")).to_have_text("Scheme catalogue")
    page.click("a[data-lang='zh-CN']")
    expect(page.locator("h1")).to_have_text("政策库")


def test_a_firm_name_with_a_script_tag_shows_as_text(page: Page, live_server: str):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(live_server + "/")
    _fill_enterprise(page, "<script>alert(1)</script>", "上海市", "松江区")
    page.click("#evaluate-button")
    expect(page.locator(".result-meta")).to_contain_text("<script>alert(1)</script>")
    expect(page.locator("#f-enterprise-name")).to_have_value("<script>alert(1)</script>")
    assert dialogs == []


def test_without_javascript_the_form_still_posts_and_shows_results(browser, live_server: str, artifacts):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + f"/?example=beijing-ai-pilot-platform&as_of={AS_OF}")
    page.fill("#f-enterprise-name", "无脚本测试有限公司")
    page.click("#evaluate-button")
    expect(page.locator("#total-confirmed")).to_have_text("¥100,380,000.00")
    expect(page.locator(".result-meta")).to_contain_text("无脚本测试有限公司")
    page.click("button[value='add_project']")  # a full round trip adds the row
    expect(page.locator("#project-rows .row-card")).to_have_count(3)
    page.screenshot(path=str(artifacts / "selfcheck-no-javascript.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("path,name", [
    (f"/?example=songjiang-satellite&as_of={AS_OF}", "selfcheck-example"),
    ("/schemes", "schemes"),
    ("/schemes/bj-pilot/platform-construction", "scheme-detail"),
    ("/tools/rates", "rates"),
    ("/tools/deadline?rule=ndrc/fund-registration-deadline&event_date=2025-12-31", "deadline"),
    ("/tools/deadline?rule=ndrc/fund-registration-deadline&event_date=2027-03-01", "deadline-2027"),
    ("/tools/fund", "fund"),
])
def test_main_pages_render_without_console_errors(page: Page, live_server: str, artifacts, path: str, name: str):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live_server + path)
    expect(page.locator("h1").first).to_be_visible()
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    assert errors == []  # a CSP violation would show here


def test_fund_check_adds_an_investment_and_flags_the_violation(page: Page, live_server: str):
    page.goto(live_server + "/tools/fund")
    _mark_page(page)
    page.fill("#f-fund-name", "长三角科创母基金")
    page.fill("#f-fund-first_paid_in_date", "2026-02-02")
    page.fill("#f-as_of", AS_OF)
    page.click("button[value='add_investment']")
    expect(page.locator("#fund-form .row-card")).to_have_count(2)
    page.select_option("#f-fund-investments-1-is_disguised_debt", "true")
    page.click("#fund-check-button")
    expect(page.locator("#violation-count")).to_have_text("1")
    expect(page.locator("#fund-results")).to_contain_text("名股实债")
    assert _still_same_page(page)


def test_deadline_calculator_updates_in_place(page: Page, live_server: str):
    page.goto(live_server + "/tools/deadline")
    _mark_page(page)
    page.select_option("#f-rule", "ndrc/fund-registration-deadline")
    page.fill("#f-event_date", "2025-12-31")
    page.click("button.primary")
    expect(page.locator("#deadline-date")).to_have_text("2026-01-29")
    page.fill("#f-event_date", "2027-03-01")
    page.click("button.primary")
    expect(page.locator("#deadline-result")).to_contain_text("2027年的法定节假日安排尚未发布")
    assert _still_same_page(page)
