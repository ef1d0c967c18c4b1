"""Recorded awards reduce the headroom of cumulative (sh-g60/industry-cluster) and yearly (gd loan) caps."""

from __future__ import annotations

import json
from datetime import date

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from store_samples import cluster_profile, guangdong_profile
from incentives.evaluate import evaluate
from incentives.profile import parse_profile
from incentives.store import clients, runs

CLUSTER = "sh-g60/industry-cluster"
GD_LOAN = "gd/loan-interest-subsidy"
CLUSTER_CAP_FEN = 20_000_000 * 100


def _row(run, scheme_id):
    [row] = [r for r in runs.run_summary(run)["results"] if r["scheme_id"] == scheme_id and r["status"] == "eligible"]
    return row


def test_cluster_award_recorded_in_the_store_reduces_the_cumulative_headroom(engine, account):
    client = clients.create_client(engine, account.id, cluster_profile(), ref="SJ")
    before = _row(runs.run_client(engine, account.id, client.id, date(2026, 6, 1)), CLUSTER)
    assert before["amount_fen"] == CLUSTER_CAP_FEN  # nothing received yet: the whole ¥20M is open
    clients.add_award(engine, account.id, client.id,
                      {"scheme_id": CLUSTER, "amount_yuan": "12000000", "date": "2026-03-01"})
    clients.add_award(engine, account.id, client.id,
                      {"scheme_id": CLUSTER, "amount_yuan": "3000000.50", "date": "2026-04-01"})
    after_run = runs.run_client(engine, account.id, client.id, date(2026, 6, 1))
    assert _row(after_run, CLUSTER)["amount_fen"] == CLUSTER_CAP_FEN - 1_200_000_000 - 300_000_050  # ¥4,999,999.50
    assert [a["amount_yuan"] for a in json.loads(after_run.input_json)["awards"]] == ["12000000", "3000000.50"]


def test_award_dated_after_the_as_of_date_does_not_count_yet(engine, account):
    client = clients.create_client(engine, account.id, cluster_profile(), ref="SJ")
    clients.add_award(engine, account.id, client.id, {"scheme_id": CLUSTER, "amount_yuan": "8000000", "date": "2026-09-01"})
    assert _row(runs.run_client(engine, account.id, client.id, date(2026, 6, 1)), CLUSTER)["amount_fen"] == CLUSTER_CAP_FEN
    assert _row(runs.run_client(engine, account.id, client.id, date(2026, 10, 1)), CLUSTER)["amount_fen"] == (
        CLUSTER_CAP_FEN - 800_000_000)


def test_gd_loan_subsidy_paid_this_year_reduces_the_yearly_headroom_and_last_year_does_not(engine, account):
    client = clients.create_client(engine, account.id, guangdong_profile(), ref="GZ")
    fresh = _row(runs.run_client(engine, account.id, client.id, date(2026, 6, 1)), GD_LOAN)
    clients.add_award(engine, account.id, client.id,
                      {"scheme_id": GD_LOAN, "amount_yuan": "19950000", "date": "2026-01-20", "unit_id": "icbc-fa-2024"})
    # paid on another loan (not in the profile): it takes the yearly room, not boc-fa-2025's own subsidy
    this_year = _row(runs.run_client(engine, account.id, client.id, date(2026, 6, 1)), GD_LOAN)
    # 2026: ¥20M cap − ¥19.95M paid = ¥50,000 left, so the 2026 share (¥69,424.66) is cut to ¥50,000;
    # the 2025 share (¥70,575.34) falls under 2025's own cap: 7,057,534 + 5,000,000 fen.
    assert (fresh["amount_fen"], fresh["binding_cap"]) == (14_000_000, False)
    assert (this_year["amount_fen"], this_year["headroom_fen"], this_year["binding_cap"]) == (12_057_534, 0, True)

    other = clients.create_client(engine, account.id, guangdong_profile(), ref="GZ-2")
    clients.add_award(engine, account.id, other.id,
                      {"scheme_id": GD_LOAN, "amount_yuan": "19950000", "date": "2024-01-20"})
    old_award = _row(runs.run_client(engine, account.id, other.id, date(2026, 6, 1)), GD_LOAN)
    assert old_award["headroom_fen"] == fresh["headroom_fen"]


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(min_value=1, max_value=1_500_000_000), max_size=4))
@example([CLUSTER_CAP_FEN - 1])  # one fen left
@example([CLUSTER_CAP_FEN])  # cap used up exactly
@example([CLUSTER_CAP_FEN + 1])  # over-reported history never makes a negative award
def test_cluster_amount_is_cap_minus_recorded_awards_never_below_zero(amounts):
    awards = [{"scheme_id": CLUSTER, "amount_yuan": f"{a // 100}.{a % 100:02d}", "date": "2026-02-01"} for a in amounts]
    evaluation = evaluate(parse_profile(cluster_profile(awards=awards)), date(2026, 6, 1))
    [result] = [r for r in evaluation.results if r.scheme_id == CLUSTER]
    expected = max(0, CLUSTER_CAP_FEN - sum(amounts))
    assert (result.amount_fen or 0) == expected
