"""Tool pages: PBoC rate table with charts, the deadline calculator and the government-fund check."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...calculators.deadline import deadline_rules
from ...errors import CalendarNotPublished, InputError, Problem
from ...schemes import catalogue
from .. import labels
from ..charts import rate_chart
from ..forms import field_errors, fund_document, fund_field_caption, fund_state_from_form
from ..rendering import render, translate
from ..tools import deadline_answer, fund_check

router = APIRouter(prefix="/tools", include_in_schema=False)


@router.get("/rates")
async def rates_page(request: Request) -> Response:
    cat = catalogue()
    today = date.today()  # the chart runs to today: read here, at the edge
    tools = []
    for tool in cat.rates.tools:
        tenor = "1y" if "1y" in tool.tenors else tool.tenors[0]
        series = [(entry.from_, entry.values[tenor]) for entry in tool.rates]
        title = f"{tool.name_zh if request.cookies.get('lang') != 'en' else tool.name_en} ({tenor})"
        tools.append({"tool": tool, "tenor": tenor, "chart": rate_chart(series, today, title)})
    return render(request, "rates.html", {"tools": tools, "table": cat.rates.table})


@router.get("/deadline")
async def deadline_page(request: Request, rule: str = "", event_date: str = "") -> Response:
    cat = catalogue()
    rules = deadline_rules(cat)
    context: dict[str, Any] = {"rules": list(rules.values()), "rule": rule, "event_date": event_date,
                               "answer": None, "problem": None, "chosen": rules.get(rule)}
    if rule or event_date:
        try:
            event = date.fromisoformat(event_date)
            context["chosen"], context["answer"] = deadline_answer(cat, rule, event)
        except ValueError:
            context["problem"] = {"zh": "请填写 YYYY-MM-DD 格式的事件日期", "en": "Please give the event date as YYYY-MM-DD"}
        except InputError as error:
            context["problem"] = error.problems[0].as_dict()
        except CalendarNotPublished as error:
            context["problem"] = {"zh": error.zh, "en": error.en, "calendar": True}
    return render(request, "deadline.html", context, block="deadline_result")


@router.get("/fund")
async def fund_page(request: Request) -> Response:
    state = fund_state_from_form([])
    state.investments = [0]
    state.values["fund-investments-0-id"] = "inv1"
    state.as_of = date.today().isoformat()
    return render(request, "fund.html", {"state": state, "labels": labels, "errors": {}, "report": None,
                                         "problems": [], "captions": {}})


@router.post("/fund")
async def fund_submit(request: Request) -> Response:
    form = await request.form()
    state = fund_state_from_form(form.multi_items())
    state.as_of = state.as_of or date.today().isoformat()
    action = str(form.get("action") or "check")
    report, problems = None, []
    if action == "add_investment":
        index = max(state.investments, default=-1) + 1
        state.investments.append(index)
        state.values[f"fund-investments-{index}-id"] = f"inv{index + 1}"
    elif action.startswith("remove_investment:") and action.partition(":")[2].isdigit():
        index = int(action.partition(":")[2])
        if index in state.investments:
            state.investments.remove(index)
        for name in [n for n in state.values if n.startswith(f"fund-investments-{index}-")]:
            del state.values[name]
    else:
        try:
            as_of = date.fromisoformat(state.as_of)
            report = fund_check(fund_document(state), as_of)
        except ValueError:
            problems = [_as_of_problem(request)]
        except InputError as error:
            problems = error.problems
    errors = field_errors(problems, state) if problems else {}
    # the error summary names each field as the form labels it (the JSON paths are the API's words)
    captions = {name: fund_field_caption(name, state, lambda message: translate(request, message)) for name in errors}
    return render(request, "fund.html", {"state": state, "labels": labels, "errors": errors, "report": report,
                                         "problems": problems, "captions": captions}, block="fund_workspace",
                  status_code=422 if problems and request.headers.get("HX-Request") != "true" else 200)


def _as_of_problem(request: Request) -> Any:
    return Problem("$.as_of", "评估日必须是 YYYY-MM-DD 日期", "the evaluation date must be a YYYY-MM-DD date")
