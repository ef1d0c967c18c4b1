"""A JSON-type check of API bodies against the profile's JSON Schema, before the engine parses them.

The engine's models parse leniently in places (a boolean field takes "true" or 1); the API documents JSON types,
so it holds clients to them: `true` only for a boolean. Only `type`, `$ref`, `anyOf`, `properties` and `items` are
read here; ranges, patterns and the rest stay with the engine's own validation.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any, Callable

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
    if _checker(schema, root)(data):
        return []  # the usual case: no mismatch, so no paths to build
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


# --- the same walk compiled into closures, answering only "any mismatch?" -----------------------------------

# The Python types a JSON type always accepts as they come out of the decoder (no further test needed);
# anything else goes through the type's own check (a Decimal "integer" must be integral, for one).
_PLAIN_TYPES: dict[str, tuple[type, ...]] = {"boolean": (bool,), "integer": (int,), "number": (int,),
                                             "string": (str,), "null": (type(None),), "object": (dict,),
                                             "array": (list,)}
Checker = Callable[[Any], bool]
# id(schema node) -> (node, its checker); nodes live as long as the cached schema
_CHECKERS: dict[int, tuple[dict[str, Any], Checker]] = {}


def _checker(schema: dict[str, Any], root: dict[str, Any]) -> Checker:
    """A function telling whether `_walk` would find no problem in a value, without building any path."""
    entry = _CHECKERS.get(id(schema))
    if entry is None or entry[0] is not schema:
        slot: list[Checker] = []
        # registered before the children are compiled, so a schema that refers to itself ends the recursion
        entry = _CHECKERS[id(schema)] = (schema, lambda value: slot[0](value))
        slot.append(_compile_checker(schema, root))
        entry = _CHECKERS[id(schema)] = (schema, slot[0])
    return entry[1]


def _compile_checker(schema: dict[str, Any], root: dict[str, Any]) -> Checker:
    allowed, checks, properties, items = _node(schema, root)
    plain = frozenset(t for name in (allowed or ()) for t in _PLAIN_TYPES.get(name, ()))
    by_key: dict[str, tuple[Checker, ...]] = {}
    for option in properties:
        for key, child in option.items():
            by_key[key] = by_key.get(key, ()) + (_checker(child, root),)
    item_checks = tuple(_checker(option, root) for option in items)

    def check(value: Any) -> bool:
        if checks is not None and type(value) not in plain and not any(test(value) for test in checks):
            return False
        kind = type(value)
        if kind is dict or (kind is not list and isinstance(value, dict)):
            if by_key:
                for key, child_value in value.items():
                    for child in by_key.get(key, ()):
                        if not child(child_value):
                            return False
        elif item_checks and (kind is list or isinstance(value, list)):
            for child in item_checks:
                for item in value:
                    if not child(item):
                        return False
        return True

    return check
