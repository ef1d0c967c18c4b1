"""The columnar evaluator equals the scalar one: same status, amount to the fen and unit for every scheme.

Random populations of profiles go through `evaluate()` one by one and through `evaluate_tables()` together;
every (enterprise, scheme, unit) row must agree, and so must the reasons, what to confirm, what to check and the
totals.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import example, given

from incentives.batch.columnar import evaluate_tables
from incentives.batch.convert import profiles_to_tables
from incentives.batch.explain import NOTES_JOINER_ZH
from incentives.batch.totals import scheme_totals
from incentives.evaluate import evaluate
from incentives.profile import Profile, parse_profile
from incentives.results import DETAIL_NOTE_KINDS, Status

from .strategies import populations

SONGJIANG = {"province": "上海市", "city": "上海市", "district": "松江区"}
GUANGZHOU = {"province": "广东省", "city": "广州市"}


def _scalar_rows(enterprise_id: str, profile: Profile, as_of: date) -> tuple[list[tuple], dict[str, int]]:
    evaluation = evaluate(profile, as_of)
    # what to confirm is listed where it decides the result only: on the rows that need confirmation
    rows = [(enterprise_id, r.scheme_id, r.unit_kind, r.unit_id, r.status.value, r.amount_fen, r.superseded_by,
             "；".join(dict.fromkeys(f["zh"] for f in r.failed())),
             "；".join(dict.fromkeys(c["zh"] for c in r.to_confirm())) if r.status is Status.needs_confirmation
             else "", _check_notes(r))
            for r in evaluation.results]
    totals = {"total_fen": evaluation.total_fen, "potential_total_fen": evaluation.potential_total_fen,
              "size_class": evaluation.size.size_class}
    return rows, totals


def _check_notes(result: Any) -> str:
    """What a result asks to check (a loan's rate, its ended window, awards beyond its subsidy) and a deadline's
    date, as one cell."""
    return NOTES_JOINER_ZH.join(note["zh"] for note in result.notes if note["kind"] in DETAIL_NOTE_KINDS)


def assert_same(as_of: date, population: list[tuple[str, Profile]]) -> None:
    result = evaluate_tables(profiles_to_tables(population), as_of)
    details = result.details
    batch_rows = [(r["enterprise_id"], r["scheme_id"], r["unit_kind"], r["unit_id"], r["status"], r["amount_fen"],
                   r["superseded_by"], r["reasons_zh"] or "", r["to_confirm_zh"] or "", r["notes_zh"] or "")
                  for r in details.iter_rows(named=True)]
    scalar_rows: list[tuple] = []
    for enterprise_id, profile in population:
        rows, totals = _scalar_rows(enterprise_id, profile, as_of)
        scalar_rows += rows
        summary = result.summary.filter(pl.col("enterprise_id") == enterprise_id).row(0, named=True)
        assert {k: summary[k] for k in totals} == totals, enterprise_id
    # status, amount and unit first, so a failure names the arithmetic before the wording
    assert [r[:7] for r in batch_rows] == [r[:7] for r in scalar_rows]
    assert batch_rows == scalar_rows
    # the money per scheme, from the engine's few hits, is the scalar results' own
    scalar = pl.DataFrame([(r[1], r[4], r[5]) for r in scalar_rows], orient="row",
                          schema={"scheme_id": pl.String, "status": pl.String, "amount_fen": pl.Int64})
    assert result.scheme_totals.sort("scheme_id").equals(scheme_totals(scalar).sort("scheme_id"))


def _population(*profiles: dict[str, Any]) -> list[tuple[str, Profile]]:
    return [(f"E{i}", parse_profile(p)) for i, p in enumerate(profiles)]


def _project(pid: str, **fields: Any) -> dict[str, Any]:
    return {"id": pid, "location": SONGJIANG, **fields}


AT_CAPS = _population(
    {"enterprise": {"name": "松江A", "region": SONGJIANG},
     "projects": [_project("P0", activities=["applied_basic_research"], fields=["6g"], total_input_yuan="100000000"),
                  _project("P1", fields=["scientific_instruments"], total_input_yuan="66666666.67"),
                  _project("P2", fields=["secure_software_hardware"], total_input_yuan="33333333.33"),
                  _project("P3", activities=["intl_org"], annual_operating_expenses_yuan="6666666.67"),
                  _project("P4", activities=["industrialisation"], fields=["smart_terminal", "satellite"],
                           total_input_yuan="333333333.34")],
     "awards": [{"scheme_id": "sh-g60/intl-org-operations", "amount_yuan": "1999999.99", "date": "2026-02-01"}]},
    {"enterprise": {"name": "北京B", "region": {"province": "北京市", "city": "北京市"}},
     "projects": [{"id": "P0", "activities": ["pilot_platform"], "fields": ["ai"], "is_new": True,
                   "location": {"province": "北京市"}, "total_input_yuan": "285714285.72"},
                  {"id": "P1", "activities": ["pilot_platform", "pilot_services"], "fields": ["next_gen_it"],
                   "is_new": True, "is_independent_legal_entity": True, "location": {"province": "北京市"},
                   "total_input_yuan": "142857142.86", "pilot_service_fees_yuan": "500000"}]},
)
EMPTY_AND_UNKNOWN = _population(
    {"enterprise": {"name": "空", "region": {"province": "江苏省"}}},
    {"enterprise": {"name": "未知", "region": SONGJIANG},
     "projects": [{"id": "P0", "activities": ["industry_cluster", "pilot_services"]}]},
)
ACROSS_NEW_YEAR = _population(
    {"enterprise": {"name": "广州C", "region": GUANGZHOU, "industry_code": "3311",
                    "declarations": {"on_dishonesty_list": False}},
     "loans": [{"id": "L0", "principal_yuan": "5000000000", "annual_rate": "0.04", "issue_date": "2026-07-01",
                "maturity_date": "2029-07-01", "loan_type": "fixed_asset", "purpose": "build_plant",
                "region_of_use": GUANGZHOU, "claimed_under_other_policy": False},
               {"id": "L1", "principal_yuan": "10000000", "annual_rate": "0.035", "issue_date": "2026-03-01",
                "maturity_date": "2026-12-01", "loan_type": "fixed_asset", "purpose": "rd",
                "region_of_use": GUANGZHOU},
               {"id": "L2", "principal_yuan": "20000000", "annual_rate": "0.031", "issue_date": "2025-04-30",
                "maturity_date": "2027-04-30", "loan_type": "fixed_asset", "purpose": "rd",
                "region_of_use": GUANGZHOU, "claimed_under_other_policy": False}],
     "awards": [{"scheme_id": "gd/loan-interest-subsidy", "amount_yuan": "15000000", "date": "2026-05-01"}]},
)

# a manufacturer whose HNTE status is blank: its working-capital loans fail on the manufacturing track and are to
# confirm on the high-tech one, in the room the fixed-asset loans leave (all of it, some, none)
_GD_FIRM = {"name": "广州D", "region": GUANGZHOU, "industry_code": "3311", "certifications": {"hnte": None},
            "declarations": {"on_dishonesty_list": False, "main_business_encouraged": True}}


def _gd_loan(lid: str, principal: str, loan_type: str, issued: str) -> dict[str, Any]:
    return {"id": lid, "principal_yuan": principal, "annual_rate": "0.03", "issue_date": issued,
            "maturity_date": "2029-07-01", "loan_type": loan_type, "purpose": "rd", "region_of_use": GUANGZHOU,
            "claimed_under_other_policy": False}


OTHER_TRACK = _population(
    {"enterprise": _GD_FIRM,
     "loans": [_gd_loan("L0", "1200000000", "fixed_asset", "2026-01-01"),
               _gd_loan("L1", "600000000", "working_capital", "2026-03-01"),
               _gd_loan("L2", "600000000", "working_capital", "2026-02-01"),
               _gd_loan("L3", "100000000", "working_capital", "2025-08-01")],
     "awards": [{"scheme_id": "gd/loan-interest-subsidy", "amount_yuan": "1000000", "date": "2026-02-01"},
                # what a loan received comes off its own subsidy: part of L3's, more than all of L2's
                {"scheme_id": "gd/loan-interest-subsidy", "amount_yuan": "300000", "date": "2026-01-20", "unit_id": "L3"},
                {"scheme_id": "gd/loan-interest-subsidy", "amount_yuan": "9000000", "date": "2026-04-01", "unit_id": "L2"}]},
    {"enterprise": _GD_FIRM, "loans": [_gd_loan("L0", "100000000", "working_capital", "2026-03-01")]},
)

# Beijing platforms in a listed industry, in one neither tier lists (tier B's list ends in 等: to confirm there),
# in none given, and of unknown independence; plus platforms abroad under the G60 incubator measure, one of them
# already paid for: its ¥2M is per platform in all
_BEIJING = {"province": "北京市", "city": "北京市", "district": "海淀区"}
OPEN_TIER_AND_PLATFORMS = _population(
    {"enterprise": {"name": "北京E", "region": _BEIJING},
     "projects": [{"id": f"P{i}", "activities": ["pilot_platform"], "fields": fields, "is_new": True,
                   "location": _BEIJING, "total_input_yuan": "100000000", "is_independent_legal_entity": independent}
                  for i, (fields, independent) in enumerate([(["other"], None), (["other", "6g"], True), ([], False),
                                                             (["icv_nev"], None), (["satellite"], False)])]},
    {"enterprise": {"name": "松江F", "region": SONGJIANG},
     "projects": [{"id": "P0", "activities": ["overseas_incubator"]}, {"id": "P1", "activities": ["overseas_incubator"]}],
     "awards": [{"scheme_id": "sh-g60/overseas-incubator", "amount_yuan": "500000", "date": "2025-02-01", "unit_id": "P0"},
                {"scheme_id": "sh-g60/overseas-incubator", "amount_yuan": "100000", "date": "2026-02-01"}]},
)


@given(populations())
@example((date(2026, 6, 1), OPEN_TIER_AND_PLATFORMS))
@example((date(2026, 6, 1), AT_CAPS))
@example((date(2026, 6, 1), EMPTY_AND_UNKNOWN))
@example((date(2026, 8, 1), ACROSS_NEW_YEAR))
@example((date(2025, 4, 30), ACROSS_NEW_YEAR))
@example((date(2029, 1, 1), AT_CAPS))
@example((date(2026, 8, 1), OTHER_TRACK))
def test_columnar_equals_scalar_for_every_scheme_and_unit(case: tuple[date, list[tuple[str, Profile]]]) -> None:
    as_of, population = case
    assert_same(as_of, population)


@pytest.mark.parametrize("name", ["beijing-ai-pilot-platform", "guangzhou-manufacturer", "songjiang-satellite"])
def test_bundled_examples_match_the_scalar_path(name: str) -> None:
    from incentives.profile import profile_from_json
    from incentives.resources import examples_dir

    profile = profile_from_json((examples_dir() / f"{name}.json").read_text(encoding="utf-8"))
    for as_of in (date(2026, 6, 1), date(2026, 11, 2), date(2027, 3, 1)):
        assert_same(as_of, [("E0", profile.model_copy(update={"fund": None}))])
