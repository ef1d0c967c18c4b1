"""Who is asking, and the store behind the workspace pages (portfolio_routes) and API (portfolio_api).

Every handler asks the store with the signed-in account's id, and the store answers another account's ids as
missing, so any id that is not yours is a 404 — pages, API and downloads alike. Pages use a session cookie
(HttpOnly, SameSite=Lax, Secure behind HTTPS) and a CSRF token on every form (htmx sends it as a header);
the API also takes `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from ..errors import InputError, Problem
from ..schemes import catalogue

SESSION_COOKIE = "incentives_session"
CSRF_HEADER = "X-CSRF-Token"
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# --- the store behind the app -------------------------------------------------------------------------------

_store_lock = threading.Lock()


def store_engine(request: Request):
    """The app's store engine, opened and migrated on first use (tests set app.state.portfolio_engine)."""
    engine = getattr(request.app.state, "portfolio_engine", None)
    if engine is not None:
        return engine
    with _store_lock:
        engine = getattr(request.app.state, "portfolio_engine", None)
        if engine is None:
            from ..store.db import make_engine, migrate
            from ..store.jobs import fail_stale_jobs

            engine = make_engine()
            migrate(engine)
            fail_stale_jobs(engine)  # jobs whose worker died while this app was down end `failed`, with why
            request.app.state.portfolio_engine = engine
    return engine


# --- who is asking ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    account_id: int
    email: str
    display_name: str
    csrf_token: str | None  # None for Bearer-token callers: no cookie, so no cross-site request to guard against


class SignInRequired(Exception):
    pass


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def caller_of(request: Request, *, allow_token: bool) -> Caller:
    from ..store.accounts import account_for_token, web_session_account

    engine = store_engine(request)
    token = _bearer(request) if allow_token else None
    if token is not None:
        account = account_for_token(engine, token)
        if account is None:
            raise SignInRequired
        return Caller(account.id, account.email, account.display_name, None)
    cookie = request.cookies.get(SESSION_COOKIE)
    signed_in = web_session_account(engine, cookie) if cookie else None
    if signed_in is None:
        raise SignInRequired
    account = signed_in.account
    return Caller(account.id, account.email, account.display_name, signed_in.csrf_token)


def page_caller(request: Request) -> Caller:
    try:
        return caller_of(request, allow_token=False)
    except SignInRequired:
        raise _redirect_to_login(request) from None


class _Redirect(HTTPException):
    """A sign-in redirect raised from inside a handler (the error handler passes its Location header on)."""

    def __init__(self, location: str):
        super().__init__(303, headers={"Location": location})


def _redirect_to_login(request: Request) -> HTTPException:
    from urllib.parse import quote

    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return _Redirect(f"/portfolio/login?next={quote(target, safe='')}")


def api_caller(request: Request) -> Caller:
    try:
        caller = caller_of(request, allow_token=True)
    except SignInRequired:
        raise HTTPException(401, {"zh": "请先登录或提供 API 令牌", "en": "sign in or send an API token"},
                            headers={"WWW-Authenticate": "Bearer"}) from None
    if request.method not in ("GET", "HEAD") and caller.csrf_token is not None:
        _check_csrf(request, caller, None)
    return caller


def _check_csrf(request: Request, caller: Caller, form: FormData | None) -> None:
    sent = request.headers.get(CSRF_HEADER) or (str(form.get("csrf_token") or "") if form is not None else "")
    if not caller.csrf_token or not secrets.compare_digest(sent.encode(), caller.csrf_token.encode()):
        raise HTTPException(403, {"zh": "表单已过期或来源不明，请刷新页面后重试",
                                  "en": "the form expired or did not come from this site; reload the page and retry"})


async def form_data(request: Request) -> FormData:
    """The form, read in the event loop, so that handlers can be plain functions run on the thread pool
    (store calls block: on the loop they would stall every other request while SQLite waits for a lock)."""
    return await request.form()


async def body_bytes(request: Request) -> bytes:
    return await request.body()


def checked_form(request: Request, caller: Caller, form: FormData) -> FormData:
    _check_csrf(request, caller, form)
    return form


# --- helpers ------------------------------------------------------------------------------------------------


def _not_found(what: str = "record") -> HTTPException:
    from ..store.errors import NotFound

    error = NotFound(what)
    return HTTPException(404, {"zh": error.zh, "en": error.en})


def call_store(function, *args, **kwargs):
    """Run a store call; a missing or foreign id becomes a 404."""
    from ..store.errors import NotFound

    try:
        return function(*args, **kwargs)
    except NotFound as error:
        raise _not_found(error.what) from None


def parse_date(text: str, path: str = "$.as_of") -> date:
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InputError([Problem(path, f"“{text}”不是 YYYY-MM-DD 日期", f"'{text}' is not a YYYY-MM-DD date")]) from None


def today() -> date:
    return date.today()  # read at the edge only: the store and the engine always take the date as an argument


def problem_lines(error: Exception) -> list[dict[str, str]]:
    if isinstance(error, InputError):
        return [p.as_dict() for p in error.problems]
    return [{"path": "$", "zh": getattr(error, "zh", str(error)), "en": getattr(error, "en", str(error))}]


def _scheme_titles() -> dict[str, tuple[str, str]]:
    return {s.id: (s.title_zh, s.title_en) for s in catalogue().schemes}


def page_context(caller: Caller, **values: Any) -> dict[str, Any]:
    return {"caller": caller, "csrf_token": caller.csrf_token, "titles": _scheme_titles(), **values}


def json_response(data: Any, status_code: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, default=str), status_code=status_code,
                    media_type="application/json")


def start_rerun_job(engine, account_id: int, as_of: date) -> int:
    """Queue a portfolio re-run and start it on its own thread; its lease shows it is alive."""
    from ..store.jobs import create_job
    from ..store.portfolio import run_portfolio_job

    job = create_job(engine, account_id, "rerun_portfolio", as_of, WORKER_ID)
    thread = threading.Thread(target=run_portfolio_job, args=(engine, account_id, job.id, WORKER_ID, as_of),
                              name=f"portfolio-job-{job.id}", daemon=True)
    thread.start()
    return job.id
