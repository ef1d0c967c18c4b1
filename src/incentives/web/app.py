"""The ASGI app: pages, htmx fragments and the JSON API in one FastAPI application.

Each area is a router; a new area is one `app.include_router(...)` line in create_app().
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__
from ..resources import web_assets_dir
from ..schemes import catalogue
from . import batch_routes, errors, i18n, portfolio_api, portfolio_routes
from .config import WebSettings
from .middleware import EdgeMiddleware
from .routes import api, api_schemas, catalogue as catalogue_pages, lang, selfcheck, tools
from .serving import DEFAULT_HOST, DEFAULT_PORT, default_workers, serve  # noqa: F401  (the server's entry point)


class IncentivesApp(FastAPI):
    """The FastAPI app, with its hot endpoint (POST /api/v1/evaluate) answered ahead of the middleware stack.

    Each layer of that stack (Starlette's error and exception middleware, FastAPI's exit-stack and body-limit
    middleware, the router) wraps every receive and send in an extra coroutine; for an endpoint whose whole
    work is ~1 ms they were several per cent of it. The hot endpoint still sits behind the app's own edge
    middleware, so its headers, body limit and error page are those of every other route."""

    hot_endpoint: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = self.hot_endpoint
        if hot is not None and scope["type"] == "http" and scope["path"] == api.EVALUATE_PATH \
                and scope["method"] == "POST":
            scope["app"] = self
            await hot(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings.from_env()
    cat = catalogue()  # load and validate the scheme data now: a broken file fails at start, not on a visit
    app = IncentivesApp(
        title="incentives 政策计算器",
        version=__version__,
        description="Which Chinese government incentives an enterprise qualifies for, how much, and why. "
                    f"Rules version {cat.rules_version}.",
        docs_url=None,  # the interactive docs load scripts from a CDN, which the CSP forbids
        redoc_url=None,
    )
    app.state.settings = settings
    for language in i18n.LANGS:
        i18n.translations(language)  # read the catalogues now, not on the first visitor's request
    errors.install(app)
    app.add_middleware(EdgeMiddleware, rules_version=cat.rules_version, max_body_bytes=settings.max_body_bytes)
    app.hot_endpoint = EdgeMiddleware(api.answer_evaluate, rules_version=cat.rules_version,
                                      max_body_bytes=settings.max_body_bytes)
    app.mount("/static", StaticFiles(directory=web_assets_dir() / "static"), name="static")
    app.include_router(selfcheck.router, include_in_schema=False)
    app.include_router(catalogue_pages.router)
    app.include_router(tools.router)
    app.include_router(lang.router, include_in_schema=False)
    app.include_router(api.router)  # its FastAPI route of the hot endpoint documents it in the OpenAPI schema
    app.include_router(batch_routes.router, include_in_schema=False)
    app.include_router(portfolio_routes.router)
    app.include_router(portfolio_api.router)
    api_schemas.install_openapi(app)
    return app


def create_served_app() -> FastAPI:
    """The app as a server process runs it: built, then its long-lived objects moved out of the garbage
    collector's way. The catalogue, compiled templates and models live as long as the process; frozen, the
    collector's full passes no longer walk them again and again while requests wait."""
    import gc

    from .worker_ledger import this_workers_ledger

    keep_freed_memory()
    this_workers_ledger()  # a worker of several claims its slot and core now, before the first connection
    app = create_app()
    gc.collect()
    gc.freeze()
    return app


# glibc's mallopt parameters
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory(trim_above: int = 64 << 20, mmap_above: int = 8 << 20) -> bool:
    """Ask glibc to keep freed memory for the next request instead of handing it back to the system.

    By default blocks over 128 KiB get fresh pages from mmap and the top of the heap is returned when 128 KiB
    of it are free; a server writing ~200 KB result documents then takes page faults on fresh pages for every
    response, which cost more than writing the document. Returns False where there is no glibc (nothing to tune).
    """
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        # the symbols already loaded into the process, libc's among them (no library search at start-up)
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a libc without mallopt (musl)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_TRIM_THRESHOLD, trim_above)) and bool(mallopt(_M_MMAP_THRESHOLD, mmap_above))
