"""JSON API under /api/v1: evaluate, schemes, scheme detail, rate, deadline, fund check.

Bodies are parsed by the engine from the raw bytes (`loads_exact`), so amounts stay exact decimals and every
problem comes back with its JSON path, in Chinese and English.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from ...calculators.rate_table import RateLookupError
from ...errors import CalendarNotPublished, InputError, Problem
from ...evaluate import evaluate, parse_for_evaluation
from ...profile import loads_exact
from ...result_json import evaluation_bytes
from ...schemes import catalogue
from .. import catalogue_view
from ..json_types import type_problems
from ..problems import problems_body
from ..tools import deadline_answer, deadline_document, fund_check, rate_answer
from . import api_schemas as schemas

router = APIRouter(prefix="/api/v1", tags=["api"])


def _json(data: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status_code, media_type="application/json")


def _problem(status: int, path: str, zh: str, en: str) -> JSONResponse:
    return JSONResponse(problems_body([Problem(path, zh, en)]), status_code=status)


async def _envelope(request: Request, inner: str, model: str) -> tuple[Any, date]:
    return decode_envelope(await request.body(), inner, model)


def decode_envelope(raw: bytes, inner: str, model: str) -> tuple[Any, date]:
    """Decode {"<inner>": {...}, "as_of": "YYYY-MM-DD"} and check the JSON types of <inner> against `model`.

    as_of defaults to today (here, at the edge).
    """
    body = loads_exact(raw)
    if not isinstance(body, dict):
        raise InputError([Problem("$", "请求体必须是 JSON 对象", "the body must be a JSON object")])
    unknown = sorted(set(body) - {inner, "as_of"})
    problems = [Problem(f"$.{key}", "不认识的字段（可能拼写错误）", "unknown field (misspelt?)") for key in unknown]
    if inner not in body:
        problems.append(Problem(f"$.{inner}", "缺少必填字段", "field required"))
    elif not isinstance(body[inner], dict):
        problems.append(Problem(f"$.{inner}", "必须是 JSON 对象", "must be a JSON object"))
    as_of = date.today()
    if "as_of" in body:
        raw_date = body["as_of"]
        try:
            if not isinstance(raw_date, str):
                raise ValueError
            as_of = date.fromisoformat(raw_date)
        except ValueError:
            problems.append(Problem("$.as_of", "必须是 YYYY-MM-DD 格式的日期", "must be a YYYY-MM-DD date"))
    if problems:
        raise InputError(problems)
    problems = type_problems(body[inner], model, f"$.{inner}")
    if problems:
        raise InputError(problems)
    return body[inner], as_of


def _nested(error: InputError, prefix: str) -> InputError:
    return InputError([Problem(prefix + p.path.removeprefix("$"), p.zh, p.en) for p in error.problems])


def evaluation_document(raw: bytes) -> bytes:
    """The body of a successful POST /api/v1/evaluate: the CLI's result document, byte for byte (a test keeps the
    two identical). Raises InputError for a body the engine cannot take."""
    data, as_of = decode_envelope(raw, "profile", "Profile")
    try:
        profile = parse_for_evaluation(data)
    except InputError as error:
        raise _nested(error, "$.profile") from None
    return evaluation_bytes(evaluate(profile, as_of))


@router.post("/evaluate", summary="Evaluate a profile on a date (the CLI's result document)",
             openapi_extra=schemas.evaluate_body(), responses=schemas.responses(schemas.EVALUATION, 400))
async def api_evaluate(request: Request) -> Response:
    # documents the operation in OpenAPI; the app answers requests with `answer_evaluate` (same answers)
    return Response(evaluation_document(await request.body()), media_type="application/json")


_JSON_HEADERS = (b"content-type", b"application/json")
EVALUATE_PATH = "/api/v1/evaluate"


async def answer_evaluate(scope: Scope, receive: Receive, send: Send) -> None:
    """POST /api/v1/evaluate as a bare ASGI app: the hot endpoint skips request parsing, dependency solving and
    response classes it does not need. Same answers as `api_evaluate`: the document, or a 400 with problems.
    The app calls it ahead of its middleware stack, behind the same edge middleware (body limit, security
    headers, X-Rules-Version, the friendly error page): see app.IncentivesApp."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away before sending the whole body
            return
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    try:
        document = evaluation_document(b"".join(chunks))
    except InputError as error:
        await JSONResponse(problems_body(error.problems), status_code=400)(scope, receive, send)
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(document)).encode()), _JSON_HEADERS]})
    await send({"type": "http.response.body", "body": document})


@router.get("/schemes", summary="Every scheme, filtered by region and kind",
            responses=schemas.responses(schemas.SCHEME_LIST, 400))
async def api_schemes(region: str | None = Query(None, max_length=40),
                      kind: str | None = Query(None, max_length=40)) -> Response:
    cat = catalogue()
    return _json({"rules_version": cat.rules_version,
                  "schemes": catalogue_view.summaries(cat, region, kind)})


@router.get("/schemes/{scheme_id:path}", summary="One scheme: document, versions, parameters, citations",
            responses=schemas.responses(schemas.SCHEME_DETAIL, 400, 404))
async def api_scheme(scheme_id: str) -> Response:
    cat = catalogue()
    try:
        scheme = cat.scheme(scheme_id)
    except KeyError:
        return _problem(404, "scheme_id", f"没有方案“{scheme_id}”", f"no scheme '{scheme_id}'")
    return _json(catalogue_view.detail(cat, scheme))


@router.get("/rate", summary="A PBoC tool's rate on a date", responses=schemas.responses(schemas.RATE, 400, 404))
async def api_rate(tool: str = Query(..., max_length=64), on: date = Query(...),
                   tenor: Literal["3m", "6m", "1y"] = Query("1y")) -> Response:
    try:
        return _json(rate_answer(catalogue(), tool, tenor, on))
    except RateLookupError as error:
        return _problem(404, "tool", error.zh, error.en)


@router.get("/deadline", summary="Deadline of a rule for an event date, with the working days counted",
            responses=schemas.responses(schemas.DEADLINE, 400, 404, 409))
async def api_deadline(rule: str = Query(..., max_length=100), event_date: date = Query(...)) -> Response:
    try:
        found, answer = deadline_answer(catalogue(), rule, event_date)
    except InputError as error:
        return JSONResponse(problems_body(error.problems), status_code=404)
    except CalendarNotPublished as error:
        # a well-formed question the calendar cannot answer yet: a conflict with the data, not bad input
        return _problem(409, "event_date", error.zh, error.en)
    return _json(deadline_document(found, answer, event_date))


@router.post("/fund-check", summary="Government investment fund: investment checks and deadlines",
             openapi_extra=schemas.fund_body(), responses=schemas.responses(schemas.FUND_CHECK, 400))
async def api_fund_check(request: Request) -> Response:
    data, as_of = await _envelope(request, "fund", "Fund")
    return _json(fund_check(data, as_of))  # problems already carry $.fund paths
