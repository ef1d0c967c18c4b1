"""An htmx swap never writes an inline style: the page's security policy allows none, so a style attribute
something else put on an element (a browser extension, say) must not be copied onto its replacement."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_a_region_swap_copies_no_inline_style(page: Page, live_server: str):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live_server + "/")
    # as an extension might: an empty style on the picker's fields before htmx replaces them
    page.locator("#f-enterprise-region-province").evaluate("el => el.setAttribute('style', '')")
    page.locator("#f-enterprise-region-city").evaluate("el => el.setAttribute('style', '')")
    page.wait_for_timeout(100)
    errors.clear()  # setting the attribute is itself refused by the policy; what follows must add nothing
    page.select_option("#f-enterprise-region-province", "上海市")
    expect(page.locator("#f-enterprise-region-city")).to_have_value("上海市")
    page.wait_for_timeout(300)  # the settle step, where htmx copies attributes, runs after the swap
    assert not [e for e in errors if "style" in e.lower()], errors
