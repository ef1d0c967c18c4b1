"""The clean-cell tests of the cell checks give exactly what checking every cell in full gives.

Tables are drawn from mostly clean values with random bad or unusual cells mixed in (surrounding or Unicode
whitespace, empty text, labels instead of codes, ids typed as numbers, unknown codes, lists with repeats or
gaps, bad rates and industry codes, over-long text, duplicates), both typed as Parquet gives them and all text
as CSV and workbooks give them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
from hypothesis import HealthCheck, given, settings, strategies as st

from incentives.batch.readers import ROW, RawInput, RawTable
from incentives.batch.tables import ACTIVITIES, FIELDS, LOAN_PURPOSES, LOAN_TYPES, OWNERSHIP
from incentives.batch.validate import _check_table, validate

WHITESPACE = [" ", "\t", "\u3000", "\u00a0", "\n", "\u2009", "\u200b", "\u0085"]


def _padded(values: list[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(values), st.sampled_from(WHITESPACE), st.booleans()).map(
        lambda t: t[1] + t[0] if t[2] else t[0] + t[1])


def _cell(clean: list, unusual: list | st.SearchStrategy) -> st.SearchStrategy:
    """Mostly a clean value; now and then null or one of the unusual ones."""
    odd = unusual if isinstance(unusual, st.SearchStrategy) else st.sampled_from(unusual)
    return st.one_of(st.sampled_from(clean), st.sampled_from(clean), st.sampled_from(clean), st.none(), odd)


_IDS = ["E1", "E2", "E3", "E4", "E5", "123", "e.6_x-7"]
ENTERPRISE_ID = _cell(_IDS, st.one_of(_padded(_IDS), st.sampled_from(["", "123.0", "E1", "x" * 65, "E 9"])))
NAME = _cell(["甲公司", "乙", "Acme Ltd"], st.one_of(_padded(["甲公司"]), st.sampled_from(["", "长" * 201, " "])))
PROVINCE = _cell(["上海市", "北京市", "广东省", "广西壮族自治区"],
                 st.one_of(_padded(["上海市"]), st.sampled_from(["火星", "", "上海"])))
CITY = _cell(["上海市", "北京市", "广州市", "深圳市"], st.one_of(_padded(["北京市"]), st.sampled_from(["纽约", ""])))
DISTRICT = _cell(["松江区", "海淀区", "南山区"], st.one_of(_padded(["松江区"]), st.sampled_from(["某区", "x" * 21])))
INDUSTRY = _cell(["C3973", "C3311", "I6513", "M7320"],
                 st.sampled_from(["3973", "c3973", " C3973", "6513.0", "Z9999", "", "C"]))
OWNERSHIP_CELL = _cell(list(OWNERSHIP), st.one_of(_padded(["private"]), st.sampled_from(
    ["民营", "PRIVATE", "国有(state_owned)", "owned", ""])))
USCC = _cell(["91110000600037341L"], st.sampled_from(["91110000600037341X", "9111 0000 6000 3734 1L", ""]))
PROJECT_ID = _cell(["P1", "P2", "P3"], st.one_of(_padded(["P1"]), st.sampled_from(["7.0", "P/1", "", "P1"])))
LOAN_ID = _cell(["L1", "L2"], st.sampled_from(["L 1", "12.0", "", "L1"]))
RATE = _cell(["0.035", "0.028", "0.0385"], st.sampled_from(["3.5%", "0.0350", "3", "abc", " 0.035", "-0.01", "NaN"]))
LOAN_TYPE = _cell(list(LOAN_TYPES), st.sampled_from(["固定资产贷款", "mortgage", " fixed_asset"]))
PURPOSE = _cell(list(LOAN_PURPOSES), st.sampled_from(["研发", "gambling", "rd "]))
LENDER = _cell(["某银行"], st.sampled_from(["x" * 101, " 某银行", ""]))
LIST_ITEMS = {
    "activities": _cell([["rd"], ["pilot_platform", "rd"], []], st.sampled_from(
        [["rd", "rd"], ["研发"], [" rd"], ["rd", None], ["teleport"], [""], ["RD"]])),
    "fields": _cell([["ai"], ["6g", "ic"]], st.sampled_from([["ai", "ai"], ["6G"], ["ai "], [None], ["magic"]])),
}
LIST_TEXT = _cell(["rd", "pilot_platform;rd"], st.sampled_from(["rd；研发", " rd , ai", "teleport", ";;", ""]))


def _frame(columns: dict[str, list], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    frame = pl.DataFrame(columns, schema=schema)
    return frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))


@st.composite
def raw_inputs(draw: st.DrawFn, as_text: bool) -> RawInput:
    def column(strategy: st.SearchStrategy, n: int) -> list:
        return draw(st.lists(strategy, min_size=n, max_size=n))

    text = pl.String
    money = text if as_text else pl.Decimal(20, 2)
    n = draw(st.integers(0, 12))
    enterprises = {
        "enterprise_id": column(ENTERPRISE_ID, n), "name": column(NAME, n),
        "uscc": column(USCC, n) if draw(st.booleans()) else [None] * n,
        "province": column(PROVINCE, n), "city": column(CITY, n), "district": column(DISTRICT, n),
        "industry_code": column(INDUSTRY, n), "ownership": column(OWNERSHIP_CELL, n),
        "revenue_yuan": column(st.one_of(st.none(), st.sampled_from(["100.5", "0", "12345678.9"])), n),
        "hnte": column(st.one_of(st.none(), st.booleans()), n),
    }
    schema = {name: text for name in enterprises} | {"revenue_yuan": money, "hnte": text if as_text else pl.Boolean}
    if as_text:
        enterprises["hnte"] = [None if v is None else ("是" if v else "否") for v in enterprises["hnte"]]
    else:
        enterprises["revenue_yuan"] = [None if v is None else Decimal(v) for v in enterprises["revenue_yuan"]]
    m = draw(st.integers(0, 12))
    projects = {"enterprise_id": column(ENTERPRISE_ID, m), "project_id": column(PROJECT_ID, m),
                "name": column(st.one_of(st.none(), NAME), m), "province": column(PROVINCE, m),
                "city": column(CITY, m)}
    project_schema = {name: text for name in projects}
    for name in ("activities", "fields"):
        projects[name] = column(LIST_TEXT if as_text else LIST_ITEMS[name], m)
        project_schema[name] = text if as_text else pl.List(pl.String)
    k = draw(st.integers(0, 8))
    loans = {"enterprise_id": column(ENTERPRISE_ID, k), "loan_id": column(LOAN_ID, k),
             "principal_yuan": column(st.sampled_from(["1000000", "250000.5"]), k), "annual_rate": column(RATE, k),
             "issue_date": [date(2026, 1, 1)] * k, "maturity_date": [date(2027, 1, 1)] * k,
             "loan_type": column(LOAN_TYPE, k), "purpose": column(PURPOSE, k), "use_province": column(PROVINCE, k),
             "lender": column(LENDER, k)}
    loan_schema = {name: text for name in loans} | {"issue_date": pl.Date, "maturity_date": pl.Date}
    if as_text:
        loans["issue_date"] = ["2026-01-01"] * k
        loans["maturity_date"] = ["2027-01-01"] * k
        loan_schema |= {"issue_date": text, "maturity_date": text}
    tables = {"enterprises": (enterprises, schema), "projects": (projects, project_schema),
              "loans": (loans, loan_schema)}
    raw = {name: RawTable(name, name, _frame(columns, types), {c: c for c in columns})
           for name, (columns, types) in tables.items()}
    return RawInput("csv" if as_text else "parquet", raw)


def _assert_same_checks(raw: RawInput) -> None:
    """Every row of every table (not only the accepted ones), then the whole result."""
    for table in raw.tables.values():
        fast, full = _check_table(table), _check_table(table, fast_paths=False)
        assert fast.values.schema == full.values.schema and fast.values.equals(full.values), table.table
        # the order of a table's own error rows is the joins' (the report below is sorted)
        assert fast.errors.sort(pl.all()).equals(full.errors.sort(pl.all())), table.table
    _assert_same(validate(raw), validate(raw, fast_paths=False))


def _assert_same(fast, full) -> None:
    assert fast.counts.as_dict() == full.counts.as_dict()
    assert fast.errors.schema == full.errors.schema and fast.errors.equals(full.errors)
    assert fast.rejected.equals(full.rejected)
    for name in ("enterprises", "projects", "loans", "awards"):
        got, expected = getattr(fast.tables, name), getattr(full.tables, name)
        assert got.schema == expected.schema and got.equals(expected), name


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_inputs(as_text=False))
def test_clean_cell_tests_agree_with_the_full_check_on_typed_input(raw):
    _assert_same_checks(raw)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_inputs(as_text=True))
def test_clean_cell_tests_agree_with_the_full_check_on_text_input(raw):
    _assert_same_checks(raw)


@given(st.text(alphabet="".join(WHITESPACE) + "aE1.0-_长", max_size=8))
@settings(max_examples=100, deadline=None)
def test_any_short_text_is_clean_only_where_the_full_check_keeps_it(text):
    ids = {"enterprise_id": [text, "E1"], "name": [text, "甲"], "province": [text, "上海市"]}
    raw = RawInput("parquet", {"enterprises": RawTable("enterprises", "enterprises", _frame(
        ids, {name: pl.String for name in ids}), {c: c for c in ids})})
    _assert_same_checks(raw)


def test_every_code_is_its_own_accepted_spelling():
    from incentives.batch.cell_parsers import _enum_map

    for codes in (OWNERSHIP, ACTIVITIES, FIELDS, LOAN_TYPES, LOAN_PURPOSES):
        assert all(_enum_map(codes)[code] == code for code in codes)


def _rows_found_again(tables):
    """Each child row's enterprise row number as the engine finds it when not told."""
    from dataclasses import replace

    from incentives.batch.unit_frames import enterprise_rows

    return enterprise_rows(replace(tables, enterprise_rows=None))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_inputs(as_text=False))
def test_the_enterprise_rows_the_checks_pass_on_are_the_ones_the_engine_would_find(raw):
    # sorted by id, as generated or exported inputs usually are: the checks then find each row's enterprise
    ordered = {name: RawTable(t.table, t.sheet, t.frame.sort("enterprise_id", nulls_last=True, maintain_order=True),
                              t.headers) for name, t in raw.tables.items()}
    checked = validate(RawInput(raw.format, ordered))
    given_rows = checked.tables.enterprise_rows
    if given_rows is not None:  # the ids as checked were strictly increasing, every child's sorted
        again = _rows_found_again(checked.tables)
        assert [r.to_list() for r in given_rows] == [r.to_list() for r in again]
    _assert_same(checked, validate(RawInput(raw.format, ordered), fast_paths=False))


def test_rows_are_renumbered_around_a_rejected_enterprise():
    enterprises = {"enterprise_id": ["E1", "E2", "E3", "E4"], "name": ["甲", "乙", "丙", "丁"],
                   "province": ["上海市", "火星", "北京市", "上海市"]}  # E2's province is not a province
    projects = {"enterprise_id": ["E1", "E2", "E3", "E3", "E4"], "project_id": ["P1", "P2", "P3", "P4", "P5"]}
    raw = RawInput("parquet", {
        name: RawTable(name, name, _frame(columns, {c: pl.String for c in columns}), {c: c for c in columns})
        for name, columns in (("enterprises", enterprises), ("projects", projects))})
    checked = validate(raw)
    assert checked.tables.enterprises["enterprise_id"].to_list() == ["E1", "E3", "E4"]
    project_rows, loan_rows, award_rows = checked.tables.enterprise_rows
    assert project_rows.to_list() == [0, 1, 1, 2]  # E1, E3, E3, E4 among the accepted E1, E3, E4
    assert loan_rows.len() == award_rows.len() == 0
    assert [r.to_list() for r in checked.tables.enterprise_rows] == [
        r.to_list() for r in _rows_found_again(checked.tables)]
