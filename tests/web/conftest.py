"""Fixtures for the web tests: an in-process client, and a live uvicorn on loopback with Debian's Chromium."""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from incentives.web.app import create_app

CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AS_OF = "2026-06-01"  # every test passes its evaluation date: none depends on today


PHONE = {"width": 375, "height": 740}


def open_on_phone(page, live_server: str, lang: str, path: str) -> None:
    """A page of the live app in this language, on a 375 px phone screen."""
    page.context.add_cookies([{"name": "lang", "value": lang, "url": live_server}])
    page.set_viewport_size(PHONE)
    page.goto(live_server + path)


def client_in(app, lang: str) -> TestClient:
    """A client whose pages are in this language (the language cookie the switch sets)."""
    client = TestClient(app)
    client.cookies.set("lang", lang)
    return client


def error_summary(page: str) -> list[str]:
    """A form page's error summary, its items as the user reads them (tags stripped)."""
    found = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', page, flags=re.S)
    assert found, "no error summary on the page"
    items = re.findall(r"<li>(.*?)</li>", found.group(1), flags=re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in items]


def assert_field_flagged(page: str, name: str) -> None:
    """The summary links to the field, and the field is marked invalid and pointed at its message."""
    assert f'<a href="#f-{name}">' in page
    field = re.search(rf'<input id="f-{name}"[^>]*>', page, flags=re.S).group(0)
    assert 'aria-invalid="true"' in field and f'aria-describedby="e-{name}"' in field


@pytest.fixture(scope="session", autouse=True)
def _batch_jobs_dir(tmp_path_factory):
    """Batch jobs of in-process apps go to a folder of this test run, never the user's own directory."""
    from incentives.web import batch_routes

    saved = batch_routes.JOBS._root
    batch_routes.JOBS._root = tmp_path_factory.mktemp("batch-jobs")
    yield
    batch_routes.JOBS._root = saved


@pytest.fixture(scope="session")
def app():
    return create_app()


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
