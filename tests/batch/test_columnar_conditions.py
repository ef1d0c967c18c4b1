"""Compiled conditions read like the scalar ones: Kleene truth tables, every operator, unknown as null."""

from __future__ import annotations

from datetime import date
from itertools import product

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from incentives.batch.compile_conditions import compile_condition, mask_column
from incentives.conditions import Condition, Outcome, evaluate

from .helpers import list_mask

_CONDITION = TypeAdapter(Condition)
_TRUTH = {True: Outcome.met, False: Outcome.failed, None: Outcome.unknown}


def _leaf(name: str) -> dict:
    return {"field": name, "is": True, "label_zh": name, "label_en": name}


def _columnar(condition: dict, frame: pl.DataFrame) -> list:
    compiled = compile_condition(_CONDITION.validate_python(condition), pl.col)
    return frame.select(compiled.expr.alias("out"))["out"].to_list()


def _scalar(condition: dict, facts: dict) -> Outcome:
    return evaluate(_CONDITION.validate_python(condition), facts).outcome


VALUES = [True, False, None]
PAIRS = pl.DataFrame({"a": [a for a, _ in product(VALUES, VALUES)], "b": [b for _, b in product(VALUES, VALUES)]},
                     schema={"a": pl.Boolean, "b": pl.Boolean})


@pytest.mark.parametrize("group", ["all", "any"])
def test_and_or_follow_kleene_truth_tables(group: str) -> None:
    condition = {group: [_leaf("a"), _leaf("b")]}
    got = _columnar(condition, PAIRS)
    expected = [_scalar(condition, {"a": a, "b": b}) for a, b in PAIRS.iter_rows()]
    assert [_TRUTH[g] for g in got] == expected
    # the two textbook cells: false decides AND, true decides OR, whatever the unknown side
    assert got[PAIRS.rows().index((False, None))] is (False if group == "all" else None)
    assert got[PAIRS.rows().index((True, None))] is (None if group == "all" else True)


def test_not_keeps_unknown_unknown() -> None:
    frame = pl.DataFrame({"a": VALUES}, schema={"a": pl.Boolean})
    assert _columnar({"not": _leaf("a")}, frame) == [False, True, None]


def test_nested_groups_match_the_scalar_evaluator() -> None:
    condition = {"any": [{"all": [_leaf("a"), {"not": _leaf("b")}]}, _leaf("b")]}
    got = _columnar(condition, PAIRS)
    assert [_TRUTH[g] for g in got] == [_scalar(condition, {"a": a, "b": b}) for a, b in PAIRS.iter_rows()]


SCALARS = [
    ({"equals": "松江区"}, ["松江区", "浦东新区", None]),
    ({"not_equals": "深圳市"}, ["深圳市", "广州市", None]),
    ({"in": ["rd", "build_plant"]}, ["rd", "land", None]),
    ({"not_in": ["land", "refinance"]}, ["rd", "land", None]),
    ({"gte": 300}, [299, 300, None]),
    ({"gt": 300}, [300, 301, None]),
    ({"lte": 300}, [300, 301, None]),
    ({"lt": 300}, [299, 300, None]),
    ({"gte": date(2026, 1, 15)}, [date(2026, 1, 14), date(2026, 1, 15), None]),
]


@pytest.mark.parametrize(("operator", "values"), SCALARS)
def test_every_scalar_operator_matches_and_null_is_unknown(operator: dict, values: list) -> None:
    condition = {"field": "x", **operator, "label_zh": "x", "label_en": "x"}
    got = _columnar(condition, pl.DataFrame({"x": values}))
    assert [_TRUTH[g] for g in got] == [_scalar(condition, {"x": v}) for v in values]
    assert got[-1] is None


@given(st.lists(st.sampled_from(["rd", "pilot_services", "intl_org", "satellite_licence"]), max_size=4),
       st.sampled_from([{"contains": "rd"}, {"contains_any": ["intl_org", "pilot_services"]}, {"is": True},
                        {"is": False}]))
def test_list_operators_on_bit_masks_match_tuples(activities: list[str], operator: dict) -> None:
    condition = {"field": "project.activities", **operator, "label_zh": "x", "label_en": "x"}
    frame = pl.DataFrame({"activities": [activities]}, schema={"activities": pl.List(pl.String)})
    frame = frame.select(list_mask("activities", "project.activities").alias(mask_column("project.activities")))
    got = _columnar(condition, frame)[0]
    assert _TRUTH[got] == _scalar(condition, {"project.activities": tuple(activities)})


def test_failed_and_unknown_leaves_name_the_same_conditions_as_the_scalar_path() -> None:
    condition = {"all": [_leaf("a"), {"any": [_leaf("b"), {"not": _leaf("a")}]}]}
    compiled = compile_condition(_CONDITION.validate_python(condition), pl.col)
    frame = PAIRS.with_columns(*[r.when.alias(f"f{i}") for i, r in enumerate(compiled.failed)],
                               *[r.when.alias(f"u{i}") for i, r in enumerate(compiled.unknown)])
    for row in frame.iter_rows(named=True):
        scalar = evaluate(_CONDITION.validate_python(condition), {"a": row["a"], "b": row["b"]})
        failed = [r.zh for i, r in enumerate(compiled.failed) if row[f"f{i}"]]
        unknown = [r.zh for i, r in enumerate(compiled.unknown) if row[f"u{i}"]]
        assert failed == [leaf.label_zh for leaf in scalar.failed_leaves()]
        assert unknown == [f"请确认：{leaf.label_zh}" for leaf in scalar.unknown_leaves()]
