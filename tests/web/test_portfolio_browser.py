"""In Chromium: sign in, add a client, record an award, re-run, and see the reduced headroom."""

from __future__ import annotations

import json
import uuid

import pytest
from playwright.sync_api import Page, expect

from incentives.store import accounts

from .test_portfolio import AS_OF, CLUSTER, PASSWORD, cluster_profile, portfolio_app  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_consultant_records_an_award_and_sees_the_reduced_headroom(page: Page, live_server: str, portfolio_app):
    email = f"browser-{uuid.uuid4().hex[:6]}@example.cn"
    accounts.create_account(portfolio_app.state.portfolio_engine, email, PASSWORD, "浏览器顾问")
    page.goto(f"{live_server}/portfolio")
    expect(page).to_have_url(f"{live_server}/portfolio/login?next=%2Fportfolio")
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("客户组合")

    page.click("#new-client")
    page.fill("#f-ref", "BROWSER-1")
    page.fill("#f-profile", json.dumps(cluster_profile("浏览器测试集群企业"), ensure_ascii=False, indent=2))
    page.click("#new-client-form button[type=submit]")
    expect(page.locator("#client-name")).to_contain_text("浏览器测试集群企业")

    page.fill("#f-as_of", AS_OF)
    page.click("#run-button")
    cluster_row = page.locator(f'tr[data-scheme="{CLUSTER}"]')
    expect(cluster_row.locator(".amount")).to_have_text("¥20,000,000.00")

    page.click("h1 a")  # back to the client page from the run page
    page.select_option("#f-scheme_id", CLUSTER)
    page.fill("#f-amount_yuan", "6000000")
    page.fill("#f-date", "2026-03-01")
    page.fill("#f-source", "松江区科委")
    page.click("#add-award")
    expect(page.locator("#award-table")).to_contain_text("¥6,000,000.00")

    page.fill("#f-as_of", AS_OF)
    page.click("#run-button")
    # the cumulative ¥20M cap less the ¥6M already received leaves ¥14M
    expect(page.locator(f'tr[data-scheme="{CLUSTER}"] .amount')).to_have_text("¥14,000,000.00")
    expect(page.locator("#run-total")).to_be_visible()
