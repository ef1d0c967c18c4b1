from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import example, given, strategies as st
from stdnum.cn import uscc

from incentives.batch.readers import ROW
from incentives.batch.cell_parsers import Stages, _money, _uscc
from incentives.batch.validate import validate

from .helpers import raw_input


def _enterprises(**extra):
    base = {"enterprise_id": ["E1", "E2"], "name": ["甲", "乙"], "province": ["上海市", "北京市"]}
    base.update(extra)
    return base


def _fen(texts):
    frame = pl.DataFrame({"v": texts}, schema={"v": pl.String})
    stages = Stages()
    value, code = _money(pl.col("v"), pl.String, False, stages.keep)
    return stages.apply(frame.lazy()).select(value.alias("fen"), code.alias("code")).collect().rows()


def test_yuan_text_converts_to_fen_exactly():
    assert _fen(["1234.5", "0.01", "1,000", "100.0", "7", " 12.30 "]) == [
        (123450, None), (1, None), (100000, None), (10000, None), (700, None), (1230, None)]


def test_bad_amounts_are_rejected_with_a_reason():
    assert [code for _, code in _fen(["0.001", "-5", "NaN", "abc", "1e+20", "1e-07", "0.30000000000000004"])] == [
        "decimals", "negative", "nan", "not_number", "too_large", "decimals", "decimals"]


def test_a_comma_is_read_only_as_a_thousands_separator():
    # "1,5" is one and a half where the comma is the decimal mark: read as 15 it would be ten times off
    assert _fen(["3,000,000", "1,000.50", "¥12,345 元", "1,5", "30,00,000", "1,0000", ",100"]) == [
        (300000000, None), (100050, None), (1234500, None), (None, "comma"), (None, "comma"), (None, "comma"),
        (None, "comma")]


@given(st.integers(min_value=0, max_value=10**12))
def test_any_amount_grouped_in_thousands_reads_as_itself(yuan):
    assert _fen([f"{yuan:,}"]) == [(yuan * 100, None)]


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
@example(Decimal("0.10"))
@example(Decimal("99999999.99"))
def test_any_two_decimal_amount_round_trips_to_fen(amount):
    assert _fen([str(amount)]) == [(int(amount * 100), None)]


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False))
def test_floats_from_a_workbook_convert_through_their_shortest_form(number):
    text = pl.Series([number]).cast(pl.String).to_list()[0]
    fen, code = _fen([text])[0]
    exact = Decimal(repr(number))
    if exact.as_tuple().exponent >= -2:
        assert (fen, code) == (int(exact * 100), None)
    else:
        assert fen is None and code == "decimals"


_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@given(st.text(alphabet=_ALPHABET + "IOZ- a", min_size=0, max_size=20), st.booleans())
@example("91110000600037341L", False)
@example("91110000600037341X", False)
def test_uscc_check_agrees_with_stdnum(text, fix_check_digit):
    if fix_check_digit and len(text) >= 17 and text[:8].isdigit() and all(c in _ALPHABET for c in text[8:17]):
        text = text[:17] + uscc.calc_check_digit(text[:17])
    frame = pl.DataFrame({"v": [text]}, schema={"v": pl.String})
    stages = Stages()
    value, code = _uscc(pl.col("v"), stages.keep)
    got_value, got_code = stages.apply(frame.lazy()).select(value.alias("v"), code.alias("c")).collect().row(0)
    if text.strip() == "":
        assert got_code is None
        return
    expected = uscc.is_valid(text)
    assert (got_code is None) == expected
    if expected:
        assert got_value == uscc.compact(text)


def test_a_bad_cell_rejects_its_enterprise_and_reports_its_other_rows():
    raw = raw_input(enterprises=_enterprises(revenue_yuan=["12.345", "5"]),
               projects={"enterprise_id": ["E1", "E2"], "project_id": ["P1", "P1"]})
    checked = validate(raw)
    assert checked.tables.enterprises["enterprise_id"].to_list() == ["E2"]
    assert checked.tables.projects["enterprise_id"].to_list() == ["E2"]
    assert checked.errors.select("sheet", "row", "kind").rows() == [("enterprises", 2, "error"),
                                                                  ("projects", 2, "skipped")]
    assert (checked.counts.enterprises_in, checked.counts.evaluated, checked.counts.rejected) == (2, 1, 1)
    # the report's two kinds are counted apart: one error, and E1's faultless project, not evaluated
    assert (checked.counts.errors, checked.counts.skipped) == (1, 1)


@pytest.mark.parametrize(("rate", "warned"), [("0.45", True), ("45%", True), ("0.2401", True), ("0.24", False),
                                             ("0.045", False), ("24%", False)])
def test_an_implausibly_high_rate_is_evaluated_and_flagged(rate, warned):
    # only the rate differs: a rate above 24% is far more likely 4.5% typed as 0.45 than a real bank loan
    raw = raw_input(enterprises=_enterprises(),
               loans={"enterprise_id": ["E1"], "loan_id": ["L1"], "principal_yuan": ["100"], "annual_rate": [rate],
                      "issue_date": ["2026-01-01"], "maturity_date": ["2027-01-01"]})
    checked = validate(raw)
    assert checked.tables.loans["loan_id"].to_list() == ["L1"]  # evaluated as given, never rejected
    assert (checked.counts.errors, checked.counts.warnings) == (0, int(warned))
    flagged = checked.errors.filter(pl.col("kind") == "warning")
    assert flagged.select("sheet", "row", "enterprise_id").rows() == ([("loans", 2, "E1")] if warned else [])
    if warned:
        assert "24%" in flagged["reason_zh"][0] and "evaluated as given" in flagged["reason_en"][0]


def test_a_bad_loan_rejects_its_enterprise():
    raw = raw_input(enterprises=_enterprises(),
               loans={"enterprise_id": ["E1"], "loan_id": ["L1"], "principal_yuan": ["100"], "annual_rate": ["3"],
                      "issue_date": ["2026-01-01"], "maturity_date": ["2027-01-01"]})
    checked = validate(raw)
    assert checked.tables.enterprises["enterprise_id"].to_list() == ["E2"]
    assert checked.errors.row(0, named=True)["reason_en"].startswith("a rate is a fraction")


def test_a_loan_for_an_unknown_enterprise_is_reported_as_dangling():
    raw = raw_input(enterprises=_enterprises(),
               loans={"enterprise_id": ["E9"], "loan_id": ["L1"], "principal_yuan": ["100"], "annual_rate": ["0.03"],
                      "issue_date": ["2026-01-01"], "maturity_date": ["2027-01-01"]})
    checked = validate(raw)
    error = checked.errors.row(0, named=True)
    assert (error["sheet"], error["value"], error["reason_zh"]) == ("loans", "E9", "企业编号在“企业”表中不存在")
    assert checked.counts.evaluated == 2 and checked.counts.reconciles


def test_duplicate_enterprise_ids_reject_both_rows():
    checked = validate(raw_input(enterprises=_enterprises(enterprise_id=["E1", "E1"])))
    assert checked.counts.rejected == 2 and checked.errors.height == 2


def test_each_rejected_enterprise_counts_its_errors_even_without_an_id():
    """By id across every table; a row without an id has only its own row's errors to count."""
    raw = raw_input(enterprises={"enterprise_id": ["E1", None, "E3"], "name": ["甲", "乙", "丙"],
                            "province": ["上海市", "火星", "上海市"], "revenue_yuan": ["12.345", "5", "5"]},
               projects={"enterprise_id": ["E1"], "project_id": ["P 1"]})
    rejected = validate(raw).rejected
    assert rejected.select("name", "n_errors").rows() == [("甲", 2), ("乙", 2)]  # 乙: no id, bad province


def test_an_award_of_a_scheme_not_in_the_catalogue_is_an_error():
    award = {"enterprise_id": ["E1", "E2"], "scheme_id": ["no/such-scheme", "gd/loan-interest-subsidy"],
             "amount_yuan": ["100", "100"], "date": ["2026-01-01", "2026-01-01"]}
    checked = validate(raw_input(enterprises=_enterprises(), awards=award))
    error = checked.errors.row(0, named=True)
    assert (error["sheet"], error["row"], error["value"], error["enterprise_id"]) == ("awards", 2, "no/such-scheme", "E1")
    assert "方案目录" in error["reason_zh"] and "catalogue" in error["reason_en"]
    assert checked.tables.enterprises["enterprise_id"].to_list() == ["E2"]


def test_short_province_names_are_read_as_the_full_names():
    checked = validate(raw_input(enterprises=_enterprises(province=["上海", "广西"])))
    assert checked.errors.height == 0
    assert checked.tables.enterprises["province"].to_list() == ["上海市", "广西壮族自治区"]


def test_short_city_names_are_read_as_the_full_names():
    checked = validate(raw_input(enterprises=_enterprises(province=["广东", "上海"], city=["广州", "上海"],
                                                     district=["黄埔区", "松江区"])))
    assert checked.errors.height == 0
    assert checked.tables.enterprises["city"].to_list() == ["广州市", "上海市"]


def test_provinces_and_cities_typed_in_english_are_read_as_the_chinese_names():
    checked = validate(raw_input(enterprises=_enterprises(province=["Guangdong", "shanghai municipality"],
                                                     city=["GUANGZHOU", "Shanghai"], district=["黄埔区", "松江区"])))
    assert checked.errors.height == 0
    assert checked.tables.enterprises["province"].to_list() == ["广东省", "上海市"]
    assert checked.tables.enterprises["city"].to_list() == ["广州市", "上海市"]
    # a name it cannot tell stays as typed and is reported
    wrong = validate(raw_input(enterprises=_enterprises(province=["Guangdong", "Gotham"])))
    assert wrong.errors.filter(pl.col("kind") == "error")["value"].to_list() == ["Gotham"]


@pytest.mark.parametrize("city", ["上海", "Shanghai"])
def test_a_short_or_english_city_is_read_beside_a_full_province_name(city):
    # every other cell of the table is as the rules write it, so only the city cell can send the row to its reading
    checked = validate(raw_input(enterprises=_enterprises(province=["上海市", "上海市"], city=["上海市", city],
                                                     district=["松江区", "松江区"])))
    assert checked.errors.height == 0
    assert checked.tables.enterprises["city"].to_list() == ["上海市", "上海市"]


def test_districts_typed_in_english_are_read_among_their_own_citys_districts():
    # Huangpu is 黄埔区 in Guangzhou and 黄浦区 in Shanghai: the row's city decides
    checked = validate(raw_input(enterprises=_enterprises(province=["Guangdong", "上海市"], city=["Guangzhou", "上海市"],
                                                     district=["Huangpu District", "huangpu"]),
                            projects={"enterprise_id": ["E1"], "project_id": ["P1"], "province": ["广东省"],
                                      "city": ["广州市"], "district": ["TIANHE"]}))
    assert checked.errors.height == 0
    assert checked.tables.enterprises["district"].to_list() == ["黄埔区", "黄浦区"]
    assert checked.tables.projects["district"].to_list() == ["天河区"]
    # only the district differs from the row above: a name no district of the city has stays as typed, reported
    wrong = validate(raw_input(enterprises=_enterprises(province=["Guangdong", "上海市"], city=["Guangzhou", "上海市"],
                                                   district=["Huangpu District", "Tianhe"])))
    assert wrong.errors.select("row", "value", "reason_en").rows() == [(3, "Tianhe", "unknown district in this city")]


def test_regions_are_checked_against_the_bundled_table():
    checked = validate(raw_input(enterprises=_enterprises(city=["北京市", None], district=[None, "松江区"])))
    reasons = checked.errors.select("row", "reason_en").rows()
    assert reasons == [(2, "unknown city in this province"), (3, "unknown district in this city")] or \
        reasons[0] == (2, "unknown city in this province")


def test_unknown_cells_stay_unknown_not_no():
    checked = validate(raw_input(enterprises=_enterprises(hnte=["", "否"], employees=["", "12.0"])))
    assert checked.tables.enterprises.select("hnte", "employees").rows() == [(None, None), (False, 12)]


def test_chinese_enum_labels_and_list_separators_are_read_as_codes():
    raw = raw_input(enterprises=_enterprises(ownership=["民营", "state_owned"]),
               projects={"enterprise_id": ["E1"], "project_id": ["P1"], "activities": ["研发；中试平台建设(pilot_platform)"],
                         "fields": ["ai, 6G"]})
    checked = validate(raw)
    assert checked.tables.enterprises["ownership"].to_list() == ["private", "state_owned"]
    assert checked.tables.projects.select("activities", "fields").row(0) == (["rd", "pilot_platform"], ["ai", "6g"])


def test_an_award_naming_no_unit_of_its_enterprise_is_a_warning_not_an_error():
    checked = validate(raw_input(
        enterprises=_enterprises(),
        projects={"enterprise_id": ["E1"], "project_id": ["P1"]},
        loans={"enterprise_id": ["E2"], "loan_id": ["L1"], "principal_fen": ["100"], "annual_rate": ["0.03"],
               "issue_date": ["2026-01-05"], "maturity_date": ["2027-01-05"]},
        awards={"enterprise_id": ["E1", "E1", "E1", "E2"], "scheme_id": ["sh-g60/industry-cluster"] * 4,
                "amount_fen": ["100"] * 4, "date": ["2026-01-01"] * 4, "unit_id": ["P1", "P9", None, "P1"]}))
    warned = checked.errors.select("row", "value", "kind", "enterprise_id").rows()
    # P9 is nobody's; P1 is E1's project, not E2's
    assert warned == [(3, "P9", "warning", "E1"), (5, "P1", "warning", "E2")]
    assert checked.counts.warnings == 2 and checked.counts.errors == 0 and checked.counts.evaluated == 2
    assert "不会减少" in checked.errors["reason_zh"][0] and "typo" in checked.errors["reason_en"][0]


_OWNERS = st.sampled_from(["E1", "E2", "E3"])
_UNITS = st.sampled_from(["P1", "P2", "L1", "L2"])


@given(st.lists(st.tuples(_OWNERS, st.one_of(st.none(), _UNITS)), max_size=6),
       st.lists(st.tuples(_OWNERS, _UNITS), max_size=6), st.lists(st.tuples(_OWNERS, _UNITS), max_size=6))
def test_awards_naming_no_unit_are_those_the_whole_unit_list_lacks(awards, projects, loans):
    from incentives.batch.validate import _awards_naming_no_unit

    award_frame = pl.DataFrame([(i, e, u) for i, (e, u) in enumerate(awards)], orient="row",
                               schema={ROW: pl.Int64, "enterprise_id": pl.String, "unit_id": pl.String})
    project_frame = pl.DataFrame(projects, orient="row", schema={"enterprise_id": pl.String, "project_id": pl.String})
    loan_frame = pl.DataFrame(loans, orient="row", schema={"enterprise_id": pl.String, "loan_id": pl.String})
    found = _awards_naming_no_unit(award_frame, project_frame, loan_frame).get_column(ROW).sort().to_list()
    # the plain reading: an award names a unit, and no project or loan of its enterprise has that id
    units = set(projects) | set(loans)
    assert found == [i for i, (e, u) in enumerate(awards) if u is not None and (e, u) not in units]


@given(st.lists(st.tuples(st.one_of(st.none(), st.sampled_from(["E1", "E2", "E3"])),
                          st.one_of(st.none(), st.sampled_from(["P1", "P2", "P10"]))), max_size=8),
       st.booleans())
def test_keys_are_found_distinct_exactly_when_no_two_rows_share_them(pairs, sort_first):
    from incentives.batch.validate import _keys_distinct

    frame = pl.DataFrame(pairs, schema={"enterprise_id": pl.String, "project_id": pl.String}, orient="row")
    if sort_first:  # the usual, sorted input takes the cheap proof
        frame = frame.sort(["enterprise_id", "project_id"], nulls_last=True)
    keys = ["enterprise_id", "project_id"]
    assert _keys_distinct(frame, keys) == (len(set(pairs)) == len(pairs))
    assert _keys_distinct(frame.select("enterprise_id"), ["enterprise_id"]) == (
        len({p[0] for p in pairs}) == len(pairs))


@pytest.mark.parametrize(("dated", "warned"), [("2026-07-20", True), ("2026-06-02", True), ("2026-06-01", False),
                                               ("2025-12-31", False)])
def test_an_award_dated_after_the_evaluation_date_is_flagged_and_not_a_rejection(dated, warned):
    # only the award's date differs: after --as-of it was not yet received, so it is not counted, and listed
    raw = raw_input(enterprises=_enterprises(),
               awards={"enterprise_id": ["E1"], "scheme_id": ["sh-g60/industry-cluster"], "amount_yuan": ["10000"],
                       "date": [dated]})
    checked = validate(raw, as_of=date(2026, 6, 1))
    assert checked.tables.awards.height == 1 and checked.counts.rejected == 0
    assert (checked.counts.errors, checked.counts.warnings) == (0, int(warned))
    flagged = checked.errors.filter(pl.col("kind") == "warning")
    assert flagged.select("sheet", "row", "column", "value", "enterprise_id").rows() == (
        [("awards", 2, "date", dated, "E1")] if warned else [])
    if warned:
        assert "晚于评估日" in flagged["reason_zh"][0] and "not count it" in flagged["reason_en"][0]
    assert validate(raw).counts.warnings == 0  # without an evaluation date (a workspace import) nothing to compare
