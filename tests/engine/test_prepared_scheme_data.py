"""Scheme data prepared once (the size table's code index, parsed amounts and rates, compiled track
conditions) must answer exactly what reading the data afresh answers."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings, strategies as st

from incentives import evaluate as engine
from incentives.money import parse_decimal, yuan_to_fen
from incentives.schemes import catalogue
from incentives.scheme_files import LoanInterestSubsidy
from incentives.sme_size import _describe, _describe_bounds, category_for


def reference_category_for(table, industry_code: str | None, section: str | None):
    """The size category as first written: every code of every category, the longest match winning."""
    by_id = {c.id: c for c in table.categories}
    if industry_code is None:
        return by_id[table.default_category]
    best = None
    for category in table.categories:
        for code in category.codes:
            matches = code == section if code.isalpha() else industry_code.startswith(code)
            if matches and (best is None or len(code) > best[0]):
                best = (len(code), category)
    return best[1] if best else by_id[table.default_category]


def _table_codes() -> list[str]:
    return sorted({code for c in catalogue().sme_sizes.categories for code in c.codes})


_SECTIONS = st.none() | st.sampled_from(list("ABCDEFGHIJKLMNOPQRST") + ["", "Z"])


@settings(max_examples=500, deadline=None)
@given(code=st.none() | st.sampled_from(_table_codes()) | st.text("0123456789", max_size=5)
       | st.builds(lambda a, b: a + b, st.sampled_from(_table_codes()), st.text("0123456789", max_size=3)),
       section=_SECTIONS)
def test_the_indexed_size_category_is_the_one_the_full_scan_finds(code, section):
    table = catalogue().sme_sizes
    assert category_for(table, code, section) is reference_category_for(table, code, section)


def test_every_listed_code_finds_the_category_the_full_scan_finds():
    table = catalogue().sme_sizes
    checked = 0
    for category in table.categories:
        for code in category.codes:
            code_given, section = ("1", code) if code.isalpha() else (code, None)
            assert category_for(table, code_given, section) is reference_category_for(table, code_given, section)
            checked += 1
    assert checked > 10


def test_the_described_bounds_are_written_once_and_equal_a_fresh_description():
    for category in catalogue().sme_sizes.categories:
        for bounds in (category.sme_if_below_any, category.medium_if_all_at_least, category.small_if_all_at_least):
            first = _describe(bounds, "且", " and ", "≥")
            assert first == _describe_bounds(bounds, "且", " and ", "≥")
            assert _describe(bounds, "且", " and ", "≥") is first
            assert first[0] and first[1]


def test_amounts_and_rates_parsed_once_equal_a_fresh_parse():
    seen = 0
    for scheme in catalogue().schemes:
        for version in scheme.versions:
            for name in ("amount", "cap", "annual_cap", "annual_cap_per_enterprise"):
                cited = getattr(version, name, None)
                if cited is not None and hasattr(cited, "yuan"):
                    assert cited.fen == yuan_to_fen(cited.yuan) and cited.fen is cited.fen
                    seen += 1
            for name in ("rate", "share", "share_of_principal"):
                cited = getattr(version, name, None)
                if cited is not None and hasattr(cited, "value"):
                    rate = parse_decimal(cited.value)
                    assert rate == cited.rate and str(rate) == str(cited.rate) and cited.rate is cited.rate
                    seen += 1
    assert seen > 5


def test_compiled_track_conditions_answer_like_the_conditions_themselves():
    from incentives.conditions import evaluate as evaluate_condition

    schemes = [s for s in catalogue().schemes if isinstance(s, LoanInterestSubsidy)]
    assert schemes
    facts = {name: None for name in engine.FACTS}
    facts["as_of"] = date(2026, 6, 1)
    for scheme in schemes:
        plan = engine._scheme_plan(scheme)
        assert [run(facts) for run in plan.loan_runs] == [evaluate_condition(c, facts) for c in scheme.loan_conditions]
        for track, (enterprise_runs, loan_runs) in zip(scheme.tracks, plan.track_runs, strict=True):
            assert [run(facts) for run in enterprise_runs] == [evaluate_condition(c, facts)
                                                               for c in track.enterprise_conditions]
            assert [run(facts) for run in loan_runs] == [evaluate_condition(c, facts) for c in track.loan_conditions]


def test_the_failed_leaf_count_equals_the_failed_leaves_written_out():
    from pathlib import Path

    from incentives.loan_tracks import _failed_count
    from incentives.profile import loads_exact, parse_profile

    counted = 0
    for path in sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.json")):
        profile = parse_profile(loads_exact(path.read_bytes()))
        for on in (date(2026, 1, 10), date(2026, 6, 1)):
            for result in engine.evaluate(profile, on).results:
                assert _failed_count(result) == len(result.failed())
                counted += _failed_count(result)
    assert counted > 0
