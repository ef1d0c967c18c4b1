"""The result document writer (result_json) against its definition: `evaluation_dict` through json.dumps.

The API and the CLI print what result_json writes; these tests keep it byte-identical to the reference for every
worked case, the examples on several dates, and profiles with facts knocked out at random."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from incentives.errors import InputError
from incentives.evaluate import evaluate
from incentives.profile import loads_exact, parse_profile
from incentives.report import evaluation_dict, evaluation_json, reference_evaluation_json
from incentives.result_json import evaluation_bytes
from worked_cases import all_cases, case_profile

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CASES = all_cases()


def _same(evaluation: Any) -> None:
    reference = reference_evaluation_json(evaluation)
    assert evaluation_json(evaluation) == reference
    assert evaluation_bytes(evaluation) == reference.encode()
    assert evaluation_bytes(evaluation) == orjson.dumps(evaluation_dict(evaluation), option=orjson.OPT_INDENT_2) + b"\n"


@pytest.mark.parametrize("index", range(len(CASES)))
def test_every_worked_case_is_written_exactly_as_the_reference(index: int):
    _, parsed, case = CASES[index]
    _same(evaluate(parse_profile(case_profile(parsed, case)), case.as_of))


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.json")))
@pytest.mark.parametrize("on", ["2024-01-01", "2025-03-01", "2026-06-01", "2027-02-15", "2031-01-01"])
def test_the_examples_are_written_exactly_as_the_reference(name: str, on: str):
    profile = parse_profile(loads_exact((EXAMPLES / f"{name}.json").read_bytes()))
    _same(evaluate(profile, date.fromisoformat(on)))


def _leaf_paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _leaf_paths(value, prefix + (key,)) if isinstance(value, (dict, list)) else [prefix + (key,)]
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _leaf_paths(value, prefix + (index,))
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(p.stem for p in EXAMPLES.glob("*.json"))),
       knocked=st.lists(st.integers(0, 10_000), max_size=6), days=st.integers(-900, 900),
       markup=st.booleans())
def test_profiles_with_unknown_facts_are_written_exactly_as_the_reference(name: str, knocked: list[int], days: int,
                                                                         markup: bool):
    document = loads_exact((EXAMPLES / f"{name}.json").read_bytes())
    changed = copy.deepcopy(document)
    paths = _leaf_paths(changed)
    for pick in knocked:  # unknown facts: the conditions reading them become "to confirm"
        *parents, last = paths[pick % len(paths)]
        holder = changed
        for key in parents:
            holder = holder[key]
        if isinstance(holder, dict) and last not in ("name", "id"):
            holder.pop(last, None)
    if markup:
        changed["enterprise"]["name"] = 'A "quoted" <b>name</b>\n\ttab \\ é 𝄞'
    try:
        profile = parse_profile(changed)
    except InputError:
        return  # a knocked-out required field: nothing to write
    _same(evaluate(profile, date(2026, 6, 1) + timedelta(days=days)))
