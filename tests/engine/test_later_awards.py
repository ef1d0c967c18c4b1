"""An award dated after the evaluation date is not counted, and its scheme's results say so with the date."""

from __future__ import annotations

from datetime import date

from incentives.evaluate import evaluate
from incentives.profile import parse_profile

CLUSTER = "sh-g60/industry-cluster"
SONGJIANG = {"province": "上海市", "city": "上海市", "district": "松江区"}


def _cluster(award_date: str):
    profile = parse_profile({"enterprise": {"name": "松江集群", "region": SONGJIANG},
                             "projects": [{"id": "P1", "activities": ["industry_cluster"], "location": SONGJIANG}],
                             "awards": [{"scheme_id": CLUSTER, "amount_yuan": "5000000", "date": award_date}]})
    evaluation = evaluate(profile, date(2026, 6, 1))
    return [r for r in evaluation.results if r.scheme_id == CLUSTER], evaluation


def test_a_later_award_is_not_counted_and_its_scheme_says_so() -> None:
    # only the award's date moves, past the evaluation date: the ¥20M cumulative cap is whole again
    before, _ = _cluster("2026-05-01")
    after, evaluation = _cluster("2026-07-20")
    assert [r.amount_fen for r in before] == [15_000_000_00]  # 20,000,000 − 5,000,000 already received
    assert [r.amount_fen for r in after] == [20_000_000_00]  # the July award had not been received on 1 June
    notes = [n for n in after[0].notes if "2026-07-20" in n["zh"]]
    assert [n["kind"] for n in notes] == ["note"] and "not counted" in notes[0]["en"]
    assert not any("日期晚于评估日的本方案资助" in n["zh"] for n in before[0].notes)
    assert not any("日期晚于评估日的本方案资助" in n["zh"] for r in evaluation.results if r.scheme_id != CLUSTER for n in r.notes)
