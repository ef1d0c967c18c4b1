"""Consultant workspaces: sign-in, the client portfolio, award history, runs, diffs, background re-runs,
import / export (pages under /portfolio, JSON under /api/v1/portfolio).

Every handler asks the store with the signed-in account's id, and the store answers another account's ids as
missing, so any id that is not yours is a 404 — pages, API and downloads alike. Pages use a session cookie
(HttpOnly, SameSite=Lax, Secure behind HTTPS) and a CSRF token on every form (htmx sends it as a header);
the API also takes `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import tempfile
import threading
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from ..errors import InputError, Problem
from ..profile import loads_exact
from ..schemes import catalogue
from .labels import N_
from .problems import problems_body
from .rendering import add_nav_link, render
from .upload_names import safe_upload_name

log = logging.getLogger("incentives.web.portfolio")
router = APIRouter(include_in_schema=False)
add_nav_link("/portfolio", N_("Portfolio"))

SESSION_COOKIE = "incentives_session"
LOGIN_CSRF_COOKIE = "incentives_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT_LIMIT_BYTES = 20 * 1_048_576
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


def _page_caller(request: Request) -> Caller:
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


def _api_caller(request: Request) -> Caller:
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


def _form(request: Request, caller: Caller, form: FormData) -> FormData:
    _check_csrf(request, caller, form)
    return form


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- helpers ------------------------------------------------------------------------------------------------


def _not_found(what: str = "record") -> HTTPException:
    from ..store.errors import NotFound

    error = NotFound(what)
    return HTTPException(404, {"zh": error.zh, "en": error.en})


def _call(function, *args, **kwargs):
    """Run a store call; a missing or foreign id becomes a 404."""
    from ..store.errors import NotFound

    try:
        return function(*args, **kwargs)
    except NotFound as error:
        raise _not_found(error.what) from None


def _parse_date(text: str, path: str = "$.as_of") -> date:
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InputError([Problem(path, f"“{text}”不是 YYYY-MM-DD 日期", f"'{text}' is not a YYYY-MM-DD date")]) from None


def _today() -> date:
    return date.today()  # read at the edge only: the store and the engine always take the date as an argument


def _problem_lines(error: Exception) -> list[dict[str, str]]:
    if isinstance(error, InputError):
        return [p.as_dict() for p in error.problems]
    return [{"path": "$", "zh": getattr(error, "zh", str(error)), "en": getattr(error, "en", str(error))}]


def _scheme_titles() -> dict[str, tuple[str, str]]:
    return {s.id: (s.title_zh, s.title_en) for s in catalogue().schemes}


def _ctx(caller: Caller, **values: Any) -> dict[str, Any]:
    return {"caller": caller, "csrf_token": caller.csrf_token, "titles": _scheme_titles(), **values}


def _json(data: Any, status_code: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, default=str), status_code=status_code,
                    media_type="application/json")


def _client_json(engine, account_id: int, client_id: int) -> dict[str, Any]:
    from ..store import clients

    client = clients.get_client(engine, account_id, client_id)
    return {"id": client.id, "ref": client.ref, "name": client.name, "version": client.current_version,
            "updated_at": client.updated_at.isoformat(),
            "profile": clients.client_document(engine, account_id, client_id),
            "awards": [_award_json(a) for a in clients.list_awards(engine, account_id, client_id)]}


def _award_json(award) -> dict[str, Any]:
    from ..store.snapshot import award_document

    return {"id": award.id, **award_document(award), "amount_fen": award.amount_fen}


def _run_json(run) -> dict[str, Any]:
    return {"id": run.id, "client_id": run.client_id, "client_version_id": run.client_version_id,
            "batch_job_id": run.batch_job_id, "as_of": run.as_of.isoformat(), "rules_version": run.rules_version,
            "input_sha256": run.input_sha256, "total_fen": run.total_fen,
            "potential_total_fen": run.potential_total_fen, "ran_by": run.ran_by, "ran_at": run.ran_at.isoformat(),
            "result": json.loads(run.result_json)}


def _job_json(job) -> dict[str, Any]:
    from ..store.jobs import job_errors

    return {"id": job.id, "kind": job.kind, "as_of": job.as_of.isoformat() if job.as_of else None,
            "status": job.status, "progress_done": job.progress_done, "progress_total": job.progress_total,
            "evaluated": job.evaluated_count, "rejected": job.rejected_count, "errors": job_errors(job),
            "failure_reason": job.failure_reason}


def start_rerun_job(engine, account_id: int, as_of: date) -> int:
    """Queue a portfolio re-run and start it on its own thread; its lease shows it is alive."""
    from ..store.jobs import create_job
    from ..store.portfolio import run_portfolio_job

    job = create_job(engine, account_id, "rerun_portfolio", as_of, WORKER_ID)
    thread = threading.Thread(target=run_portfolio_job, args=(engine, account_id, job.id, WORKER_ID, as_of),
                              name=f"portfolio-job-{job.id}", daemon=True)
    thread.start()
    return job.id


# --- sign-in ------------------------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    target = target or "/portfolio"
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/portfolio"


def _login_page(request: Request, next_url: str, problem: dict[str, str] | None = None, email: str = "",
                status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "portfolio_login.html",
                      {"login_csrf": token, "next_url": next_url, "problem": problem, "email": email},
                      status_code=status_code)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request),
                        path="/portfolio/login")
    return response


@router.get("/portfolio/login")
def login_page(request: Request, next: str = "/portfolio") -> Response:
    return _login_page(request, _safe_next(next))


@router.post("/portfolio/login")
async def login(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    from ..store.accounts import authenticate, start_web_session
    from ..store.errors import LoginThrottled

    form = await request.form()
    next_url = _safe_next(str(form.get("next") or ""))
    email = str(form.get("email") or "")[:254]
    sent, expected = str(form.get("csrf_token") or ""), request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        return _login_page(request, next_url, {"zh": "登录表单已过期，请重试", "en": "the sign-in form expired; try again"},
                           email, 403)
    engine = store_engine(request)
    try:
        account = await run_in_threadpool(authenticate, engine, email, str(form.get("password") or ""), _ip(request))
    except LoginThrottled as error:
        response = _login_page(request, next_url, {"zh": error.zh, "en": error.en}, email, 429)
        response.headers["Retry-After"] = str(error.retry_after_seconds)
        return response
    if account is None:
        return _login_page(request, next_url, {"zh": "邮箱或密码不正确", "en": "wrong e-mail or password"}, email, 401)
    cookie, _ = await run_in_threadpool(start_web_session, engine, account.id)
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax", secure=_secure(request), path="/",
                        max_age=7 * 24 * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/portfolio/login")
    return response


@router.post("/portfolio/logout")
def logout(request: Request, form: FormData = Depends(form_data)) -> Response:
    from ..store.accounts import end_web_session

    caller = _page_caller(request)
    _form(request, caller, form)
    end_web_session(store_engine(request), request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/portfolio/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- pages: the portfolio -----------------------------------------------------------------------------------


@router.get("/portfolio")
def portfolio_page(request: Request, q: str = "") -> Response:
    from ..store import clients, jobs

    caller = _page_caller(request)
    engine = store_engine(request)
    summaries = clients.list_clients(engine, caller.account_id, search=q[:100] or None)
    return render(request, "portfolio_index.html",
                  _ctx(caller, summaries=summaries, q=q, jobs=jobs.list_jobs(engine, caller.account_id, limit=5),
                       today=_today().isoformat(), client_count=clients.count_clients(engine, caller.account_id)),
                  block="client_list")


@router.get("/portfolio/clients/new")
def new_client_page(request: Request) -> Response:
    caller = _page_caller(request)
    return render(request, "portfolio_client_new.html", _ctx(caller, profile_text=_starter_profile(), ref="",
                                                             problems=[]))


def _starter_profile() -> str:
    return json.dumps({"schema_version": 1, "enterprise": {
        "name": "", "region": {"province": "上海市", "city": "上海市", "district": "松江区"}},
        "projects": [], "loans": []}, ensure_ascii=False, indent=2)


@router.post("/portfolio/clients")
def create_client_page(request: Request, form: FormData = Depends(form_data)) -> Response:
    from ..store import clients
    from ..store.errors import StoreError

    caller = _page_caller(request)
    form = _form(request, caller, form)
    text, ref = str(form.get("profile") or ""), str(form.get("ref") or "").strip()
    try:
        client = clients.create_client(store_engine(request), caller.account_id, loads_exact(text), ref or None)
    except (InputError, StoreError) as error:
        return render(request, "portfolio_client_new.html",
                      _ctx(caller, profile_text=text, ref=ref, problems=_problem_lines(error)), status_code=422)
    return RedirectResponse(f"/portfolio/clients/{client.id}", status_code=303)


def _client_page(request: Request, caller: Caller, client_id: int, *, profile_text: str | None = None,
                 problems: list[dict[str, str]] | None = None, award_problems: list[dict[str, str]] | None = None,
                 status_code: int = 200, block: str | None = None) -> Response:
    from ..store import clients, runs

    engine = store_engine(request)
    client = _call(clients.get_client, engine, caller.account_id, client_id)
    document = clients.client_document(engine, caller.account_id, client_id)
    document.pop("awards", None)  # awards are edited in their own table below
    run_list = runs.list_runs(engine, caller.account_id, client_id, limit=50)
    latest = run_list[0] if run_list else None
    context = _ctx(caller, client=client, versions=clients.client_versions(engine, caller.account_id, client_id),
                   awards=clients.list_awards(engine, caller.account_id, client_id), runs=run_list,
                   latest=latest, latest_rows=_money_rows(runs.run_summary(latest)) if latest else [],
                   profile_text=profile_text if profile_text is not None else json.dumps(document, ensure_ascii=False, indent=2),
                   problems=problems or [], award_problems=award_problems or [], today=_today().isoformat(),
                   scheme_ids=[s.id for s in catalogue().schemes])
    return render(request, "portfolio_client.html", context, status_code=status_code, block=block)


def _money_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows worth showing first: those with an amount (eligible or to confirm), largest first."""
    shown = [r for r in summary["results"] if r["status"] in ("eligible", "needs_confirmation")]
    return sorted(shown, key=lambda r: -(r["amount_fen"] or 0))


@router.get("/portfolio/clients/{client_id}")
def client_page(request: Request, client_id: int) -> Response:
    return _client_page(request, _page_caller(request), client_id)


@router.post("/portfolio/clients/{client_id}/profile")
def update_profile_page(request: Request, client_id: int, form: FormData = Depends(form_data)) -> Response:
    from ..store import clients

    caller = _page_caller(request)
    form = _form(request, caller, form)
    engine = store_engine(request)
    _call(clients.get_client, engine, caller.account_id, client_id)
    text = str(form.get("profile") or "")
    try:
        document = loads_exact(text)
        if isinstance(document, dict):
            document.pop("awards", None)  # the editor never touches recorded awards
        _call(clients.update_client, engine, caller.account_id, client_id, document)
    except InputError as error:
        return _client_page(request, caller, client_id, profile_text=text, problems=_problem_lines(error),
                            status_code=422)
    return RedirectResponse(f"/portfolio/clients/{client_id}", status_code=303)


@router.post("/portfolio/clients/{client_id}/awards")
def add_award_page(request: Request, client_id: int, form: FormData = Depends(form_data)) -> Response:
    from ..store import clients

    caller = _page_caller(request)
    form = _form(request, caller, form)
    _call(clients.get_client, store_engine(request), caller.account_id, client_id)  # a foreign id: 404 before any check
    record = {key: str(form.get(key) or "").strip() for key in ("scheme_id", "amount_yuan", "date", "unit_id", "source")}
    record = {key: value for key, value in record.items() if value}
    try:
        _call(clients.add_award, store_engine(request), caller.account_id, client_id, record)
    except InputError as error:
        return _client_page(request, caller, client_id, award_problems=_problem_lines(error), status_code=422)
    return RedirectResponse(f"/portfolio/clients/{client_id}#awards", status_code=303)


@router.post("/portfolio/clients/{client_id}/awards/{award_id}/delete")
def remove_award_page(request: Request, client_id: int, award_id: int, form: FormData = Depends(form_data)) -> Response:
    from ..store import clients

    caller = _page_caller(request)
    _form(request, caller, form)
    _call(clients.remove_award, store_engine(request), caller.account_id, client_id, award_id)
    return RedirectResponse(f"/portfolio/clients/{client_id}#awards", status_code=303)


@router.post("/portfolio/clients/{client_id}/delete")
def delete_client_page(request: Request, client_id: int, form: FormData = Depends(form_data)) -> Response:
    from ..store import clients

    caller = _page_caller(request)
    _form(request, caller, form)
    _call(clients.delete_client, store_engine(request), caller.account_id, client_id)
    return RedirectResponse("/portfolio", status_code=303)


@router.post("/portfolio/clients/{client_id}/runs")
def run_client_page(request: Request, client_id: int, form: FormData = Depends(form_data)) -> Response:
    from ..store import clients, runs

    caller = _page_caller(request)
    form = _form(request, caller, form)
    _call(clients.get_client, store_engine(request), caller.account_id, client_id)
    try:
        as_of = _parse_date(str(form.get("as_of") or _today().isoformat()))
    except InputError as error:
        return _client_page(request, caller, client_id, problems=_problem_lines(error), status_code=422)
    run = _call(runs.run_client, store_engine(request), caller.account_id, client_id, as_of)
    return RedirectResponse(f"/portfolio/runs/{run.id}", status_code=303)


@router.get("/portfolio/runs/{run_id}")
def run_page(request: Request, run_id: int) -> Response:
    from ..store import clients, runs

    caller = _page_caller(request)
    engine = store_engine(request)
    run = _call(runs.get_run, engine, caller.account_id, run_id)
    client = _call(clients.get_client, engine, caller.account_id, run.client_id)
    summary = runs.run_summary(run)
    others = [r for r in runs.list_runs(engine, caller.account_id, run.client_id) if r.id != run.id]
    return render(request, "portfolio_run.html",
                  _ctx(caller, run=run, client=client, summary=summary, rows=summary["results"],
                       money_rows=_money_rows(summary), other_runs=others,
                       same_rules=run.rules_version == catalogue().rules_version))


@router.get("/portfolio/runs/{run_id}/result.json")
def run_download(request: Request, run_id: int) -> Response:
    """The full result document (with explanations), recomputed from the run's stored input."""
    from ..report import evaluation_json
    from ..store import runs

    caller = _page_caller(request)
    run = _call(runs.get_run, store_engine(request), caller.account_id, run_id)
    return Response(evaluation_json(runs.run_evaluation(run)), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="run-{run.id}.json"'})


@router.get("/portfolio/diff")
def diff_page(request: Request, before: int, after: int) -> Response:
    from ..store import runs

    caller = _page_caller(request)
    diff = _call(runs.diff_runs, store_engine(request), caller.account_id, before, after)
    return render(request, "portfolio_diff.html", _ctx(caller, diff=diff))


@router.post("/portfolio/rerun")
def rerun_page(request: Request, form: FormData = Depends(form_data)) -> Response:
    caller = _page_caller(request)
    form = _form(request, caller, form)
    try:
        as_of = _parse_date(str(form.get("as_of") or _today().isoformat()))
    except InputError as error:
        raise HTTPException(400, {"zh": error.problems[0].zh, "en": error.problems[0].en}) from None
    job_id = start_rerun_job(store_engine(request), caller.account_id, as_of)
    return RedirectResponse(f"/portfolio/jobs/{job_id}", status_code=303)


@router.get("/portfolio/jobs/{job_id}")
def job_page(request: Request, job_id: int) -> Response:
    from ..store.jobs import fail_stale_jobs, get_job, job_errors

    caller = _page_caller(request)
    engine = store_engine(request)
    fail_stale_jobs(engine)  # a job whose worker died shows `failed` now, not "running" forever
    job = _call(get_job, engine, caller.account_id, job_id)
    percent = 100 if job.status == "succeeded" else (int(100 * job.progress_done / job.progress_total)
                                                     if job.progress_total else 0)
    return render(request, "portfolio_job.html", _ctx(caller, job=job, percent=percent, errors=job_errors(job)),
                  block="job_status")


@router.post("/portfolio/import")
def import_page(request: Request, form: FormData = Depends(form_data)) -> Response:
    caller = _page_caller(request)
    form = _form(request, caller, form)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise HTTPException(400, {"zh": "请选择要导入的文件", "en": "choose a file to import"})
    data = upload.file.read(IMPORT_LIMIT_BYTES + 1)
    if len(data) > IMPORT_LIMIT_BYTES:
        raise HTTPException(413, {"zh": "文件过大", "en": "file too large"})
    outcome = _import(store_engine(request), caller.account_id, upload.filename, data)
    return render(request, "portfolio_import.html", _ctx(caller, outcome=outcome, filename=upload.filename))


def _import(engine, account_id: int, filename: str, data: bytes) -> dict[str, Any]:
    from ..store import portfolio, workbook
    from ..store.errors import StoreError

    suffix = Path(filename).suffix.lower()
    try:
        if suffix == ".json":
            result = portfolio.import_portfolio(engine, account_id, loads_exact(data))
            return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged,
                    "rejected": len({e.get("index") for e in result.errors}),
                    "errors": [{"where": e.get("ref") or f"#{e.get('index')}", "column": e.get("path"),
                                "zh": e["zh"], "en": e["en"]} for e in result.errors]}
        if suffix in (".xlsx", ".xlsm"):
            with tempfile.TemporaryDirectory(prefix="incentives-import-") as folder:
                # saved under its own (safe) name, which the reader's messages show
                path = Path(folder) / safe_upload_name(filename)
                path.write_bytes(data)
                result = workbook.import_workbook(engine, account_id, path)
            return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged,
                    "rejected": result.rejected,
                    "errors": [{"where": f"{e.get('sheet')} {e.get('row') or ''} {e.get('enterprise_id') or ''}".strip(),
                                "column": e.get("column"), "zh": e.get("reason_zh"), "en": e.get("reason_en")}
                               for e in result.errors]}
    except (InputError, StoreError) as error:
        return {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0,
                "errors": [{"where": filename, "column": p["path"], "zh": p["zh"], "en": p["en"]}
                           for p in _problem_lines(error)]}
    return {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0,
            "errors": [{"where": filename, "column": "", "zh": "只能导入 .xlsx（批量模板）或 .json（本系统导出）",
                        "en": "import an .xlsx (the batch template) or a .json (an export of this app)"}]}


@router.get("/portfolio/export.json")
def export_json(request: Request) -> Response:
    from ..store.portfolio import export_portfolio

    caller = _page_caller(request)
    body = json.dumps(export_portfolio(store_engine(request), caller.account_id), ensure_ascii=False, indent=2)
    return Response(body + "\n", media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="portfolio.json"'})


@router.get("/portfolio/export.xlsx")
def export_xlsx(request: Request) -> Response:
    from ..store.workbook import export_workbook

    caller = _page_caller(request)
    return Response(export_workbook(store_engine(request), caller.account_id), media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="portfolio.xlsx"'})


@router.get("/portfolio/tokens")
def tokens_page(request: Request) -> Response:
    from ..store.accounts import list_api_tokens

    caller = _page_caller(request)
    return render(request, "portfolio_tokens.html",
                  _ctx(caller, tokens=list_api_tokens(store_engine(request), caller.account_id), new_secret=None))


@router.post("/portfolio/tokens")
def create_token_page(request: Request, form: FormData = Depends(form_data)) -> Response:
    from ..store.accounts import create_api_token, list_api_tokens

    caller = _page_caller(request)
    form = _form(request, caller, form)
    engine = store_engine(request)
    new = create_api_token(engine, caller.account_id, str(form.get("name") or "token"))
    response = render(request, "portfolio_tokens.html",
                      _ctx(caller, tokens=list_api_tokens(engine, caller.account_id), new_secret=new.secret))
    response.headers["Cache-Control"] = "no-store"  # the secret is shown once and must not sit in a cache
    return response


@router.post("/portfolio/tokens/{token_id}/revoke")
def revoke_token_page(request: Request, token_id: int, form: FormData = Depends(form_data)) -> Response:
    from ..store.accounts import revoke_api_token

    caller = _page_caller(request)
    _form(request, caller, form)
    _call(revoke_api_token, store_engine(request), caller.account_id, token_id)
    return RedirectResponse("/portfolio/tokens", status_code=303)


# --- JSON API -----------------------------------------------------------------------------------------------

API = "/api/v1/portfolio"


def _body(raw: bytes) -> dict[str, Any]:
    data = loads_exact(raw or b"null")
    if not isinstance(data, dict):
        raise InputError([Problem("$", "请求体必须是 JSON 对象", "the body must be a JSON object")])
    return data


def _store_problem(error: Exception) -> JSONResponse:
    return JSONResponse(problems_body([Problem("$", error.zh, error.en)]), status_code=409)


@router.get(f"{API}/clients")
def api_clients(request: Request, q: str = "") -> Response:
    from ..store import clients

    caller = _api_caller(request)
    rows = clients.list_clients(store_engine(request), caller.account_id, search=q[:100] or None)
    return _json({"clients": [{"id": s.client.id, "ref": s.client.ref, "name": s.client.name,
                               "version": s.client.current_version, "latest_run_id": s.latest_run_id,
                               "latest_as_of": s.latest_as_of.isoformat() if s.latest_as_of else None,
                               "total_fen": s.total_fen, "potential_total_fen": s.potential_total_fen}
                              for s in rows]})


@router.post(f"{API}/clients")
def api_create_client(request: Request, raw: bytes = Depends(body_bytes)) -> Response:
    from ..store import clients
    from ..store.errors import StoreError

    caller = _api_caller(request)
    body = _body(raw)
    engine = store_engine(request)
    try:
        client = clients.create_client(engine, caller.account_id, body.get("profile"), body.get("ref"))
    except StoreError as error:
        return _store_problem(error)
    return _json(_client_json(engine, caller.account_id, client.id), status_code=201)


@router.get(f"{API}/clients/{{client_id}}")
def api_client(request: Request, client_id: int) -> Response:
    caller = _api_caller(request)
    return _json(_call(_client_json, store_engine(request), caller.account_id, client_id))


@router.put(f"{API}/clients/{{client_id}}")
def api_update_client(request: Request, client_id: int, raw: bytes = Depends(body_bytes)) -> Response:
    from ..store import clients

    caller = _api_caller(request)
    engine = store_engine(request)
    _call(clients.get_client, engine, caller.account_id, client_id)
    body = _body(raw)
    _call(clients.update_client, engine, caller.account_id, client_id, body.get("profile"))
    return _json(_client_json(engine, caller.account_id, client_id))


@router.delete(f"{API}/clients/{{client_id}}")
def api_delete_client(request: Request, client_id: int) -> Response:
    from ..store import clients

    caller = _api_caller(request)
    _call(clients.delete_client, store_engine(request), caller.account_id, client_id)
    return Response(status_code=204)


@router.get(f"{API}/clients/{{client_id}}/versions")
def api_versions(request: Request, client_id: int) -> Response:
    from ..store import clients

    caller = _api_caller(request)
    versions = _call(clients.client_versions, store_engine(request), caller.account_id, client_id)
    return _json({"versions": [{"version": v.version, "created_at": v.created_at.isoformat(),
                                "profile": json.loads(v.profile_json)} for v in versions]})


@router.post(f"{API}/clients/{{client_id}}/awards")
def api_add_award(request: Request, client_id: int, raw: bytes = Depends(body_bytes)) -> Response:
    from ..store import clients

    caller = _api_caller(request)
    engine = store_engine(request)
    _call(clients.get_client, engine, caller.account_id, client_id)
    award = _call(clients.add_award, engine, caller.account_id, client_id, _body(raw))
    return _json(_award_json(award), status_code=201)


@router.delete(f"{API}/clients/{{client_id}}/awards/{{award_id}}")
def api_remove_award(request: Request, client_id: int, award_id: int) -> Response:
    from ..store import clients

    caller = _api_caller(request)
    _call(clients.remove_award, store_engine(request), caller.account_id, client_id, award_id)
    return Response(status_code=204)


@router.get(f"{API}/clients/{{client_id}}/runs")
def api_runs(request: Request, client_id: int) -> Response:
    from ..store import runs

    caller = _api_caller(request)
    found = _call(runs.list_runs, store_engine(request), caller.account_id, client_id)
    return _json({"runs": [{k: v for k, v in _run_json(r).items() if k != "result"} for r in found]})


@router.post(f"{API}/clients/{{client_id}}/runs")
def api_run_client(request: Request, client_id: int, raw: bytes = Depends(body_bytes)) -> Response:
    from ..store import clients, runs

    caller = _api_caller(request)
    engine = store_engine(request)
    _call(clients.get_client, engine, caller.account_id, client_id)
    body = _body(raw)
    as_of = _parse_date(str(body.get("as_of") or _today().isoformat()))
    run = _call(runs.run_client, engine, caller.account_id, client_id, as_of)
    return _json(_run_json(run), status_code=201)


@router.get(f"{API}/runs/{{run_id}}")
def api_run(request: Request, run_id: int) -> Response:
    from ..store import runs

    caller = _api_caller(request)
    return _json(_run_json(_call(runs.get_run, store_engine(request), caller.account_id, run_id)))


@router.get(f"{API}/diff")
def api_diff(request: Request, before: int, after: int) -> Response:
    from ..store import runs

    caller = _api_caller(request)
    return _json(_call(runs.diff_runs, store_engine(request), caller.account_id, before, after).as_dict())


@router.post(f"{API}/rerun")
def api_rerun(request: Request, raw: bytes = Depends(body_bytes)) -> Response:
    caller = _api_caller(request)
    body = _body(raw)
    as_of = _parse_date(str(body.get("as_of") or _today().isoformat()))
    job_id = start_rerun_job(store_engine(request), caller.account_id, as_of)
    return _json({"job_id": job_id, "status_url": f"{API}/jobs/{job_id}"}, status_code=202)


@router.get(f"{API}/jobs/{{job_id}}")
def api_job(request: Request, job_id: int) -> Response:
    from ..store.jobs import fail_stale_jobs, get_job

    caller = _api_caller(request)
    engine = store_engine(request)
    fail_stale_jobs(engine)
    return _json(_job_json(_call(get_job, engine, caller.account_id, job_id)))


@router.get(f"{API}/export.json")
def api_export(request: Request) -> Response:
    from ..store.portfolio import export_portfolio

    caller = _api_caller(request)
    return _json(export_portfolio(store_engine(request), caller.account_id))


@router.post(f"{API}/import")
def api_import(request: Request, raw: bytes = Depends(body_bytes)) -> Response:
    from ..store.portfolio import import_portfolio
    from ..store.errors import StoreError

    caller = _api_caller(request)
    try:
        outcome = import_portfolio(store_engine(request), caller.account_id, _body(raw))
    except StoreError as error:
        return JSONResponse(problems_body([Problem("$", error.zh, error.en)]), status_code=400)
    return _json({"created": outcome.created, "updated": outcome.updated, "unchanged": outcome.unchanged,
                  "errors": outcome.errors})

