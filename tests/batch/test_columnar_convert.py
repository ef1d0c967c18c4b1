"""Profiles <-> tables round trips, and what the columnar result looks like around them."""

from __future__ import annotations

from datetime import date

import polars as pl
from hypothesis import given, strategies as st

from incentives.batch.columnar import evaluate_tables, grouped_yuan_text
from incentives.batch.convert import profiles_to_tables, tables_to_profiles
from incentives.batch.tables import AWARDS, ENTERPRISES, LOANS, PROJECTS, Tables, schema
from incentives.money import grouped_yuan
from incentives.profile import parse_profile

from .strategies import populations


@given(populations())
def test_profiles_survive_a_round_trip_through_the_tables(case) -> None:
    _, population = case
    tables = profiles_to_tables(population)
    assert tables.enterprises.schema == pl.Schema(schema(ENTERPRISES))
    assert tables.projects.schema == pl.Schema(schema(PROJECTS))
    assert tables.loans.schema == pl.Schema(schema(LOANS))
    assert tables.awards.schema == pl.Schema(schema(AWARDS))
    assert tables_to_profiles(tables) == population


def test_empty_tables_give_empty_results() -> None:
    result = evaluate_tables(Tables.empty(), date(2026, 6, 1))
    assert result.summary.height == 0
    assert result.details.height == 0


def _one(profile: dict) -> Tables:
    return profiles_to_tables([("E0", parse_profile(profile))])


def test_a_scheme_without_units_gets_one_placeholder_row() -> None:
    result = evaluate_tables(_one({"enterprise": {"name": "无项目", "region": {"province": "江苏省"}}}), date(2026, 6, 1))
    rows = result.details.filter(pl.col("scheme_id") == "sh-g60/6g")
    assert rows.select("unit_id", "status", "amount_fen", "reasons_zh").rows() == [
        (None, "ineligible", None, "申报主体有相关项目")]
    fund_rows = result.details.filter(pl.col("unit_kind") == "fund")
    assert fund_rows["status"].to_list() == ["ineligible", "ineligible"]


def test_rows_of_unknown_enterprises_are_left_out() -> None:
    tables = _one({"enterprise": {"name": "甲", "region": {"province": "上海市", "city": "上海市", "district": "松江区"}},
                   "projects": [{"id": "P0", "fields": ["6g"], "total_input_yuan": "100",
                                 "location": {"province": "上海市", "district": "松江区"}}]})
    stray = tables.projects.with_columns(pl.lit("E9").alias("enterprise_id"))
    tables = Tables(tables.enterprises, pl.concat([tables.projects, stray]), tables.loans, tables.awards)
    details = evaluate_tables(tables, date(2026, 6, 1)).details
    assert set(details["enterprise_id"]) == {"E0"}
    assert details.filter(pl.col("scheme_id") == "sh-g60/6g")["amount_fen"].to_list() == [3000]


def test_summary_totals_count_confirmed_and_potential_amounts() -> None:
    tables = _one({"enterprise": {"name": "甲", "region": {"province": "上海市", "city": "上海市", "district": "松江区"}},
                   "projects": [{"id": "P0", "fields": ["6g"], "total_input_yuan": "200000000",
                                 "location": {"province": "上海市", "city": "上海市", "district": "松江区"}},
                                {"id": "P1", "fields": ["scientific_instruments"], "total_input_yuan": "1000",
                                 "location": {"province": "上海市", "city": "上海市"}}]})
    result = evaluate_tables(tables, date(2026, 6, 1))
    summary = result.summary.row(0, named=True)
    # P0: 6G 30% of ¥200M = ¥60M, capped at ¥30M; P1: district unknown, so ¥300 to confirm
    assert summary["total_fen"] == 30_000_000_00
    assert summary["potential_total_fen"] == 30_000_000_00 + 300_00
    statuses = result.details["status"].to_list()
    assert summary["n_eligible"] == statuses.count("eligible") == 1
    assert summary["n_to_confirm"] == statuses.count("needs_confirmation")
    # largest first; the potential ¥300 says it is still to confirm
    assert summary["top_schemes"] == ("sh-g60/6g (P0) ¥30,000,000.00; "
                                      "sh-g60/scientific-instruments (P1) ¥300.00 (待确认/to confirm)")


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_yuan_text_in_polars_groups_thousands_as_the_engine_does(fen: int) -> None:
    text = pl.DataFrame({"fen": [fen]}, schema={"fen": pl.Int64}).select(grouped_yuan_text(pl.col("fen"))).item()
    assert text == grouped_yuan(fen)
