"""Condition trees -> polars expressions with Kleene three-valued logic (null = unknown).

Each leaf becomes a nullable Boolean expression that is null exactly when the scalar evaluator reads the fact
as unknown; `&`, `|` and `~` on nullable Booleans are Kleene's AND, OR and NOT, as in conditions.py. A compiled
condition also carries, per leaf, when it is a "failed leaf" or an "unknown leaf" in the sense of
ConditionResult.failed_leaves() / unknown_leaves(), so the batch can explain its results with the same labels.

List-valued facts (project activities and fields, the enterprise's project activities) are held as a bit mask
per row: `contains` becomes one AND on integers instead of a scan of a list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable

import polars as pl

from ..conditions import AllOf, Condition, Leaf, NotOf
from .tables import ACTIVITIES, FIELDS

# list-valued fact -> the values it can hold, each given one bit of its mask column
LIST_FACT_VALUES: dict[str, tuple[str, ...]] = {
    "project.activities": ACTIVITIES,
    "project.fields": FIELDS,
    "enterprise.has_projects_with_activity": ACTIVITIES,
}
OTHER_BIT = 62  # any value outside the known list (so a non-empty list never reads as empty)


def bit_of(fact: str, value: str) -> int:
    values = LIST_FACT_VALUES[fact]
    return 1 << values.index(value) if value in values else 1 << OTHER_BIT


def mask_column(fact: str) -> str:
    return f"{fact}#mask"


@dataclass(frozen=True)
class Reason:
    """A leaf that, when `when` is true on a row, is one of that row's failed (or unknown) leaves."""

    when: pl.Expr
    zh: str
    en: str


@dataclass(frozen=True)
class Compiled:
    expr: pl.Expr  # nullable Boolean: true = met, false = failed, null = unknown
    label_zh: str
    label_en: str
    failed: list[Reason] = field(default_factory=list)
    unknown: list[Reason] = field(default_factory=list)  # zh / en are the texts to confirm


FactResolver = Callable[[str], pl.Expr]


def literal(value: object) -> pl.Expr:
    if isinstance(value, bool):
        return pl.lit(value, dtype=pl.Boolean)
    if isinstance(value, int):
        return pl.lit(value, dtype=pl.Int64)
    if isinstance(value, date):
        return pl.lit(value, dtype=pl.Date)
    return pl.lit(value, dtype=pl.String)


def _leaf_expr(leaf: Leaf, resolve: FactResolver) -> pl.Expr:
    name, operator, operand = leaf.field, leaf.operator, leaf.operand
    if name in LIST_FACT_VALUES:
        mask = pl.col(mask_column(name))
        if operator == "contains":
            return (mask & bit_of(name, operand)) != 0
        if operator == "contains_any":
            bits = 0
            for item in operand:
                bits |= bit_of(name, item)
            return (mask & bits) != 0
        if operator == "is_":
            return (mask != 0) == operand
        # a tuple never equals a scalar nor sits in a list of scalars
        constant = {"equals": False, "not_equals": True, "in_": False, "not_in": True}.get(operator)
        if constant is None:
            raise NotImplementedError(f"operator {operator} on list fact {name}")
        return mask.is_not_null() & pl.lit(constant)
    value = resolve(name)
    if operator == "equals":
        test = value == literal(operand)
    elif operator == "not_equals":
        test = value != literal(operand)
    elif operator in ("in_", "not_in"):
        test = value.is_in(pl.Series([v for v in operand]).implode())
        if operator == "not_in":
            test = ~test
    elif operator in ("gte", "gt", "lte", "lt"):
        other = literal(operand)
        test = {"gte": value >= other, "gt": value > other, "lte": value <= other, "lt": value < other}[operator]
    elif operator == "is_":
        # the truth itself (or its negation) rather than a comparison with a constant: one pass fewer
        truth = value.cast(pl.Boolean)
        test = truth if operand is True else truth.not_() if operand is False else truth == operand
    elif operator in ("contains", "contains_any"):
        items = [operand] if operator == "contains" else list(operand)
        test = pl.any_horizontal([value.str.contains(item, literal=True) for item in items])
    else:
        raise AssertionError(operator)
    # null in, null out: a missing fact is unknown whatever the operator. Every test above already gives null
    # on a null fact (comparisons, is_in, str.contains), so no guard is wrapped around it: a guard would cost
    # one more pass over the column per leaf (tests/batch/test_columnar_conditions.py holds every operator to it)
    return test


def compile_condition(condition: Condition, resolve: FactResolver) -> Compiled:
    """Compile one condition tree; `resolve` maps a fact name to the column expression that holds it."""
    if isinstance(condition, Leaf):
        expr = _leaf_expr(condition, resolve)
        zh, en = condition.label_zh or "", condition.label_en or ""
        confirm = (condition.confirm_zh or f"请确认：{zh}", condition.confirm_en or f"Please confirm: {en}")
        return Compiled(expr, zh, en, [Reason(expr.not_(), zh, en)], [Reason(expr.is_null(), *confirm)])
    if isinstance(condition, NotOf):
        inner = compile_condition(condition.not_, resolve)
        expr = ~inner.expr
        zh = condition.label_zh or f"并非：{inner.label_zh}"
        en = condition.label_en or f"Not: {inner.label_en}"
        # a failed NOT has a met inner condition, whose failed leaves are none: the NOT itself is the reason
        failed = [Reason(expr.not_(), zh, en)]
        unknown = [Reason(expr.is_null() & r.when, r.zh, r.en) for r in inner.unknown]
        return Compiled(expr, zh, en, failed, unknown)
    children = [compile_condition(child, resolve) for child in
                (condition.all if isinstance(condition, AllOf) else condition.any)]
    is_all = isinstance(condition, AllOf)
    expr = children[0].expr
    for child in children[1:]:
        expr = (expr & child.expr) if is_all else (expr | child.expr)
    zh = condition.label_zh or ("且" if is_all else "或").join(c.label_zh for c in children)
    en = condition.label_en or (" and " if is_all else " or ").join(c.label_en for c in children)
    failed = [Reason(expr.not_() & r.when, r.zh, r.en) for c in children for r in c.failed]
    unknown = [Reason(expr.is_null() & r.when, r.zh, r.en) for c in children for r in c.unknown]
    return Compiled(expr, zh, en, failed, unknown)


def implicit(expr: pl.Expr, label_zh: str, label_en: str, confirm: tuple[str, str] | None = None) -> Compiled:
    """A condition the calculator adds itself (an amount it needs, a tier it must find)."""
    confirm_zh, confirm_en = confirm or (f"请确认：{label_zh}", f"Please confirm: {label_en}")
    return Compiled(expr, label_zh, label_en, [Reason(expr.not_(), label_zh, label_en)],
                    [Reason(expr.is_null(), confirm_zh, confirm_en)])


def all_of(conditions: list[Compiled]) -> pl.Expr:
    """Kleene AND of top-level conditions (an empty list is met)."""
    if not conditions:
        return pl.lit(True, dtype=pl.Boolean)
    expr = conditions[0].expr
    for c in conditions[1:]:
        expr = expr & c.expr
    return expr
