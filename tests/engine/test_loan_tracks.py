"""The loan interest subsidy's notes on a single profile: when the subsidised months are over, and when a loan
is to confirm on the other track."""

from __future__ import annotations

import json
from datetime import date

from incentives.evaluate import evaluate
from incentives.profile import parse_profile
from incentives.resources import examples_dir

GD = "gd/loan-interest-subsidy"


def _example(**enterprise_changes) -> dict:
    document = json.loads((examples_dir() / "guangzhou-manufacturer.json").read_text(encoding="utf-8"))
    document["enterprise"]["certifications"].update(enterprise_changes)
    return document


def _loan_results(document: dict, as_of: date) -> dict:
    return {r.unit_id: r for r in evaluate(parse_profile(document), as_of).results if r.scheme_id == GD}


def _kinds(result) -> list[str]:
    return [note["kind"] for note in result.notes]


def test_a_loan_whose_subsidised_year_is_over_asks_to_check_its_claims():
    # boc-fa-2025 was issued on 2025-07-01: subsidised until 2026-06-30, the day before its anniversary
    on_its_last_day = _loan_results(_example(), date(2026, 6, 30))["boc-fa-2025"]
    on_the_anniversary = _loan_results(_example(), date(2026, 7, 1))["boc-fa-2025"]
    assert "check" not in _kinds(on_its_last_day)
    assert on_the_anniversary.amount_fen == on_its_last_day.amount_fen and _kinds(on_the_anniversary)[-1] == "check"
    assert "2026-06-30 结束" in on_the_anniversary.notes[-1]["zh"] and "quarter" in on_the_anniversary.notes[-1]["en"]


def test_a_loan_to_confirm_on_the_other_track_carries_its_own_note():
    results = _loan_results(_example(hnte=None), date(2026, 6, 1))
    working_capital = results["ccb-wc-2026"]
    assert working_capital.status.value == "needs_confirmation" and working_capital.extra["track"] == "high_tech"
    assert _kinds(working_capital)[0] == "other_track"
    assert results["boc-fa-2025"].extra["track"] == "manufacturing" and _kinds(results["boc-fa-2025"])[0] == "track"


def test_a_loan_that_received_more_than_its_whole_subsidy_asks_to_check_the_awards():
    # boc-fa-2025: 10,000,000 yuan at 4% from 2025-07-01, subsidised for 365 days at 35%:
    # 10,000,000 × 0.04 × 365/365 × 0.35 = 140,000 yuan in all; the example records 70,000 of it as received
    document = _example()
    as_recorded = _loan_results(document, date(2026, 6, 1))["boc-fa-2025"]
    assert as_recorded.amount_fen == 7_000_000  # 140,000 - 70,000
    assert not any("more than its whole subsidy" in n["en"] for n in as_recorded.notes)
    document["awards"][0]["amount_yuan"] = "150000"  # 10,000 yuan more than the loan could get
    over = _loan_results(document, date(2026, 6, 1))["boc-fa-2025"]
    assert over.amount_fen == 0
    [note] = [n for n in over.notes if "150,000" in n["zh"]]
    assert note["kind"] == "check" and "140,000" in note["zh"] and "10,000" in note["zh"]
    assert "more than its whole subsidy" in note["en"] and "10,000" in note["en"]
    document["awards"][0]["amount_yuan"] = "140000"  # exactly the whole subsidy: nothing to check
    exact = _loan_results(document, date(2026, 6, 1))["boc-fa-2025"]
    assert exact.amount_fen == 0 and all("140,000" not in n["zh"] for n in exact.notes)
