"""Error pages and API error bodies: 404 / 400 / 413 / 500, in the visitor's language, never a traceback."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import Request

from ..errors import InputError, Problem
from ..profile import json_path
from .labels import N_
from .problems import problems_body
from .rendering import render, templates

_TITLES = {400: N_("Invalid request"), 404: N_("Page not found"), 405: N_("Method not allowed"),
           413: N_("Request too large"), 500: N_("Something went wrong"), 422: N_("Invalid request")}


def error_page_html(request: Request, status: int, problem: dict[str, str]) -> str:
    response = templates.TemplateResponse(request, "error.html", _error_context(status, problem), status_code=status)
    return bytes(response.body).decode()


def _error_context(status: int, problem: dict[str, str]) -> dict[str, Any]:
    return {"status": status, "title": _TITLES.get(status, "Error"), "problem": problem}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def http_error(request: Request, error: HTTPException) -> Any:
    zh, en = _http_texts(error)
    if _is_api(request):
        return JSONResponse(problems_body([Problem("$", zh, en)]), status_code=error.status_code,
                            headers=getattr(error, "headers", None))
    return render(request, "error.html", _error_context(error.status_code, {"path": "$", "zh": zh, "en": en}),
                  status_code=error.status_code, headers=getattr(error, "headers", None))


def _http_texts(error: HTTPException) -> tuple[str, str]:
    if isinstance(error.detail, dict) and "zh" in error.detail:
        return error.detail["zh"], error.detail["en"]
    if error.status_code == 404:
        return "找不到这个页面或对象", "not found"
    if error.status_code == 405:
        return "不支持这种请求方法", "method not allowed"
    return "请求有误", str(error.detail)


async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = []
    for item in error.errors():
        loc = tuple(item.get("loc", ()))
        where = loc[0] if loc else "request"
        path = json_path(loc[1:]) if where == "body" else f"{where}:{'.'.join(str(p) for p in loc[1:])}"
        problems.append(Problem(path, f"参数无效：{item.get('msg', '')}", f"invalid parameter: {item.get('msg', '')}"))
    return JSONResponse(problems_body(problems), status_code=400)


async def input_error(request: Request, error: InputError) -> JSONResponse:
    return JSONResponse(problems_body(error.problems), status_code=400)


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(InputError, input_error)
