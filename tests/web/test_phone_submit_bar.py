"""On a 375 px phone the sticky submit bar is one short row: the date, Evaluate and Export all on screen, and
the bar leaves most of the screen to the form."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .conftest import open_on_phone

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_submit_bar_is_one_short_row_on_a_phone(page: Page, live_server: str, lang: str):
    open_on_phone(page, live_server, lang, "/?example=guangzhou-manufacturer&as_of=2026-06-01")
    bar = page.locator(".submit-bar").bounding_box()
    assert bar["height"] <= 80  # two rows took 136 px
    tops = []
    for selector in ("#f-as_of", "#evaluate-button", "#export-button"):
        box = page.locator(selector).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, selector
        tops.append(box["y"] + box["height"])
    assert max(tops) - min(tops) < 12  # side by side, not stacked
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
