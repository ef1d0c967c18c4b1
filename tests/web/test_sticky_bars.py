"""The sticky top bar and submit bar never hide what the user is sent to: the error summary after an evaluation
with errors, or a field reached with Tab."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import AS_OF

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _covered_by(page: Page, element: str, bar: str) -> bool:
    return page.evaluate("""([element, bar]) => {
        const a = document.querySelector(element).getBoundingClientRect();
        const b = document.querySelector(bar).getBoundingClientRect();
        return a.bottom > b.top && a.top < b.bottom;
    }""", [element, bar])


def test_an_evaluation_with_errors_moves_to_the_error_summary(page: Page, live_server: str):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server + "/")
    page.fill("#f-enterprise-name", "测试企业")
    page.fill("#f-as_of", AS_OF)
    page.click("button[value='add_loan']")
    expect(page.locator("#loan-rows .row-card")).to_have_count(1)
    page.fill("#f-enterprise-revenue_yuan", "-5")
    page.click("#evaluate-button")  # below the loan, far under the summary
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    assert not _covered_by(page, "#error-summary", ".topbar")
    # a later swap inside the form (a region picked) leaves the focus where the user put it
    page.focus("#f-enterprise-name")
    page.select_option("#f-enterprise-region-province", "上海市")
    expect(page.locator("#f-enterprise-region-city")).to_have_value("上海市")
    expect(page.locator("#f-enterprise-name")).to_be_focused()


@pytest.mark.parametrize("width,height", [(1280, 900), (375, 740)])
def test_a_field_reached_with_tab_is_not_under_the_submit_bar(page: Page, live_server: str, width: int, height: int):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(live_server + "/")
    page.focus("#f-enterprise-name")
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id")
        if not focused or focused == "f-as_of":
            break
        assert not _covered_by(page, f"#{focused}", ".submit-bar"), focused
