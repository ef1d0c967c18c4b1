"""Runs every worked case in schemes/**/*.cases.yaml, and checks the case files themselves.

A new cases file is picked up with no new test code. A case names its evaluation date, so nothing here depends
on today.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from incentives.evaluate import evaluate
from incentives.profile import parse_profile
from incentives.report import evaluation_dict
from incentives.schemes import catalogue, scheme_file_paths
from incentives.money import yuan_to_fen
from worked_cases import (
    SCHEMES,
    CaseFormatError,
    Expectation,
    all_cases,
    case_files,
    case_profile,
    merge_profile,
    parse_cases,
)

CASES = all_cases()


def _case_id(item) -> str:
    path, _, case = item
    return f"{path.name.removesuffix('.cases.yaml')}::{case.name}"


def _find(results: list[dict], expectation: Expectation) -> dict:
    found = [r for r in results if r["scheme_id"] == expectation.scheme_id and r["unit_id"] == expectation.unit_id]
    units = sorted({str(r["unit_id"]) for r in results if r["scheme_id"] == expectation.scheme_id})
    assert len(found) == 1, f"{expectation.scheme_id} / {expectation.unit_id}: {len(found)} results (units: {units})"
    return found[0]


def _failed_labels(condition: dict) -> list[str]:
    if condition["outcome"] != "failed":
        return []
    children = condition.get("children") or []
    below = [label for child in children for label in _failed_labels(child)]
    return below or [condition["label_en"]]


def check_expectation(result: dict, expectation: Expectation) -> None:
    where = f"{expectation.scheme_id} / {expectation.unit_id}"
    assert result["status"] == expectation.status, (
        f"{where}: status {result['status']}, expected {expectation.status}; "
        f"failed: {[l for c in result['conditions'] for l in _failed_labels(c)]}; notes: {result['notes'][:1]}")
    if expectation.amount_yuan is not None:
        assert result["amount_fen"] == expectation.amount_fen, f"{where}: amount_fen {result['amount_fen']}"
    if expectation.no_amount or expectation.status in ("ineligible", "not_in_force"):
        assert result["amount_fen"] is None, f"{where}: expected no amount, got {result['amount_fen']}"
    if expectation.binding_cap is not None:
        assert result["binding_cap"] is expectation.binding_cap, f"{where}: binding_cap {result['binding_cap']}"
    if expectation.headroom_yuan is not None:
        assert result["headroom_fen"] == expectation.headroom_fen, f"{where}: headroom_fen {result['headroom_fen']}"
    if expectation.superseded_by is not None:
        assert result["superseded_by"] == expectation.superseded_by, where
    if expectation.violations is not None:
        assert [v["rule"] for v in result.get("violations") or []] == expectation.violations, where
    if expectation.failed is not None:
        failed = [label for condition in result["conditions"] for label in _failed_labels(condition)]
        assert sorted(set(failed)) == sorted(set(expectation.failed)), f"{where}: failed {failed}"
    for key, value in (expectation.details or {}).items():
        details = result.get("details") or {}
        assert key in details, f"{where}: no detail {key!r} (have {sorted(details)})"
        actual = details[key]
        assert actual == (value.isoformat() if hasattr(value, "isoformat") else value), f"{where}: {key} = {actual!r}"


@pytest.mark.parametrize("item", CASES, ids=_case_id)
def test_worked_case(item) -> None:
    path, parsed, case = item
    profile = parse_profile(case_profile(parsed, case))
    document = evaluation_dict(evaluate(profile, case.as_of))
    assert document["as_of"] == case.as_of.isoformat()
    for expectation in case.expect:
        check_expectation(_find(document["results"], expectation), expectation)
    if case.total_yuan is not None:
        assert document["total_fen"] == yuan_to_fen(case.total_yuan)
    if case.potential_total_yuan is not None:
        assert document["potential_total_fen"] == yuan_to_fen(case.potential_total_yuan)


def test_every_scheme_file_has_a_cases_file_next_to_it() -> None:
    missing = [p.relative_to(SCHEMES).as_posix() for p in scheme_file_paths(SCHEMES)
               if "tables" not in p.parts and not p.with_name(p.name.replace(".yaml", ".cases.yaml")).exists()]
    assert missing == []


def test_every_scheme_has_an_eligible_and_an_out_of_force_worked_case() -> None:
    statuses: dict[str, set[str]] = {}
    for _, _, case in CASES:
        for expectation in case.expect:
            statuses.setdefault(expectation.scheme_id, set()).add(expectation.status)
    for scheme in catalogue().schemes:
        seen = statuses.get(scheme.id, set())
        assert "eligible" in seen, f"{scheme.id} has no eligible worked case"
        assert "not_in_force" in seen, f"{scheme.id} has no worked case outside its dates"
        assert "ineligible" in seen, f"{scheme.id} has no ineligible worked case"


def test_every_expected_scheme_exists() -> None:
    known = {scheme.id for scheme in catalogue().schemes}
    named = {e.scheme_id for _, _, case in CASES for e in case.expect}
    assert named <= known, sorted(named - known)


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.name)
def test_every_expected_amount_has_its_arithmetic_in_a_comment(path: Path) -> None:
    bare = [f"{path.name}:{number}: {line.strip()}"
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            # award records (they carry a date) are inputs, not expected numbers
            if re.search(r"\b(amount|headroom|total|potential_total)_yuan:\s*[\"']?\d", line)
            and "date:" not in line and "#" not in line]
    assert bare == []


# --- the format itself is strict: a typo fails ----------------------------------------------------------------

_GOOD = """
base_profile:
  enterprise: {name: x, region: {province: 上海市}}
cases:
  - name: A well formed case is accepted here
    as_of: 2026-06-01
    expect:
      - {scheme_id: sh-g60/6g, status: ineligible}
"""


def test_a_well_formed_cases_file_parses() -> None:
    parsed = parse_cases(_GOOD)
    assert parsed.cases[0].as_of.isoformat() == "2026-06-01"


@pytest.mark.parametrize("typo, fragment", [
    ("as_of: 2026-06-01", "as_off: 2026-06-01"),          # misspelt case key
    ("status: ineligible", "status: inelegible"),         # misspelt status
    ("scheme_id: sh-g60/6g,", "scheme: sh-g60/6g,"),       # misspelt expectation key
    ("base_profile:", "base_profil:"),                    # misspelt top-level key
    ("A well formed case is accepted here", "lower-case name"),  # a name that is not a sentence
    ("as_of: 2026-06-01", "as_of: '2026-06-01'"),          # a date given as text
])
def test_a_typo_in_a_cases_file_fails(typo: str, fragment: str) -> None:
    with pytest.raises((ValidationError, CaseFormatError)):
        parse_cases(_GOOD.replace(typo, fragment))


def test_a_yaml_float_in_a_profile_is_rejected_with_a_hint() -> None:
    text = _GOOD.replace("cases:", "  loans: [{annual_rate: 0.035}]\ncases:")
    with pytest.raises(CaseFormatError, match="quoted strings"):
        parse_cases(text)


def test_a_bare_yaml_boolean_key_is_rejected() -> None:
    text = _GOOD.replace("cases:", "  on: 2026-01-01\ncases:")
    with pytest.raises(CaseFormatError, match="booleans"):
        parse_cases(text)


def test_an_eligible_expectation_must_state_its_amount() -> None:
    with pytest.raises(ValidationError, match="amount_yuan"):
        parse_cases(_GOOD.replace("status: ineligible", "status: eligible"))


def test_an_amount_finer_than_a_fen_is_rejected() -> None:
    with pytest.raises(ValidationError):
        parse_cases(_GOOD.replace("status: ineligible", "status: eligible, amount_yuan: '1.005'"))


def test_merge_updates_lists_of_items_by_id_and_replaces_other_lists() -> None:
    base = {"projects": [{"id": "a", "fields": ["6g"], "total_input_yuan": 1}, {"id": "b"}], "awards": [{"x": 1}]}
    override = {"projects": [{"id": "a", "fields": ["ai"]}, {"id": "c"}], "awards": []}
    merged = merge_profile(base, override)
    assert merged == {"projects": [{"id": "a", "fields": ["ai"], "total_input_yuan": 1}, {"id": "b"}, {"id": "c"}],
                      "awards": []}
    assert base["projects"][0]["fields"] == ["6g"]  # the base is never mutated
