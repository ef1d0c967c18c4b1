"""On a 375 px phone every menu item is on screen (the menu wraps, no hidden sideways strip), and the top bar
leaves the page its room by scrolling away."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .conftest import open_on_phone

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_menu_item_is_on_screen_on_a_phone(page: Page, live_server: str, lang: str):
    open_on_phone(page, live_server, lang, "/schemes")
    links = page.locator("nav.nav a")
    assert links.count() >= 3
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, links.nth(i).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # the current page's item is among them, marked
    assert page.locator('nav.nav a[aria-current="page"]').is_visible()
    assert page.evaluate("window.scrollTo(0, 400), window.scrollY") > 0
    header = page.locator("header.topbar").bounding_box()
    assert header["y"] + header["height"] <= 0  # scrolled away with the page


def test_the_menu_stays_on_one_sticky_line_on_a_desktop(page: Page, live_server: str):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server + "/schemes")
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] <= 60
    assert page.evaluate("window.scrollTo(0, 400), window.scrollY") > 0
    assert page.locator("header.topbar").bounding_box()["y"] == 0
