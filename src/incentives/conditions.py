"""Typed eligibility conditions, evaluated three-valued (met / failed / unknown) with reasons.

A condition is either a leaf test on one fact (`field` + one operator) or a group (`all`, `any`, `not`).
Unknown facts never count as met: they make the whole condition unknown unless the others already decide it
(Kleene logic), and the result lists what to confirm.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Annotated, Any, Callable, Literal, NamedTuple, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    Tag,
    model_validator,
)

from .citations import Cite


class Outcome(str, Enum):
    met = "met"
    failed = "failed"
    unknown = "unknown"


Scalar = Union[StrictBool, StrictInt, date, StrictStr]

_OPERATORS = ("equals", "not_equals", "in_", "not_in", "contains", "contains_any", "gte", "gt", "lte", "lt", "is_")


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    label_zh: str | None = None
    label_en: str | None = None
    confirm_zh: str | None = Field(None, description="What to confirm when this is unknown (zh)")
    confirm_en: str | None = None
    cite: Cite | None = None


class Leaf(_Node):
    """A test on one fact, e.g. {field: project.location.district, equals: 松江区}."""

    field: str
    equals: Scalar | None = None
    not_equals: Scalar | None = None
    in_: list[Scalar] | None = Field(None, alias="in")
    not_in: list[Scalar] | None = None
    contains: Scalar | None = Field(None, description="the list-valued fact contains this value")
    contains_any: list[Scalar] | None = None
    gte: Scalar | None = None
    gt: Scalar | None = None
    lte: Scalar | None = None
    lt: Scalar | None = None
    is_: StrictBool | None = Field(None, alias="is")

    @model_validator(mode="after")
    def _exactly_one_operator(self) -> Leaf:
        used = [name for name in _OPERATORS if getattr(self, name) is not None]
        if len(used) != 1:
            raise ValueError(f"a condition needs exactly one operator, got {used or 'none'}")
        if self.label_zh is None or self.label_en is None:
            raise ValueError("a leaf condition needs label_zh and label_en")
        return self

    @property
    def operator(self) -> str:
        return next(name for name in _OPERATORS if getattr(self, name) is not None)

    @property
    def operand(self) -> Any:
        return getattr(self, self.operator)


class AllOf(_Node):
    all: list[Condition] = Field(min_length=1)


class AnyOf(_Node):
    any: list[Condition] = Field(min_length=1)


class NotOf(_Node):
    not_: Condition = Field(alias="not")


def _condition_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("all", "any", "not"):
            if key in value:
                return key
        return "leaf"
    return {Leaf: "leaf", AllOf: "all", AnyOf: "any", NotOf: "not"}.get(type(value))


Condition = Annotated[
    Union[Annotated[Leaf, Tag("leaf")], Annotated[AllOf, Tag("all")], Annotated[AnyOf, Tag("any")],
          Annotated[NotOf, Tag("not")]],
    Discriminator(_condition_kind),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


def leaves(condition: Condition) -> list[Leaf]:
    if isinstance(condition, Leaf):
        return [condition]
    if isinstance(condition, AllOf):
        return [leaf for child in condition.all for leaf in leaves(child)]
    if isinstance(condition, AnyOf):
        return [leaf for child in condition.any for leaf in leaves(child)]
    return leaves(condition.not_)


# --- evaluation ---------------------------------------------------------------------------------------------


class ConditionResult(NamedTuple):
    """One condition's outcome with its reasons. Immutable; a named tuple because every request builds a few
    hundred of them, and a frozen dataclass takes several times longer to construct."""

    label_zh: str
    label_en: str
    outcome: Outcome
    actual: str | None = None  # the fact's value, for people
    cite: Cite | None = None
    confirm_zh: str | None = None
    confirm_en: str | None = None
    children: tuple[ConditionResult, ...] = ()
    # the compiled condition's fixed texts when it came from one (scheme data only; see NodeText)
    text: NodeText | None = None

    def unknown_leaves(self) -> list[ConditionResult]:
        if self.outcome is not Outcome.unknown:
            return []
        if not self.children:
            return [self]
        found = [leaf for child in self.children for leaf in child.unknown_leaves()]
        return found or [self]

    def failed_leaves(self) -> list[ConditionResult]:
        if self.outcome is not Outcome.failed:
            return []
        if not self.children:
            return [self]
        found = [leaf for child in self.children for leaf in child.failed_leaves()]
        return found or [self]

    def as_dict(self) -> dict[str, Any]:
        cite = self.cite
        out: dict[str, Any] = {
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "outcome": _OUTCOME_VALUES[self.outcome],  # Enum.value is a slow descriptor on this hot path
            "actual": self.actual,
            "cite": cite.as_dict() if cite is not None else None,
        }
        if self.outcome is Outcome.unknown:
            out["confirm_zh"] = self.confirm_zh or f"请确认：{self.label_zh}"
            out["confirm_en"] = self.confirm_en or f"Please confirm: {self.label_en}"
        if self.children:
            out["children"] = [child.as_dict() for child in self.children]
        return out


_OUTCOME_VALUES = {outcome: outcome.value for outcome in Outcome}


def kleene_all(outcomes: list[Outcome]) -> Outcome:
    if any(o is Outcome.failed for o in outcomes):
        return Outcome.failed
    if any(o is Outcome.unknown for o in outcomes):
        return Outcome.unknown
    return Outcome.met


def kleene_any(outcomes: list[Outcome]) -> Outcome:
    if any(o is Outcome.met for o in outcomes):
        return Outcome.met
    if any(o is Outcome.unknown for o in outcomes):
        return Outcome.unknown
    return Outcome.failed


# operator -> test(operand, value): compiled leaves look their operator's test up once
_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": lambda operand, value: value == operand,
    "not_equals": lambda operand, value: value != operand,
    "in_": lambda operand, value: value in operand,
    "not_in": lambda operand, value: value not in operand,
    "contains": lambda operand, value: operand in value,
    "contains_any": lambda operand, value: any(item in value for item in operand),
    "gte": lambda operand, value: value >= operand,
    "gt": lambda operand, value: value > operand,
    "lte": lambda operand, value: value <= operand,
    "lt": lambda operand, value: value < operand,
    "is_": lambda operand, value: bool(value) is operand,
}


def _show(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) if value else "—"
    return str(value)


def evaluate(condition: Condition, facts: dict[str, Any]) -> ConditionResult:
    """Evaluate a condition against a flat dict of facts (dotted names)."""
    return compiled(condition)(facts)


# Conditions come from the catalogue, which lives for the whole process, and are evaluated for every unit of
# every request: each tree is turned into closures once (operator, operand and labels resolved up front).
# Keyed by id() with the condition itself kept in the entry, so an id is never reused while it is cached.
Evaluator = Callable[[dict[str, Any]], ConditionResult]
_COMPILED: dict[int, tuple[Condition, Evaluator]] = {}
_COMPILED_LIMIT = 100_000
# A leaf's result depends only on its fact's value; results are immutable, so the common values of categorical
# facts (yes/no, region, kind, lists of certifications) share one result object, as interned values would.
# Amounts and dates are not remembered: they differ from one enterprise to the next, so remembering them would
# only help a benchmark that repeats one profile.
_ONLY_STR = frozenset({str})  # the item types of a tuple whose results are remembered
_MEMO_LIMIT = 64


def compiled(condition: Condition) -> Evaluator:
    entry = _COMPILED.get(id(condition))
    if entry is None or entry[0] is not condition:
        entry = (condition, _compile(condition))
        if len(_COMPILED) >= _COMPILED_LIMIT:  # many catalogues built in one process (tests): start again
            _COMPILED.clear()
        _COMPILED[id(condition)] = entry
    return entry[1]


class NodeText:
    """The fixed part of a compiled condition's results: labels, citation and what to confirm, as every result of
    that condition carries them. Built once per condition of the scheme data, so writers can prepare the text
    of these fields once (`rendered`, filled by result_json) instead of once per result."""

    __slots__ = ("label_zh", "label_en", "cite", "confirm_zh", "confirm_en", "rendered")

    def __init__(self, label_zh: str, label_en: str, cite: Cite | None, confirm_zh: str | None,
                 confirm_en: str | None):
        self.label_zh, self.label_en, self.cite = label_zh, label_en, cite
        self.confirm_zh, self.confirm_en = confirm_zh, confirm_en
        self.rendered: dict[Any, Any] = {}


def _compile(condition: Condition) -> Evaluator:
    return _compile_node(condition)[0]


def _compile_node(condition: Condition) -> tuple[Evaluator, NodeText]:
    if isinstance(condition, Leaf):
        return _compile_leaf(condition)
    if isinstance(condition, NotOf):
        return _compile_not(condition)
    return _compile_group(condition)


def _compile_leaf(condition: Leaf) -> tuple[Evaluator, NodeText]:
    name = condition.field
    operator = condition.operator
    operand = condition.operand
    label_zh = condition.label_zh or ""
    label_en = condition.label_en or ""
    cite, confirm_zh, confirm_en = condition.cite, condition.confirm_zh, condition.confirm_en
    text = NodeText(label_zh, label_en, cite, confirm_zh, confirm_en)
    unknown = ConditionResult(label_zh, label_en, Outcome.unknown, None, cite, confirm_zh, confirm_en, (), text)
    memo: dict[Any, ConditionResult] = {}
    met, failed = Outcome.met, Outcome.failed
    test = _TESTS[operator]
    only_str = _ONLY_STR

    def run(facts: dict[str, Any]) -> ConditionResult:
        value = facts[name]
        if value is None:
            return unknown
        kind = type(value)
        if kind is str or kind is bool or (kind is tuple and only_str.issuperset(map(type, value))):
            # keyed by the value alone: a str, a bool and a tuple of str never compare equal to one another
            found = memo.get(value)
            if found is None:
                found = ConditionResult(label_zh, label_en, met if test(operand, value) else failed,
                                        _show(value), cite, confirm_zh, confirm_en, (), text)
                if len(memo) < _MEMO_LIMIT:
                    memo[value] = found
            return found
        # an amount or a date: shown as _show shows anything but a tuple
        return ConditionResult(label_zh, label_en, met if test(operand, value) else failed,
                               _show(value) if kind is tuple else str(value), cite, confirm_zh, confirm_en, (), text)

    return run, text


KLEENE_NOT = {Outcome.met: Outcome.failed, Outcome.failed: Outcome.met, Outcome.unknown: Outcome.unknown}


def _compile_not(condition: NotOf) -> tuple[Evaluator, NodeText]:
    inner_run, inner = _compile_node(condition.not_)
    # the inner condition's labels and citation are fixed, so the defaults taken from them are too
    label_zh = condition.label_zh or f"并非：{inner.label_zh}"
    label_en = condition.label_en or f"Not: {inner.label_en}"
    cite = condition.cite or inner.cite
    confirm_zh, confirm_en = condition.confirm_zh, condition.confirm_en
    text = NodeText(label_zh, label_en, cite, confirm_zh, confirm_en)

    def run(facts: dict[str, Any]) -> ConditionResult:
        result = inner_run(facts)
        return ConditionResult(label_zh, label_en, KLEENE_NOT[result.outcome], None, cite, confirm_zh,
                               confirm_en, (result,), text)

    return run, text


def _compile_group(condition: AllOf | AnyOf) -> tuple[Evaluator, NodeText]:
    is_all = isinstance(condition, AllOf)
    compiled_children = [_compile_node(child) for child in (condition.all if is_all else condition.any)]
    runs = tuple(run for run, _ in compiled_children)
    joiner_zh, joiner_en = ("且", " and ") if is_all else ("或", " or ")
    # every child's labels are fixed, so the joined default label is too
    label_zh = condition.label_zh or joiner_zh.join(child.label_zh for _, child in compiled_children)
    label_en = condition.label_en or joiner_en.join(child.label_en for _, child in compiled_children)
    cite, confirm_zh, confirm_en = condition.cite, condition.confirm_zh, condition.confirm_en
    text = NodeText(label_zh, label_en, cite, confirm_zh, confirm_en)

    # Kleene logic as kleene_all / kleene_any, written out: this runs for every group of every unit
    met, failed, unknown = Outcome.met, Outcome.failed, Outcome.unknown
    deciding, otherwise = (failed, met) if is_all else (met, failed)

    def run(facts: dict[str, Any]) -> ConditionResult:
        results = tuple([child(facts) for child in runs])
        outcome = otherwise
        for result in results:
            found = result.outcome
            if found is deciding:
                outcome = deciding
                break
            if found is unknown:
                outcome = unknown
        return ConditionResult(label_zh, label_en, outcome, None, cite, confirm_zh, confirm_en, results, text)

    return run, text
