"""A JSON-type check of API bodies against the profile's JSON Schema, before the engine parses them.

The engine's models parse leniently in places (a boolean field takes "true" or 1); the API documents JSON types,
so it holds clients to them: `true` only for a boolean. Only `type`, `$ref`, `anyOf`, `properties` and `items` are
read here; ranges, patterns and the rest stay with the engine's own validation.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

from ..errors import Problem
from ..profile import profile_json_schema

_TYPE_CHECKS = {
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: not isinstance(v, bool) and (isinstance(v, int) or (isinstance(v, Decimal) and v == v.to_integral_value())),
    "number": lambda v: not isinstance(v, bool) and isinstance(v, (int, Decimal)),
    "string": lambda v: isinstance(v, str),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}
_NAMES_ZH = {"boolean": "true 或 false", "integer": "整数", "number": "数字", "string": "文本", "null": "null",
             "object": "对象", "array": "列表"}


@cache
def _profile_schema() -> dict[str, Any]:
    return profile_json_schema()


def type_problems(data: Any, definition: str, path: str) -> list[Problem]:
    """Type mismatches of `data` against a definition of the profile schema ("Profile" is the whole profile)."""
    root = _profile_schema()
    schema = root if definition == "Profile" else root["$defs"][definition]
    problems: list[Problem] = []
    _walk(data, schema, root, path, problems)
    return problems


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _types(schema: dict[str, Any], root: dict[str, Any]) -> set[str] | None:
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        found: set[str] = set()
        for option in schema["anyOf"]:
            option_types = _types(option, root)
            if option_types is None:
                return None
            found |= option_types
        return found
    declared = schema.get("type")
    if declared is None:
        return None
    return set(declared) if isinstance(declared, list) else {declared}


def _walk(data: Any, schema: dict[str, Any], root: dict[str, Any], path: str, problems: list[Problem]) -> None:
    allowed, checks, properties, items = _node(schema, root)
    if checks is not None and not any(check(data) for check in checks):
        names = sorted(allowed)
        problems.append(Problem(path, "类型不对，应为" + " 或 ".join(_NAMES_ZH.get(n, n) for n in names),
                                "wrong JSON type: expected " + " or ".join(names)))
        return
    if isinstance(data, dict):
        for option in properties:
            for key, value in data.items():
                if key in option:
                    _walk(value, option[key], root, f"{path}.{key}", problems)
    elif isinstance(data, list):
        for option in items:
            for index, item in enumerate(data):
                _walk(item, option, root, f"{path}[{index}]", problems)


# id(schema node) -> (node, what _walk needs from it): the schema is built once, and every request walks it
_NODES: dict[int, tuple[dict[str, Any], tuple[Any, ...]]] = {}


def _node(schema: dict[str, Any], root: dict[str, Any]) -> tuple[Any, ...]:
    """(allowed type names, their checks, the `properties` of each option, the `items` of each option)."""
    entry = _NODES.get(id(schema))
    if entry is None or entry[0] is not schema:
        allowed = _types(schema, root)
        checks = None if allowed is None else tuple(_TYPE_CHECKS[t] for t in allowed if t in _TYPE_CHECKS)
        options = _options(schema, root)
        info = (allowed, checks,
                tuple(o["properties"] for o in options if "properties" in o),
                tuple(o["items"] for o in options if "items" in o))
        entry = _NODES[id(schema)] = (schema, info)
    return entry[1]


def _options(schema: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        return [o for option in schema["anyOf"] for o in _options(option, root)]
    return [schema]
