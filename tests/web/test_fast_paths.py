"""The web app's fast paths against the slower definitions they replace: the Python result cards against the
`result_card` macro, the compiled JSON-type check against the schema walk, and the bare ASGI evaluate route
against the FastAPI route that documents it."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings, strategies as st

from incentives.evaluate import evaluate
from incentives.profile import loads_exact, parse_profile
from incentives.report import evaluation_dict
from incentives.web import i18n, labels
from incentives.web.cards import result_card
from incentives.web.json_types import _profile_schema, _walk, type_problems
from incentives.web.rendering import templates
from incentives.web.results_view import arrange, arrange_evaluation
from incentives.web.routes.api import api_evaluate

from .conftest import AS_OF

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DATES = ["2026-06-01", "2025-03-01", "2027-02-15"]


def _example(name: str) -> dict[str, Any]:
    return loads_exact((EXAMPLES / f"{name}.json").read_bytes())


def _documents() -> list[dict[str, Any]]:
    from datetime import date

    documents = []
    for path in sorted(EXAMPLES.glob("*.json")):
        profile = parse_profile(loads_exact(path.read_bytes()))
        for on in DATES:
            documents.append(evaluation_dict(evaluate(profile, date.fromisoformat(on))))
    return documents


def _macro_card(result: dict[str, Any], titles: dict[str, Any], lang: str) -> str:
    module = templates.env.get_template("_selfcheck.html").make_module(
        {"lang": lang, "is_zh": i18n.is_zh(lang), "labels": labels})
    return str(module.result_card(result, titles))


@pytest.mark.parametrize("lang", sorted(i18n.LANGS))
def test_python_cards_equal_the_result_card_macro(lang: str):
    compared = 0
    statuses = set()
    for document in _documents():
        panel = arrange(document)
        for result in document["results"]:  # every result, not only those the panel shows as cards
            assert str(result_card(result, panel.titles, lang)) == _macro_card(result, panel.titles, lang), (
                result["scheme_id"], result["unit_id"], document["as_of"])
            compared += 1
            statuses.add(result["status"])
    assert compared > 100
    assert {"eligible", "needs_confirmation", "ineligible", "superseded"} <= statuses


def test_cards_escape_markup_in_the_firm_and_unit_names():
    profile = _example("songjiang-satellite")
    profile["projects"][0]["name"] = "<script>alert(1)</script> & co"
    from datetime import date

    document = evaluation_dict(evaluate(parse_profile(profile), date.fromisoformat(AS_OF)))
    panel = arrange(document)
    shown = [r for r in document["results"] if r["unit_name"] and "<script>" in r["unit_name"]]
    assert shown
    for result in shown:
        html = str(result_card(result, panel.titles, "zh-CN"))
        assert "<script>" not in html and "&lt;script&gt;" in html
        assert html == _macro_card(result, panel.titles, "zh-CN")


def test_the_panel_from_the_evaluation_equals_the_panel_from_the_document():
    from datetime import date

    compared = 0
    for path in sorted(EXAMPLES.glob("*.json")):
        profile = parse_profile(loads_exact(path.read_bytes()))
        for on in DATES:
            evaluation = evaluate(profile, date.fromisoformat(on))
            document = evaluation_dict(evaluation)
            fast, slow = arrange_evaluation(evaluation), arrange(document)
            assert fast.document == {key: value for key, value in document.items() if key != "results"}
            for part in ("paying", "informing", "superseded", "not_in_force", "ineligible", "titles"):
                assert getattr(fast, part) == getattr(slow, part), (path.name, on, part)
            compared += len(slow.ineligible) + len(slow.paying)
    assert compared > 50


# --- the JSON type check ---------------------------------------------------------------------------------

_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10**12) | st.text(max_size=8)
    | st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**6, max_value=10**6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, prefix + (index,))
    return found


def _replace(node: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[head] = _replace(node[head], rest, value)
    return copy


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(["songjiang-satellite", "beijing-ai-pilot-platform", "guangzhou-manufacturer"]),
       where=st.integers(0, 10_000), value=_JSON_VALUES)
def test_the_compiled_type_check_agrees_with_the_schema_walk(name: str, where: int, value: Any):
    profile = _example(name)
    paths = _paths(profile)
    changed = _replace(profile, paths[where % len(paths)], value)
    root = _profile_schema()
    walked: list = []
    _walk(changed, root, root, "$.profile", walked)
    assert type_problems(changed, "Profile", "$.profile") == walked


def test_the_type_check_still_names_each_mismatch():
    profile = _example("songjiang-satellite")
    profile["enterprise"]["employees"] = True
    profile["projects"][1]["total_input_yuan"] = [Decimal("1")]
    problems = type_problems(profile, "Profile", "$.profile")
    assert [p.path for p in problems] == ["$.profile.enterprise.employees", "$.profile.projects[1].total_input_yuan"]


# --- the bare ASGI evaluate route --------------------------------------------------------------------------

def _bodies() -> list[bytes]:
    songjiang = json.dumps({"as_of": AS_OF, "profile": _example("songjiang-satellite")}, ensure_ascii=False,
                           default=str)
    return [
        songjiang.encode(),
        json.dumps({"profile": _example("guangzhou-manufacturer"), "as_of": "2025-03-01"}, default=str).encode(),
        b'{"profile": 3}', b"[]", b"{", b"", b'{"as_of": "tomorrow", "profile": {}}',
        b'{"profile": {"enterprise": {"name": "x", "employees": true}}}',
        b'{"profile": {"enterprise": {"name": "x"}, "projects": [{"id": "p", "total_input_yuan": "-1"}]}}',
        b'{"profile": {}, "extra": 1, "as_of": "2026-06-01"}',
    ]


def test_the_bare_evaluate_route_answers_like_the_documented_route(app):
    fast = TestClient(app)
    from fastapi import FastAPI

    from incentives.web import errors
    from incentives.web.middleware import EdgeMiddleware
    from incentives.schemes import catalogue

    # the documented FastAPI route alone, behind the same edge and error handlers
    documented = FastAPI()
    errors.install(documented)
    documented.add_middleware(EdgeMiddleware, rules_version=catalogue().rules_version, max_body_bytes=1_048_576)
    documented.add_api_route("/api/v1/evaluate", api_evaluate, methods=["POST"])
    slow = TestClient(documented)
    for body in _bodies():
        a = fast.post("/api/v1/evaluate", content=body, headers={"content-type": "application/json"})
        b = slow.post("/api/v1/evaluate", content=body, headers={"content-type": "application/json"})
        assert (a.status_code, a.content) == (b.status_code, b.content), body[:60]
        assert dict(a.headers) == dict(b.headers)
    assert fast.get("/api/v1/evaluate").status_code == 405


def test_the_openapi_document_still_describes_the_evaluate_operation(client: TestClient):
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/evaluate"]["post"]
    assert set(operation["responses"]) >= {"200", "400", "413"}
    assert operation["requestBody"]["content"]["application/json"]["schema"]


# --- the urlencoded form of the self-check page ------------------------------------------------------------

def _request(body: bytes, content_type: str = "application/x-www-form-urlencoded"):
    from starlette.requests import Request

    sent = [False]

    async def receive():
        if sent[0]:
            return {"type": "http.disconnect"}
        sent[0] = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-type", content_type.encode())],
             "query_string": b""}
    return Request(scope, receive)


def _both(body: bytes, content_type: str = "application/x-www-form-urlencoded"):
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from incentives.web.routes.selfcheck import posted_form

    async def read():
        fast = await posted_form(_request(body, content_type))
        slow = await _request(body, content_type).form()
        return fast.multi_items(), slow.multi_items()

    # on a thread of its own: the browser tests may leave an event loop running on this one
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(read())).result()


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=40) | st.lists(st.sampled_from([b"a", b"=", b"&", b"%", b"2F", b"+", b";", b"%E4%B8%8A",
                                                                 b"\xe4\xb8\x8a", b"x", b"%zz", b" "]),
                                                max_size=20).map(b"".join))
def test_the_form_split_agrees_with_starlettes_parser(body: bytes):
    fast, slow = _both(body)
    assert fast == slow


def test_the_form_split_reads_a_real_self_check_form():
    from urllib.parse import urlencode

    body = urlencode([("enterprise-name", "松江仪器 & co"), ("as_of", AS_OF), ("projects-0-fields", "a"),
                      ("projects-0-fields", "b"), ("empty", "")]).encode()
    fast, slow = _both(body)
    assert fast == slow and ("enterprise-name", "松江仪器 & co") in fast
    assert _both(body, "text/plain") == ([], [])  # other types still go to Starlette, which reads no fields


# --- chart coordinates -------------------------------------------------------------------------------------

@settings(max_examples=500, deadline=None)
@given(value=st.integers(-10**15, 10**15) | st.fractions(max_denominator=10**6),
       maximum=st.fractions(max_denominator=10**6).filter(lambda f: f != 0), span=st.integers(0, 500))
def test_integer_chart_coordinates_equal_the_fraction_formula(value, maximum, span):
    from fractions import Fraction

    from incentives.web.charts import _scaled

    assert _scaled(value, maximum, span) == int(Fraction(value) / maximum * span)


def test_the_server_keeps_freed_memory_where_glibc_allows_it():
    import platform
    import sys

    from incentives.web.app import keep_freed_memory

    kept = keep_freed_memory()
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert kept is True
    else:
        assert kept is False
