"""A loan's check notes reach the batch details (请核对 / notes_zh, notes_en) with the scalar engine's own texts:
a rate above 24%, a subsidised window already over on the evaluation date, awards beyond the whole subsidy; and
so does the quarterly claim deadline's date.

Each case flips one input against a loan with no note; the written workbook and Parquet carry the column.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from openpyxl import load_workbook

from incentives.batch.columnar import evaluate_tables
from incentives.batch.convert import profiles_to_tables
from incentives.batch.explain import NOTES_JOINER_EN, NOTES_JOINER_ZH, as_sentence
from incentives.evaluate import evaluate
from incentives.profile import parse_profile

SCHEME = "gd/loan-interest-subsidy"
GUANGZHOU = {"province": "广东省", "city": "广州市"}
FIRM = {"name": "广州制造", "region": GUANGZHOU, "industry_code": "3311", "certifications": {"hnte": False},
        "declarations": {"on_dishonesty_list": False, "main_business_encouraged": True}}
AS_OF = date(2026, 8, 1)


def _loan(**changes: Any) -> dict[str, Any]:
    # issued 2025-06-01: the 12 subsidised months end on 2026-06-01, before AS_OF
    loan = {"id": "L0", "principal_yuan": "10000000", "annual_rate": "0.04", "issue_date": "2025-06-01",
            "maturity_date": "2028-06-01", "loan_type": "fixed_asset", "purpose": "buy_equipment",
            "region_of_use": GUANGZHOU, "claimed_under_other_policy": False}
    return loan | changes


def _notes(as_of: date, loan: dict[str, Any], awards: list[dict[str, Any]] | None = None) -> tuple[Any, list]:
    """The batch row of the loan under the subsidy, and the scalar result's check notes."""
    profile = parse_profile({"enterprise": FIRM, "loans": [loan], "awards": awards or []})
    row = (evaluate_tables(profiles_to_tables([("E0", profile)]), as_of).details
           .filter(pl.col("scheme_id") == SCHEME).row(0, named=True))
    scalar = next(r for r in evaluate(profile, as_of).results if r.scheme_id == SCHEME)
    return row, [note for note in scalar.notes if note["kind"] == "check"]


def test_a_loan_within_its_window_at_a_usual_rate_has_nothing_to_check() -> None:
    row, scalar = _notes(date(2026, 3, 1), _loan())
    assert row["status"] == "eligible" and row["amount_fen"] > 0
    assert row["notes_zh"] is None and row["notes_en"] is None and scalar == []


def test_a_window_over_on_the_evaluation_date_is_to_check() -> None:
    # only the evaluation date moves: 2026-03-01 -> 2026-08-01, past the window's end (2026-06-01)
    row, scalar = _notes(AS_OF, _loan())
    assert row["status"] == "eligible"
    assert row["notes_zh"] == scalar[0]["zh"] and "2026-05-31" in row["notes_zh"]
    assert row["notes_en"] == as_sentence(scalar[0]["en"]) and row["notes_en"][0].isupper()


def test_a_rate_above_24_percent_is_to_check() -> None:
    row, scalar = _notes(date(2026, 3, 1), _loan(annual_rate="0.3"))
    assert [n["zh"] for n in scalar] == [row["notes_zh"]] and "30%" in row["notes_zh"]


def test_awards_beyond_the_whole_subsidy_are_to_check() -> None:
    # the loan's whole subsidy is at most 10,000,000 × 4% × 365/365 = 400,000 yuan (all its interest): 1,000,000
    # received is beyond it
    awards = [{"scheme_id": SCHEME, "amount_yuan": "1000000", "date": "2026-02-01", "unit_id": "L0"}]
    row, scalar = _notes(date(2026, 3, 1), _loan(), awards)
    assert row["amount_fen"] == 0
    assert row["notes_zh"] == scalar[0]["zh"] and "1,000,000.00" in row["notes_zh"]


def test_several_notes_share_the_cell_in_the_scalar_order() -> None:
    # at 30% a year the loan's interest is 3,000,000 yuan, its subsidy at most that: 5,000,000 is beyond it
    awards = [{"scheme_id": SCHEME, "amount_yuan": "5000000", "date": "2026-02-01", "unit_id": "L0"}]
    row, scalar = _notes(AS_OF, _loan(annual_rate="0.3"), awards)
    assert len(scalar) == 3
    assert row["notes_zh"] == NOTES_JOINER_ZH.join(n["zh"] for n in scalar)
    # each note a sentence of its own: "…accepted). The awards record…", not "…accepted). the awards record…"
    assert row["notes_en"] == NOTES_JOINER_EN.join(as_sentence(n["en"]) for n in scalar)
    assert all(part[0].isupper() for part in row["notes_en"].split(NOTES_JOINER_EN))


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_the_written_results_carry_the_notes(tmp_path, fmt: str) -> None:
    from incentives.batch.runner import Job, run_batch

    from .helpers import write_workbook

    source = write_workbook(tmp_path / "clients.xlsx", {
        "企业": [["企业编号", "企业名称", "省份", "城市", "行业代码"], ["E0", "广州制造", "广东省", "广州市", "3311"]],
        "贷款": [["企业编号", "贷款编号", "本金(元)", "年利率", "发放日", "到期日", "贷款类型", "贷款用途", "资金使用省份",
                "资金使用城市"],
               ["E0", "L0", 10000000, "0.04", "2025-06-01", "2028-06-01", "fixed_asset", "buy_equipment", "广东省",
                "广州市"]]})
    output = tmp_path / ("results.xlsx" if fmt == "xlsx" else "results")
    run_batch(Job(source, output, AS_OF, fmt))
    if fmt == "xlsx":
        rows = list(load_workbook(output, read_only=True)["明细"].iter_rows(values_only=True))
        header = rows[0]
        loan_row = next(r for r in rows[1:] if r[header.index("方案编号")] == SCHEME)
        assert "贴息期已于 2026-05-31 结束" in loan_row[header.index("请核对")]
        assert "ended on 2026-05-31" in loan_row[header.index("To check")]
        # and the Q3 claim deadline: 10 working days after 2026-09-30, past the National Day holidays
        claim_row = next(r for r in rows[1:] if r[header.index("方案编号")] == "gd/loan-interest-subsidy-claim")
        assert (claim_row[header.index("请核对")], claim_row[header.index("To check")]) == (
            "截止日：2026-10-20", "Deadline: 2026-10-20")
    else:
        details = pl.read_parquet(output / "details")
        notes = details.filter(pl.col("scheme_id") == SCHEME).get_column("notes_en")
        assert "ended on 2026-05-31" in notes[0]
        claim = details.filter(pl.col("scheme_id") == "gd/loan-interest-subsidy-claim").get_column("notes_zh")
        assert claim.to_list() == ["截止日：2026-10-20"]


# --- the quarterly claim deadline: its date in the notes, as the single result shows it ---------------------------

CLAIM = "gd/loan-interest-subsidy-claim"


def _claim(as_of: date, region: dict[str, Any]) -> tuple[Any, Any]:
    profile = parse_profile({"enterprise": FIRM | {"region": region}, "loans": [_loan()]})
    row = (evaluate_tables(profiles_to_tables([("E0", profile)]), as_of).details
           .filter(pl.col("scheme_id") == CLAIM).row(0, named=True))
    return row, next(r for r in evaluate(profile, as_of).results if r.scheme_id == CLAIM)


def test_the_claim_deadline_of_a_guangdong_enterprise_is_in_its_notes() -> None:
    # 2026-06-01 is in Q2: 10 working days after 2026-06-30 is 2026-07-14 (2026 calendar)
    row, scalar = _claim(date(2026, 6, 1), GUANGZHOU)
    assert row["status"] == scalar.status.value == "eligible"
    assert row["notes_zh"] == "截止日：2026-07-14" == scalar.notes[-1]["zh"] and scalar.notes[-1]["kind"] == "deadline"
    assert row["notes_en"] == "Deadline: 2026-07-14"


def test_an_enterprise_outside_guangdong_gets_no_claim_deadline() -> None:
    # only the region moves: the claim scheme is ineligible and computes no deadline
    row, scalar = _claim(date(2026, 6, 1), {"province": "上海市", "city": "上海市", "district": "松江区"})
    assert row["status"] == scalar.status.value == "ineligible"
    assert row["notes_zh"] is None and not [n for n in scalar.notes if n["kind"] == "deadline"]


def test_a_claim_deadline_in_a_year_whose_calendar_is_not_published_is_to_confirm_with_no_date() -> None:
    # Q4 2026 ends 2026-12-31: its 10 working days fall in 2027, whose holiday calendar is not published
    row, scalar = _claim(date(2026, 12, 1), GUANGZHOU)
    assert row["status"] == scalar.status.value == "needs_confirmation"
    assert row["notes_zh"] is None and "2027" in row["to_confirm_zh"]
