"""On a 375 px phone a wide table scrolls in its own box; the page itself never gets wider than the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("path", ["/schemes", "/tools/rates", "/schemes/gd/loan-interest-subsidy"])
def test_tables_do_not_widen_the_page_on_a_phone(page: Page, live_server: str, path: str, lang: str):
    page.context.add_cookies([{"name": "lang", "value": lang, "url": live_server}])
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server + path)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
