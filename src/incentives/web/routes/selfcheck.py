"""The self-check page (/): the form, its htmx fragments, the results panel, example profiles, export / import."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import Response
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from ... import industry as industry_table
from ... import regions as region_table
from ...errors import InputError
from ...profile import loads_exact
from .. import labels
from ..display_values import industry_caption
from ..forms import FormState, field_caption, profile_document, state_from_document, state_from_form
from ..i18n import is_zh, lang_of
from ..rendering import is_htmx, render, translate
from ..selfcheck import blank_state, example_names, example_state, run

router = APIRouter()

EXPORT_FILE_NAME = "incentives-profile.json"


def _today() -> str:
    # the evaluation date defaults to today here, at the edge; the engine always takes it as an argument
    return date.today().isoformat()


def _page(request: Request, state: FormState, *, evaluate_now: bool, block: str | None = None,
          industry_query: str = "", notice: str | None = None, status_code: int = 200,
          had_errors: bool = False) -> Response:
    outcome = run(state) if evaluate_now else None
    problems = outcome.problems if outcome else []
    errors = outcome.errors if outcome else {}
    context: dict[str, Any] = {
        "state": state,
        "panel": outcome.panel if outcome else None,
        "problems": problems,
        "errors": errors,
        # the error summary names each field as the form labels it (the JSON paths are the API's words)
        "captions": {name: field_caption(name, state, lambda message: translate(request, message)) for name in errors},
        "examples": example_names(),
        "industry_query": industry_query,
        "industry_matches": _search_industries(request, industry_query) if industry_query else [],
        "industry_name": _industry_name(request, state.get("enterprise-industry_code")),
        "notice": notice,
        "labels": labels,
        "regions": region_table.regions(),
    }
    headers = None
    if block == "results" and (problems or had_errors):
        # inline messages live in the form: to show (or clear) them htmx swaps the whole workspace instead
        block = "workspace"
        headers = {"HX-Retarget": "#workspace", "HX-Reswap": "outerHTML"}
    if problems and not is_htmx(request):
        status_code = 422
    return render(request, "index.html", context, block=block, status_code=status_code, headers=headers)


def _industry_name(request: Request, code: Any) -> str:
    found = industry_table.lookup(code) if isinstance(code, str) and code else None
    return industry_caption(found, lang_of(request)) if found else ""


def _search_industries(request: Request, query: str) -> list[industry_table.Industry]:
    """The codes a search finds: on the English page English words find them too (the Chinese page is as it
    always was; its visitors type Chinese names)."""
    if is_zh(lang_of(request)):
        return industry_table.search(query)
    return industry_table.search_english(query)


@router.get("/")
async def selfcheck_page(request: Request, example: str | None = None, as_of: str | None = None) -> Response:
    as_of = as_of or _today()
    if example:
        state = example_state(example, as_of)
        if state is not None:
            return _page(request, state, evaluate_now=True)
    return _page(request, blank_state(as_of), evaluate_now=False)


_URLENCODED = b"application/x-www-form-urlencoded"
_MAX_FIELDS = 1000  # Starlette's defaults for request.form()
_MAX_FIELD_BYTES = 1024 * 1024


async def posted_form(request: Request) -> FormData:
    """`await request.form()`, with urlencoded bodies (what the self-check form posts on every evaluation) split
    here in one pass: the same fields and limits as Starlette's parser, which calls back per byte range."""
    content_type, _ = parse_options_header(request.headers.get("Content-Type"))
    if content_type != _URLENCODED:
        return await request.form()
    items: list[tuple[str, str]] = []
    for field in (await request.body()).split(b"&"):
        if not field:  # an empty chunk between separators is skipped, as Starlette's parser does
            continue
        if len(field) - (1 if b"=" in field else 0) > _MAX_FIELD_BYTES:
            raise HTTPException(400, f"Field exceeded maximum size of {_MAX_FIELD_BYTES // 1024}KB.")
        if len(items) >= _MAX_FIELDS:
            raise HTTPException(400, f"Too many fields. Maximum number of fields is {_MAX_FIELDS}.")
        name, _, value = field.partition(b"=")
        items.append((unquote_plus(name.decode("latin-1")), unquote_plus(value.decode("latin-1"))))
    return FormData(items)


@router.post("/")
async def selfcheck_submit(request: Request) -> Response:
    form = await posted_form(request)
    state = state_from_form(form.multi_items())
    if not state.as_of:
        state.as_of = _today()
    action = str(form.get("action") or "evaluate")
    query = str(form.get("industry_q") or "").strip()
    kind, _, argument = action.partition(":")
    if kind in ("add_project", "add_loan"):
        rows = state.projects if kind == "add_project" else state.loans
        index = state.next_index("projects" if kind == "add_project" else "loans")
        rows.append(index)
        state.values[f"{'projects' if kind == 'add_project' else 'loans'}-{index}-id"] = _default_id(kind, index)
        return _page(request, state, evaluate_now=False, industry_query=query)
    if kind in ("remove_project", "remove_loan") and argument.isdigit():
        _remove(state, "projects" if kind == "remove_project" else "loans", int(argument))
        return _page(request, state, evaluate_now=False, industry_query=query)
    if kind == "search_industry":
        return _page(request, state, evaluate_now=False, industry_query=query)
    if kind == "pick_industry":
        state.values["enterprise-industry_code"] = argument
        return _page(request, state, evaluate_now=False)
    if kind == "export":
        return _export(state)
    return _page(request, state, evaluate_now=True, block="results", industry_query=query,
                 had_errors=bool(form.get("had_errors")))


def _default_id(kind: str, index: int) -> str:
    return f"{'p' if kind == 'add_project' else 'loan'}{index + 1}"


def _remove(state: FormState, kind: str, index: int) -> None:
    rows = state.projects if kind == "projects" else state.loans
    if index in rows:
        rows.remove(index)
    prefix = f"{kind}-{index}-"
    for name in [n for n in state.values if n.startswith(prefix)]:
        del state.values[name]


def _export(state: FormState) -> Response:
    document = profile_document(state)
    body = json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"
    return Response(body, media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{EXPORT_FILE_NAME}"'})


@router.post("/profile/export")
async def export_profile(request: Request) -> Response:
    form = await request.form()
    return _export(state_from_form(form.multi_items()))


@router.post("/profile/import")
async def import_profile(request: Request) -> Response:
    form: FormData = await request.form()
    upload = form.get("profile_file")
    as_of = str(form.get("as_of") or "") or _today()
    text = await upload.read() if isinstance(upload, UploadFile) else b""
    zh = is_zh(lang_of(request))
    if not text.strip():
        # no file chosen (or an empty one) is not a profile missing its enterprise
        notice = "请选择一个已导出的企业画像 JSON 文件（文件不能为空）" if zh else \
            "choose a profile JSON file exported from this page (the file must not be empty)"
        return _page(request, blank_state(as_of), evaluate_now=False, notice=notice, status_code=400)
    try:
        document = loads_exact(text)
    except InputError as error:
        state = blank_state(as_of)
        notice = error.problems[0].zh if zh else error.problems[0].en
        return _page(request, state, evaluate_now=False, notice=notice, status_code=400)
    return _page(request, state_from_document(document, as_of), evaluate_now=True)


# --- htmx fragments -----------------------------------------------------------------------------------------


@router.post("/fragments/project")
async def project_fragment(request: Request) -> Response:
    return await _new_row(request, "projects", "add_project", "fragments/project_row.html")


@router.post("/fragments/loan")
async def loan_fragment(request: Request) -> Response:
    return await _new_row(request, "loans", "add_loan", "fragments/loan_row.html")


async def _new_row(request: Request, kind: str, id_prefix: str, template: str) -> Response:
    """The form state posted so far plus one empty row of `kind`, rendered as that row alone."""
    state = state_from_form((await request.form()).multi_items())
    index = state.next_index(kind)
    getattr(state, kind).append(index)
    state.values[f"{kind}-{index}-id"] = _default_id(id_prefix, index)
    return render(request, template,
                  {"state": state, "index": index, "errors": {}, "labels": labels, "regions": region_table.regions()})


@router.get("/fragments/empty")
async def empty_fragment() -> Response:
    return Response("", media_type="text/html")


@router.get("/fragments/region")
async def region_fragment(request: Request, prefix: str = "enterprise-region", districts: bool = True) -> Response:
    if not _safe_prefix(prefix):
        return Response("", media_type="text/html", status_code=400)
    state = state_from_form(request.query_params.multi_items())
    province = state.get(f"{prefix}-province")
    city = state.get(f"{prefix}-city")
    known_cities = region_table.cities(province) if province else []
    if known_cities and city not in known_cities:
        # a province with one city (直辖市) has that city; otherwise the old city no longer fits
        state.values[f"{prefix}-city"] = known_cities[0] if len(known_cities) == 1 else ""
        state.values[f"{prefix}-district"] = ""
    return render(request, "fragments/region_picker.html",
                  {"state": state, "prefix": prefix, "with_district": districts, "errors": {},
                   "regions": region_table.regions()})


def _safe_prefix(prefix: str) -> bool:
    parts = prefix.split("-")
    return (prefix == "enterprise-region"
            or (len(parts) == 3 and parts[0] in ("projects", "loans") and parts[1].isdigit()
                and parts[2] in ("location", "region_of_use")))


@router.get("/industry/search")
async def industry_search(request: Request, industry_q: str = "") -> Response:
    return render(request, "fragments/industry_hits.html",
                  {"industry_matches": _search_industries(request, industry_q[:40]), "industry_query": industry_q})


@router.get("/fragments/industry")
async def industry_fragment(request: Request, code: str = "") -> Response:
    state = FormState(values={"enterprise-industry_code": code[:10]})
    return render(request, "fragments/industry_picker.html",
                  {"state": state, "errors": {}, "industry_name": _industry_name(request, code), "industry_query": "",
                   "industry_matches": []})
