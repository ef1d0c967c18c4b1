"""The engine's prepared paths (scheme and catalogue plans, compiled conditions, shared notes and per-loan checks,
only the chosen track explained, facts and size class read the short way) answer exactly as the engine as first
written (reference_engine.py): the same results, in the same order, with the same values and types."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import given, settings, strategies as st

import reference_engine as reference
from incentives.conditions import Outcome, compiled, leaves
from incentives.evaluate import evaluate
from incentives.facts import enterprise_facts, loan_facts, project_facts
from incentives.money import fen_to_yuan, grouped_yuan
from incentives.profile import parse_profile
from incentives.report import evaluation_text, reference_evaluation_json
from incentives.result_json import evaluation_bytes
from incentives.results import Result
from incentives.scheme_files import Compliance, LoanInterestSubsidy
from incentives.schemes import catalogue
from incentives.sme_size import classify

_TESTS_DIR = str(Path(__file__).resolve().parents[1])
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from batch.strategies import AS_OF_DATES, maybe, profile_dicts  # noqa: E402  (needs the tests directory)

CAT = catalogue()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DATES = [date(2025, 6, 1), date(2026, 1, 19), date(2026, 6, 1), date(2026, 12, 31), date(2027, 3, 1)]

_FIELDS = [f.name for f in dataclasses.fields(Result)]


def assert_same_results(new: Any, old: Any) -> None:
    assert len(new.results) == len(old.results)
    for mine, theirs in zip(new.results, old.results):
        for name in _FIELDS:
            value, expected = getattr(mine, name), getattr(theirs, name)
            if name == "conditions":  # the compiled form also carries its fixed texts, which results never show
                assert [c.as_dict() for c in value] == [c.as_dict() for c in expected]
                assert type(value) is type(expected)
            else:
                assert value == expected, (mine.scheme_id, mine.unit_id, name)
                assert json.dumps(value, default=str) == json.dumps(expected, default=str), (mine.scheme_id, name)
                assert type(value) is type(expected), (mine.scheme_id, name)
    assert new.size == old.size
    assert reference_evaluation_json(new) == reference_evaluation_json(old)
    assert evaluation_bytes(new) == evaluation_bytes(old)
    for lang in ("zh", "en"):
        assert evaluation_text(new, lang) == evaluation_text(old, lang)


def _both(document: dict[str, Any], on: date, cat: Any = None) -> None:
    new = evaluate(parse_profile(document), on, cat)
    old = reference.evaluate(parse_profile(document), on, cat)
    assert_same_results(new, old)


def test_the_examples_and_the_typical_profile_answer_as_the_reference_on_every_date() -> None:
    sys.path.insert(0, str(EXAMPLES.parent / "bench"))
    try:
        import web_bench
    finally:
        sys.path.pop(0)
    documents = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(EXAMPLES.glob("*.json"))]
    documents.append(web_bench.typical_profile())
    for document in documents:
        for on in DATES:
            _both(document, on)


_DAYS = st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31))


@st.composite
def funds(draw: Any) -> dict[str, Any]:
    investments = [{
        "id": f"I{index}",
        "target": draw(maybe(st.sampled_from(["甲项目", "乙项目"]))),
        "industry_catalogue": draw(maybe(st.sampled_from(["encouraged", "permitted", "restricted", "eliminated"]))),
        "public_trading_kind": draw(maybe(st.sampled_from(["m_and_a", "private_placement", "strategic_placement",
                                                           "other"]))),
        **{name: draw(maybe(st.booleans())) for name in
           ("is_disguised_debt", "is_public_stock_trading", "permitted_by_fund_plan", "is_derivatives_trading",
            "provides_guarantee", "bears_unlimited_liability")},
    } for index in range(draw(st.integers(0, 3)))]
    fund = {"name": "某政府投资基金", "investments": [{k: v for k, v in i.items() if v is not None} for i in investments]}
    for name in ("established_date", "first_paid_in_date", "fiscal_year_end"):
        day = draw(maybe(_DAYS))
        if day is not None:
            fund[name] = day.isoformat()
    return fund


@st.composite
def cases(draw: Any) -> tuple[date, dict[str, Any]]:
    on = draw(st.one_of(st.sampled_from(AS_OF_DATES + DATES), st.dates(date(2025, 1, 1), date(2028, 12, 31))))
    document = draw(profile_dicts(on))
    if draw(st.integers(0, 3)) == 0:
        document["fund"] = draw(funds())
    return on, document


@settings(max_examples=300, deadline=None)
@given(cases())
def test_any_profile_on_any_date_answers_as_the_reference(case: tuple[date, dict[str, Any]]) -> None:
    on, document = case
    _both(document, on)


@settings(max_examples=40, deadline=None)
@given(cases(), st.sets(st.sampled_from([s.id for s in CAT.schemes]), min_size=1))
def test_a_cut_down_catalogue_answers_as_the_reference(case: tuple[date, dict[str, Any]], kept: set[str]) -> None:
    on, document = case
    cut = dataclasses.replace(CAT, schemes=tuple(s for s in CAT.schemes if s.id in kept))
    _both(document, on, cut)
    _both(document, on)  # and the whole catalogue again after it: each catalogue has its own plans


# --- the parts: compiled conditions, facts, size class, amounts as text ---------------------------------------


def _conditions() -> list[Any]:
    found = []
    for scheme in CAT.schemes:
        found += scheme.conditions
        if isinstance(scheme, LoanInterestSubsidy):
            found += scheme.loan_conditions
            for track in scheme.tracks:
                found += track.enterprise_conditions + track.loan_conditions
        if isinstance(scheme, Compliance):
            found += [rule.violation_when for version in scheme.versions for rule in version.rules]
    return found


CONDITIONS = _conditions()
FIELDS = sorted({leaf.field for condition in CONDITIONS for leaf in leaves(condition)})
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**12), st.sampled_from([0, 1, 2]), _DAYS,
    st.sampled_from(["上海市", "松江区", "广东省", "深圳市", "large", "small", "micro", "medium", "C", "private",
                     "fixed_asset", "rd", "encouraged", ""]),
    st.lists(st.sampled_from(["satellite", "6g", "rd", "pilot_services", "pilot_platform", "ai"]), max_size=3)
    .map(tuple),
    st.lists(st.sampled_from([1, True, "rd"]), max_size=2).map(tuple),  # a tuple that is not all text
)


def _without_text(result: Any) -> Any:
    return result._replace(text=None, children=tuple(_without_text(child) for child in result.children))


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries({name: VALUES for name in FIELDS}))
def test_compiled_conditions_answer_as_the_condition_tree(facts: dict[str, Any]) -> None:
    for condition in CONDITIONS:
        try:
            expected = reference.reference_condition(condition, facts)
        except TypeError:  # a value of the wrong kind for its operator fails the same way compiled
            try:
                compiled(condition)(facts)
            except TypeError:
                continue
            raise AssertionError("the compiled condition accepted what the tree rejects")
        found = compiled(condition)(facts)
        assert found.as_dict() == expected.as_dict()
        assert _without_text(found) == expected
        assert found.outcome in (Outcome.met, Outcome.failed, Outcome.unknown)


@settings(max_examples=150, deadline=None)
@given(cases())
def test_facts_and_size_class_are_read_as_the_reference_reads_them(case: tuple[date, dict[str, Any]]) -> None:
    on, document = case
    profile = parse_profile(document)
    enterprise = profile.enterprise
    industry = reference.industry_table.lookup(enterprise.industry_code) if enterprise.industry_code else None
    section = industry.section if industry else None
    size = classify(CAT.sme_sizes, enterprise, section)
    assert size == reference.classify(CAT.sme_sizes, enterprise, section)
    for mine, theirs in ((enterprise_facts(enterprise, size, profile.projects, on, profile.loans),
                          reference.enterprise_facts(enterprise, size, profile.projects, on, profile.loans)),
                         *((project_facts(p), reference.project_facts(p)) for p in profile.projects),
                         *((loan_facts(l), reference.loan_facts(l)) for l in profile.loans)):
        assert list(mine.items()) == list(theirs.items())
        assert [type(v) for v in mine.values()] == [type(v) for v in theirs.values()]


@given(st.one_of(st.integers(-10**16, 10**16), st.integers(-10**26 + 1, 10**26 - 1)))
def test_grouped_yuan_writes_what_formatting_the_decimal_writes(fen: int) -> None:
    assert grouped_yuan(fen) == f"{fen_to_yuan(fen):,}"


def test_grouped_yuan_at_the_edges() -> None:
    for fen in (0, 1, 99, 100, 101, 123456789, -1, -99, -100, 10**25 - 1, 10**26 - 1, -(10**26 - 1)):
        assert grouped_yuan(fen) == f"{fen_to_yuan(fen):,}"
