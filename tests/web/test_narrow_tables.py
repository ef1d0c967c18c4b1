"""On a 375 px phone a wide table scrolls in its own box; the page itself never gets wider than the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .conftest import open_on_phone

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("path", ["/schemes", "/tools/rates", "/schemes/gd/loan-interest-subsidy"])
def test_tables_do_not_widen_the_page_on_a_phone(page: Page, live_server: str, path: str, lang: str):
    open_on_phone(page, live_server, lang, path)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
