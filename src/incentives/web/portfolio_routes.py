"""Consultant workspaces, the pages under /portfolio: sign-in, the client portfolio, award history, runs,
diffs, background re-runs, import / export. The same as JSON under /api/v1/portfolio is portfolio_api; who is
asking, and why another account's ids are a 404, is portfolio_access.
"""

from __future__ import annotations

import json
import secrets
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from ..errors import InputError
from ..profile import loads_exact
from ..schemes import catalogue
from .labels import N_
from .portfolio_access import (
    SESSION_COOKIE,
    Caller,
    call_store,
    checked_form,
    form_data,
    page_caller,
    page_context,
    parse_date,
    problem_lines,
    start_rerun_job,
    store_engine,
    today,
)
from .rendering import add_nav_link, render
from .upload_names import safe_upload_name

router = APIRouter(include_in_schema=False)
add_nav_link("/portfolio", N_("Portfolio"))

LOGIN_CSRF_COOKIE = "incentives_login_csrf"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT_LIMIT_BYTES = 20 * 1_048_576


# --- sign-in ------------------------------------------------------------------------------------------------


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


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

    caller = page_caller(request)
    checked_form(request, caller, form)
    end_web_session(store_engine(request), request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/portfolio/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- pages: the portfolio -----------------------------------------------------------------------------------


@router.get("/portfolio")
def portfolio_page(request: Request, q: str = "") -> Response:
    from ..store import clients, jobs

    caller = page_caller(request)
    engine = store_engine(request)
    summaries = clients.list_clients(engine, caller.account_id, search=q[:100] or None)
    return render(request, "portfolio_index.html",
                  page_context(caller, summaries=summaries, q=q, jobs=jobs.list_jobs(engine, caller.account_id, limit=5),
                       today=today().isoformat(), client_count=clients.count_clients(engine, caller.account_id)),
                  block="client_list")


@router.get("/portfolio/clients/new")
def new_client_page(request: Request) -> Response:
    caller = page_caller(request)
    return render(request, "portfolio_client_new.html", page_context(caller, profile_text=_starter_profile(), ref="",
                                                             problems=[]))


def _starter_profile() -> str:
    return json.dumps({"schema_version": 1, "enterprise": {
        "name": "", "region": {"province": "上海市", "city": "上海市", "district": "松江区"}},
        "projects": [], "loans": []}, ensure_ascii=False, indent=2)


@router.post("/portfolio/clients")
def create_client_page(request: Request, form: FormData = Depends(form_data)) -> Response:
    from ..store import clients
    from ..store.errors import StoreError

    caller = page_caller(request)
    form = checked_form(request, caller, form)
    text, ref = str(form.get("profile") or ""), str(form.get("ref") or "").strip()
    try:
        client = clients.create_client(store_engine(request), caller.account_id, loads_exact(text), ref or None)
    except (InputError, StoreError) as error:
        return render(request, "portfolio_client_new.html",
                      page_context(caller, profile_text=text, ref=ref, problems=problem_lines(error)), status_code=422)
    return RedirectResponse(f"/portfolio/clients/{client.id}", status_code=303)


def _client_page(request: Request, caller: Caller, client_id: int, *, profile_text: str | None = None,
                 problems: list[dict[str, str]] | None = None, award_problems: list[dict[str, str]] | None = None,
                 status_code: int = 200, block: str | None = None) -> Response:
    from ..store import clients, runs

    engine = store_engine(request)
    client = call_store(clients.get_client, engine, caller.account_id, client_id)
    document = clients.client_document(engine, caller.account_id, client_id)
    document.pop("awards", None)  # awards are edited in their own table below
    run_list = runs.list_runs(engine, caller.account_id, client_id, limit=50)
    latest = run_list[0] if run_list else None
    context = page_context(caller, client=client, versions=clients.client_versions(engine, caller.account_id, client_id),
                   awards=clients.list_awards(engine, caller.account_id, client_id), runs=run_list,
                   latest=latest, latest_rows=_money_rows(runs.run_summary(latest)) if latest else [],
                   profile_text=profile_text if profile_text is not None else json.dumps(document, ensure_ascii=False, indent=2),
                   problems=problems or [], award_problems=award_problems or [], today=today().isoformat(),
                   scheme_ids=[s.id for s in catalogue().schemes])
    return render(request, "portfolio_client.html", context, status_code=status_code, block=block)


def _money_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows worth showing first: those with an amount (eligible or to confirm), largest first."""
    shown = [r for r in summary["results"] if r["status"] in ("eligible", "needs_confirmation")]
    return sorted(shown, key=lambda r: -(r["amount_fen"] or 0))


@router.get("/portfolio/clients/{client_id}")
def client_page(request: Request, client_id: int) -> Response:
    return _client_page(request, page_caller(request), client_id)


@router.post("/portfolio/clients/{client_id}/profile")
def update_profile_page(request: Request, client_id: int, form: FormData = Depends(form_data)) -> Response:
    from ..store import clients

    caller = page_caller(request)
    form = checked_form(request, caller, form)
    engine = store_engine(request)
    call_store(clients.get_client, engine, caller.account_id, client_id)
    text = str(form.get("profile") or "")
    try:
        document = loads_exact(text)
        if isinstance(document, dict):
            document.pop("awards", None)  # the editor never touches recorded awards
        call_store(clients.update_client, engine, caller.account_id, client_id, document)
    except InputError as error:
        return _client_page(request, caller, client_id, profile_text=text, problems=problem_lines(error),
                            status_code=422)
    return RedirectResponse(f"/portfolio/clients/{client_id}", status_code=303)


@router.post("/portfolio/clients/{client_id}/awards")
def add_award_page(request: Request, client_id: int, form: FormData = Depends(form_data)) -> Response:
    from ..store import clients

    caller = page_caller(request)
    form = checked_form(request, caller, form)
    call_store(clients.get_client, store_engine(request), caller.account_id, client_id)  # a foreign id: 404 before any check
    record = {key: str(form.get(key) or "").strip() for key in ("scheme_id", "amount_yuan", "date", "unit_id", "source")}
    record = {key: value for key, value in record.items() if value}
    try:
        call_store(clients.add_award, store_engine(request), caller.account_id, client_id, record)
    except InputError as error:
        return _client_page(request, caller, client_id, award_problems=problem_lines(error), status_code=422)
    return RedirectResponse(f"/portfolio/clients/{client_id}#awards", status_code=303)


@router.post("/portfolio/clients/{client_id}/awards/{award_id}/delete")
def remove_award_page(request: Request, client_id: int, award_id: int, form: FormData = Depends(form_data)) -> Response:
    from ..store import clients

    caller = page_caller(request)
    checked_form(request, caller, form)
    call_store(clients.remove_award, store_engine(request), caller.account_id, client_id, award_id)
    return RedirectResponse(f"/portfolio/clients/{client_id}#awards", status_code=303)


@router.post("/portfolio/clients/{client_id}/delete")
def delete_client_page(request: Request, client_id: int, form: FormData = Depends(form_data)) -> Response:
    from ..store import clients

    caller = page_caller(request)
    checked_form(request, caller, form)
    call_store(clients.delete_client, store_engine(request), caller.account_id, client_id)
    return RedirectResponse("/portfolio", status_code=303)


@router.post("/portfolio/clients/{client_id}/runs")
def run_client_page(request: Request, client_id: int, form: FormData = Depends(form_data)) -> Response:
    from ..store import clients, runs

    caller = page_caller(request)
    form = checked_form(request, caller, form)
    call_store(clients.get_client, store_engine(request), caller.account_id, client_id)
    try:
        as_of = parse_date(str(form.get("as_of") or today().isoformat()))
    except InputError as error:
        return _client_page(request, caller, client_id, problems=problem_lines(error), status_code=422)
    run = call_store(runs.run_client, store_engine(request), caller.account_id, client_id, as_of)
    return RedirectResponse(f"/portfolio/runs/{run.id}", status_code=303)


@router.get("/portfolio/runs/{run_id}")
def run_page(request: Request, run_id: int) -> Response:
    from ..store import clients, runs

    caller = page_caller(request)
    engine = store_engine(request)
    run = call_store(runs.get_run, engine, caller.account_id, run_id)
    client = call_store(clients.get_client, engine, caller.account_id, run.client_id)
    summary = runs.run_summary(run)
    others = [r for r in runs.list_runs(engine, caller.account_id, run.client_id) if r.id != run.id]
    return render(request, "portfolio_run.html",
                  page_context(caller, run=run, client=client, summary=summary, rows=summary["results"],
                       money_rows=_money_rows(summary), other_runs=others,
                       same_rules=run.rules_version == catalogue().rules_version))


@router.get("/portfolio/runs/{run_id}/result.json")
def run_download(request: Request, run_id: int) -> Response:
    """The full result document (with explanations), recomputed from the run's stored input."""
    from ..report import evaluation_json
    from ..store import runs

    caller = page_caller(request)
    run = call_store(runs.get_run, store_engine(request), caller.account_id, run_id)
    return Response(evaluation_json(runs.run_evaluation(run)), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="run-{run.id}.json"'})


@router.get("/portfolio/diff")
def diff_page(request: Request, before: int, after: int) -> Response:
    from ..store import runs

    caller = page_caller(request)
    diff = call_store(runs.diff_runs, store_engine(request), caller.account_id, before, after)
    return render(request, "portfolio_diff.html", page_context(caller, diff=diff))


@router.post("/portfolio/rerun")
def rerun_page(request: Request, form: FormData = Depends(form_data)) -> Response:
    caller = page_caller(request)
    form = checked_form(request, caller, form)
    try:
        as_of = parse_date(str(form.get("as_of") or today().isoformat()))
    except InputError as error:
        raise HTTPException(400, {"zh": error.problems[0].zh, "en": error.problems[0].en}) from None
    job_id = start_rerun_job(store_engine(request), caller.account_id, as_of)
    return RedirectResponse(f"/portfolio/jobs/{job_id}", status_code=303)


@router.get("/portfolio/jobs/{job_id}")
def job_page(request: Request, job_id: int) -> Response:
    from ..store.jobs import fail_stale_jobs, get_job, job_errors

    caller = page_caller(request)
    engine = store_engine(request)
    fail_stale_jobs(engine)  # a job whose worker died shows `failed` now, not "running" forever
    job = call_store(get_job, engine, caller.account_id, job_id)
    percent = 100 if job.status == "succeeded" else (int(100 * job.progress_done / job.progress_total)
                                                     if job.progress_total else 0)
    return render(request, "portfolio_job.html", page_context(caller, job=job, percent=percent, errors=job_errors(job)),
                  block="job_status")


@router.post("/portfolio/import")
def import_page(request: Request, form: FormData = Depends(form_data)) -> Response:
    caller = page_caller(request)
    form = checked_form(request, caller, form)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise HTTPException(400, {"zh": "请选择要导入的文件", "en": "choose a file to import"})
    data = upload.file.read(IMPORT_LIMIT_BYTES + 1)
    if len(data) > IMPORT_LIMIT_BYTES:
        raise HTTPException(413, {"zh": "文件过大", "en": "file too large"})
    outcome = _import(store_engine(request), caller.account_id, upload.filename, data)
    return render(request, "portfolio_import.html", page_context(caller, outcome=outcome, filename=upload.filename))


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
                           for p in problem_lines(error)]}
    return {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0,
            "errors": [{"where": filename, "column": "", "zh": "只能导入 .xlsx（批量模板）或 .json（本系统导出）",
                        "en": "import an .xlsx (the batch template) or a .json (an export of this app)"}]}


@router.get("/portfolio/export.json")
def export_json(request: Request) -> Response:
    from ..store.portfolio import export_portfolio

    caller = page_caller(request)
    body = json.dumps(export_portfolio(store_engine(request), caller.account_id), ensure_ascii=False, indent=2)
    return Response(body + "\n", media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="portfolio.json"'})


@router.get("/portfolio/export.xlsx")
def export_xlsx(request: Request) -> Response:
    from ..store.workbook import export_workbook

    caller = page_caller(request)
    return Response(export_workbook(store_engine(request), caller.account_id), media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="portfolio.xlsx"'})


@router.get("/portfolio/tokens")
def tokens_page(request: Request) -> Response:
    from ..store.accounts import list_api_tokens

    caller = page_caller(request)
    return render(request, "portfolio_tokens.html",
                  page_context(caller, tokens=list_api_tokens(store_engine(request), caller.account_id), new_secret=None))


@router.post("/portfolio/tokens")
def create_token_page(request: Request, form: FormData = Depends(form_data)) -> Response:
    from ..store.accounts import create_api_token, list_api_tokens

    caller = page_caller(request)
    form = checked_form(request, caller, form)
    engine = store_engine(request)
    new = create_api_token(engine, caller.account_id, str(form.get("name") or "token"))
    response = render(request, "portfolio_tokens.html",
                      page_context(caller, tokens=list_api_tokens(engine, caller.account_id), new_secret=new.secret))
    response.headers["Cache-Control"] = "no-store"  # the secret is shown once and must not sit in a cache
    return response


@router.post("/portfolio/tokens/{token_id}/revoke")
def revoke_token_page(request: Request, token_id: int, form: FormData = Depends(form_data)) -> Response:
    from ..store.accounts import revoke_api_token

    caller = page_caller(request)
    checked_form(request, caller, form)
    call_store(revoke_api_token, store_engine(request), caller.account_id, token_id)
    return RedirectResponse("/portfolio/tokens", status_code=303)
