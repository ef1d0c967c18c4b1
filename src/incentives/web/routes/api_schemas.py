"""OpenAPI pieces for the JSON API: request bodies from the engine's own profile schema, response shapes, and
the documented error bodies (400 malformed input, 404, 409, 413)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ... import industry as industry_table
from ... import regions as region_table
from ...profile import MAX_YUAN, profile_json_schema
from ..problems import PROBLEMS_SCHEMA

_STATUSES = ["eligible", "needs_confirmation", "ineligible", "not_in_force", "superseded"]
_DATE = {"type": "string", "format": "date"}
_CITE = {"type": "object", "required": ["document", "clause", "quote_zh", "confidence"],
         "properties": {"document": {"type": "string"}, "clause": {"type": "string"}, "quote_zh": {"type": "string"},
                        "wording": {"enum": ["secondary"]}, "confidence": {"enum": ["high", "medium", "low"]}}}
_NULLABLE_INT = {"type": ["integer", "null"]}

RESULT = {
    "type": "object",
    "required": ["scheme_id", "title_zh", "title_en", "kind", "unit_kind", "status", "amount_fen", "conditions", "steps"],
    "properties": {
        "scheme_id": {"type": "string"}, "title_zh": {"type": "string"}, "title_en": {"type": "string"},
        "kind": {"type": "string"}, "unit_kind": {"type": "string"}, "unit_id": {"type": ["string", "null"]},
        "status": {"enum": _STATUSES}, "amount_fen": _NULLABLE_INT, "cap_fen": _NULLABLE_INT,
        "headroom_fen": _NULLABLE_INT, "binding_cap": {"type": "boolean"}, "base_fen": _NULLABLE_INT,
        "rate": {"type": ["string", "null"]}, "superseded_by": {"type": ["string", "null"]},
        "conditions": {"type": "array", "items": {"type": "object"}},
        "steps": {"type": "array", "items": {"type": "object"}},
        "to_confirm": {"type": "array", "items": {"type": "object"}},
    },
}
EVALUATION = {
    "type": "object",
    "required": ["as_of", "rules_version", "enterprise", "total_fen", "potential_total_fen", "results"],
    "properties": {
        "as_of": _DATE, "rules_version": {"type": "string"}, "enterprise": {"type": "object"},
        "total_fen": {"type": "integer", "minimum": 0}, "potential_total_fen": {"type": "integer", "minimum": 0},
        "results": {"type": "array", "items": RESULT},
    },
}
_SUMMARY = {
    "type": "object",
    "required": ["id", "title_zh", "title_en", "kind", "unit", "region", "document", "in_force"],
    "properties": {"id": {"type": "string"}, "title_zh": {"type": "string"}, "title_en": {"type": "string"},
                   "kind": {"type": "string"}, "unit": {"type": "string"}, "region": {"type": "string"},
                   "document": {"type": ["string", "object"]}, "clause": {"type": "string"},
                   "in_force": {"type": "object", "properties": {"from": _DATE, "until": {"type": ["string", "null"]}}}},
}
SCHEME_LIST = {"type": "object", "required": ["rules_version", "schemes"],
               "properties": {"rules_version": {"type": "string"}, "schemes": {"type": "array", "items": _SUMMARY}}}
SCHEME_DETAIL = {**_SUMMARY, "required": _SUMMARY["required"] + ["definition", "file"],
                 "properties": {**_SUMMARY["properties"], "definition": {"type": "object"}, "file": {"type": "string"}}}
RATE = {"type": "object", "required": ["tool", "tenor", "on", "rate", "effective_from", "cite"],
        "properties": {"tool": {"type": "string"}, "tenor": {"enum": ["3m", "6m", "1y"]}, "on": _DATE,
                       "rate": {"type": "string", "pattern": r"^0\.\d+$", "description": "fraction: 0.0125 = 1.25%"},
                       "effective_from": _DATE, "cite": _CITE}}
DEADLINE = {"type": "object", "required": ["rule", "event_date", "counted_from", "deadline", "working_days"],
            "properties": {"rule": {"type": "string"}, "event_date": _DATE, "counted_from": _DATE, "deadline": _DATE,
                           "working_days": {"type": "array", "items": _DATE}}}
FUND_CHECK = {"type": "object", "required": ["as_of", "rules_version", "results", "violations"],
              "properties": {"as_of": _DATE, "rules_version": {"type": "string"},
                             "results": {"type": "array", "items": RESULT},
                             "violations": {"type": "array", "items": {"type": "object"}}}}

_ERROR_TEXT = {
    400: "Malformed input: not JSON, wrong shape or type, or a value the rules reject. Each problem names the "
         "JSON path of the field and the reason in Chinese and English.",
    404: "Unknown scheme, rate tool or deadline rule, or no rate known on that date.",
    409: "The official holiday calendar of that year is not published yet, so working days cannot be counted.",
    413: "Request body larger than the configured limit.",
}


def _problems_response(status: int) -> dict[str, Any]:
    return {"description": _ERROR_TEXT[status], "content": {"application/json": {"schema": PROBLEMS_SCHEMA}}}


def responses(success: dict[str, Any], *errors: int) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {200: {"description": "OK", "content": {"application/json": {"schema": success}}}}
    for status in errors:
        out[status] = _problems_response(status)
    return out


def _body(name: str) -> dict[str, Any]:
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}}


def evaluate_body() -> dict[str, Any]:
    return _body("EvaluateRequest")


def fund_body() -> dict[str, Any]:
    return _body("FundCheckRequest")


def _region_schema() -> dict[str, Any]:
    """Region as the engine checks it: a known province; where the calculator lists a province's cities (and a
    city's districts) only those; elsewhere free text. One alternative per province / listed city."""
    text = {"type": ["string", "null"], "maxLength": 20}
    alternatives = []
    for province, cities in region_table.regions().items():
        alternatives.append(_region(province, text if not cities else {"type": "null"}, text))
        for city, districts in cities.items():
            district = {"enum": [*districts, None]} if districts else text
            alternatives.append(_region(province, {"const": city}, district))
    return {"title": "Region", "description": "省级行政区 / 地级市 / 区县, e.g. 上海市 / 上海市 / 松江区",
            "anyOf": alternatives}


def _region(province: str, city: dict[str, Any], district: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": ["province"],
            "properties": {"province": {"const": province}, "city": city, "district": district}}


def _amounts_in_fen(node: Any) -> None:
    """Standard bounds for integers, and yuan amounts in whole fen (JSON numbers: at most two decimals)."""
    if isinstance(node, dict):
        for loose, standard in (("ge", "minimum"), ("le", "maximum")):
            # the engine's schema spells integer bounds "ge" / "le"; JSON Schema calls them minimum / maximum
            if node.get("type") == "integer" and loose in node:
                node[standard] = node.pop(loose)
        if node.get("type") == "number" and node.get("maximum") == MAX_YUAN:
            node["multipleOf"] = 0.01
        if node.get("type") == "string" and str(node.get("pattern", "")).startswith(r"^\s*[0-9][0-9,_]*"):
            # at most 13 integer digits keeps a decimal string under the ten-trillion-yuan bound
            node["pattern"] = r"^\s*[0-9]{1,13}(\.[0-9]{1,2})?\s*$"
        for value in node.values():
            _amounts_in_fen(value)
    elif isinstance(node, list):
        for value in node:
            _amounts_in_fen(value)


def _profile_components() -> dict[str, Any]:
    schema = json.loads(json.dumps(profile_json_schema()).replace("#/$defs/", "#/components/schemas/"))
    components = schema.pop("$defs", {})
    components["Region"] = _region_schema()
    _amounts_in_fen(components)
    industry = components["Enterprise"]["properties"]["industry_code"]
    codes = sorted(industry_table.industries())
    industry["anyOf"] = [{"enum": codes, "description": "GB/T 4754-2017 code: section letter or 2/3/4 digits"},
                         {"type": "null"}]
    components["Profile"] = schema
    as_of = {**_DATE, "description": "evaluation date; defaults to today"}
    components["EvaluateRequest"] = {"type": "object", "additionalProperties": False, "required": ["profile"],
                                     "properties": {"profile": {"$ref": "#/components/schemas/Profile"}, "as_of": as_of}}
    components["FundCheckRequest"] = {"type": "object", "additionalProperties": False, "required": ["fund"],
                                      "properties": {"fund": {"$ref": "#/components/schemas/Fund"}, "as_of": as_of}}
    return components


def install_openapi(app: FastAPI) -> None:
    """The OpenAPI document, with the profile models as components and 400 / 413 on every API operation."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_profile_components())
            for path_item in schema.get("paths", {}).values():
                for operation in path_item.values():
                    answers = operation.setdefault("responses", {})
                    answers.pop("422", None)  # validation problems are answered with 400 (see errors.py)
                    answers.setdefault("400", _problems_response(400))
                    answers.setdefault("413", _problems_response(413))
            schema["components"]["schemas"].pop("HTTPValidationError", None)
            schema["components"]["schemas"].pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
