"""Runs keep their input hash, date and rules version; a diff names what changed and why."""

from __future__ import annotations

import hashlib
import json
from datetime import date

from store_samples import cluster_profile
from incentives.report import evaluation_dict
from incentives.store import clients, runs
from incentives.store.db import write_session
from incentives.store.models import EvaluationRun

CLUSTER = "sh-g60/industry-cluster"


def test_run_stores_the_sha256_of_its_canonical_input_and_reproduces_exactly(engine, account):
    client = clients.create_client(engine, account.id, cluster_profile(), ref="R1")
    first = runs.run_client(engine, account.id, client.id, date(2026, 6, 1))
    again = runs.run_client(engine, account.id, client.id, date(2026, 6, 1))
    assert first.input_sha256 == hashlib.sha256(first.input_json.encode()).hexdigest()
    assert (again.input_sha256, again.result_json, again.rules_version) == (
        first.input_sha256, first.result_json, first.rules_version)
    assert first.ran_by == account.id and first.as_of == date(2026, 6, 1)
    full = evaluation_dict(runs.run_evaluation(runs.get_run(engine, account.id, first.id)))
    assert full["total_fen"] == first.total_fen
    assert [r["amount_fen"] for r in full["results"]] == [r["amount_fen"] for r in runs.run_summary(first)["results"]]
    assert [r.id for r in runs.list_runs(engine, account.id, client.id)] == [again.id, first.id]


def test_diff_after_recording_an_award_shows_the_input_changed_and_the_lower_amount(engine, account):
    client = clients.create_client(engine, account.id, cluster_profile(), ref="R2")
    before = runs.run_client(engine, account.id, client.id, date(2026, 6, 1))
    clients.add_award(engine, account.id, client.id, {"scheme_id": CLUSTER, "amount_yuan": "5000000", "date": "2026-02-01"})
    after = runs.run_client(engine, account.id, client.id, date(2026, 6, 1))
    diff = runs.diff_runs(engine, account.id, before.id, after.id)
    assert diff.input_changed and not diff.rules_changed and not diff.as_of_changed
    [change] = [c for c in diff.changes if c.scheme_id == CLUSTER]
    assert (change.amount_before_fen, change.amount_after_fen) == (2_000_000_000, 1_500_000_000)
    assert change.amount_changed and not change.status_changed
    assert diff.as_dict()["total_fen"] == {"before": before.total_fen, "after": after.total_fen}


def test_diff_across_dates_shows_status_changes_and_no_input_change(engine, account):
    client = clients.create_client(engine, account.id, cluster_profile(), ref="R3")
    inside = runs.run_client(engine, account.id, client.id, date(2026, 6, 1))
    outside = runs.run_client(engine, account.id, client.id, date(2031, 6, 1))  # the G60 measures end 2030-12-31
    diff = runs.diff_runs(engine, account.id, inside.id, outside.id)
    assert diff.as_of_changed and not diff.input_changed
    [change] = [c for c in diff.changes if c.scheme_id == CLUSTER]
    assert (change.status_before, change.status_after) == ("eligible", "not_in_force")


def test_diff_reports_a_rules_version_change(engine, account):
    client = clients.create_client(engine, account.id, cluster_profile(), ref="R4")
    old = runs.run_client(engine, account.id, client.id, date(2026, 6, 1))
    new = runs.run_client(engine, account.id, client.id, date(2026, 6, 1))
    with write_session(engine) as session:  # as if the first run had been made under earlier rules
        session.get(EvaluationRun, old.id).rules_version = "0.0.9+000000000000"
    diff = runs.diff_runs(engine, account.id, old.id, new.id)
    assert diff.rules_changed and not diff.input_changed and diff.changes == []


def test_diff_of_summaries_lists_rows_present_on_one_side_only():
    row = {"scheme_id": "x/a", "unit_id": "p1", "unit_name": None, "status": "eligible", "amount_fen": 5,
           "headroom_fen": None}
    before = {"results": [row]}
    after = {"results": [row, {**row, "unit_id": "p2"}]}
    [added] = runs.diff_summaries(before, after)
    assert (added.unit_id, added.status_before, added.status_after) == ("p2", None, "eligible")
    [removed] = runs.diff_summaries(after, before)
    assert (removed.unit_id, removed.status_before, removed.status_after) == ("p2", "eligible", None)
    assert runs.diff_summaries(before, json.loads(json.dumps(before))) == []
