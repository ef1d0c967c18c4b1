"""Clients keep every version; awards are recorded apart; another account's ids answer as not found."""

from __future__ import annotations

import json

import pytest

from store_samples import cluster_profile, guangdong_profile
from incentives.errors import InputError
from incentives.store import clients, runs
from incentives.store.errors import NotFound, StoreError

AWARD = {"scheme_id": "sh-g60/industry-cluster", "amount_yuan": "5000000", "date": "2026-02-01", "source": "松江区科委"}


def test_awards_in_a_new_profile_become_recorded_awards_not_part_of_the_version(engine, account):
    client = clients.create_client(engine, account.id, cluster_profile(awards=[AWARD]), ref="SJ-001")
    [award] = clients.list_awards(engine, account.id, client.id)
    assert (award.scheme_id, award.amount_fen, award.source) == ("sh-g60/industry-cluster", 500_000_000, "松江区科委")
    [version] = clients.client_versions(engine, account.id, client.id)
    assert "awards" not in json.loads(version.profile_json)
    assert clients.client_document(engine, account.id, client.id)["awards"] == [
        {"scheme_id": "sh-g60/industry-cluster", "amount_yuan": "5000000", "date": "2026-02-01", "source": "松江区科委"}]


def test_every_edit_adds_a_version_and_keeps_the_old_ones(engine, account):
    client = clients.create_client(engine, account.id, cluster_profile(), ref="SJ-002")
    edited = cluster_profile(name="松江集群科技股份有限公司")
    edited.pop("awards")
    second = clients.update_client(engine, account.id, client.id, edited)
    assert second.version == 2
    assert clients.update_client(engine, account.id, client.id, edited) is None  # nothing changed
    history = clients.client_versions(engine, account.id, client.id)
    assert [json.loads(v.profile_json)["enterprise"]["name"] for v in history] == [
        "松江集群科技有限公司", "松江集群科技股份有限公司"]
    assert clients.get_client(engine, account.id, client.id).name == "松江集群科技股份有限公司"


def test_a_profile_with_an_awards_key_replaces_the_recorded_awards_and_one_without_keeps_them(engine, account):
    client = clients.create_client(engine, account.id, cluster_profile(awards=[AWARD]), ref="SJ-003")
    without = cluster_profile()
    without.pop("awards")
    clients.update_client(engine, account.id, client.id, without)
    assert len(clients.list_awards(engine, account.id, client.id)) == 1
    clients.update_client(engine, account.id, client.id, cluster_profile(awards=[]))
    assert clients.list_awards(engine, account.id, client.id) == []


def test_bad_profile_and_unknown_scheme_are_refused_naming_the_field(engine, account):
    broken = cluster_profile()
    broken["enterprise"]["revenue_yuan"] = "-1"
    with pytest.raises(InputError) as bad:
        clients.create_client(engine, account.id, broken)
    assert bad.value.problems[0].path == "$.enterprise.revenue_yuan"
    client = clients.create_client(engine, account.id, cluster_profile())
    with pytest.raises(InputError) as unknown:
        clients.add_award(engine, account.id, client.id, {**AWARD, "scheme_id": "no/such-scheme"})
    problem = unknown.value.problems[0]
    assert problem.path == "$.scheme_id" and "未知" in problem.zh and "unknown scheme" in problem.en
    with pytest.raises(InputError) as negative:
        clients.add_award(engine, account.id, client.id, {**AWARD, "amount_yuan": "-5"})
    assert negative.value.problems[0].path == "$.amount_yuan"
    with pytest.raises(InputError) as control:
        clients.add_award(engine, account.id, client.id, {**AWARD, "source": "区科委\x00"})
    assert control.value.problems[0].path == "$.source" and control.value.problems[0].zh


def test_duplicate_ref_is_refused_within_an_account_but_not_across_accounts(engine, account, other_account):
    clients.create_client(engine, account.id, cluster_profile(), ref="SAME")
    with pytest.raises(StoreError) as duplicate:
        clients.create_client(engine, account.id, guangdong_profile(), ref="SAME")
    assert "已存在" in duplicate.value.zh
    assert clients.create_client(engine, other_account.id, guangdong_profile(), ref="SAME").ref == "SAME"


def test_another_accounts_client_answers_as_not_found_everywhere(engine, account, other_account):
    from datetime import date

    client = clients.create_client(engine, account.id, cluster_profile(awards=[AWARD]))
    award = clients.list_awards(engine, account.id, client.id)[0]
    run = runs.run_client(engine, account.id, client.id, date(2026, 6, 1))
    theirs = other_account.id
    attempts = [
        lambda: clients.get_client(engine, theirs, client.id),
        lambda: clients.update_client(engine, theirs, client.id, cluster_profile()),
        lambda: clients.client_versions(engine, theirs, client.id),
        lambda: clients.client_document(engine, theirs, client.id),
        lambda: clients.list_awards(engine, theirs, client.id),
        lambda: clients.add_award(engine, theirs, client.id, AWARD),
        lambda: clients.remove_award(engine, theirs, client.id, award.id),
        lambda: clients.delete_client(engine, theirs, client.id),
        lambda: runs.run_client(engine, theirs, client.id, date(2026, 6, 1)),
        lambda: runs.list_runs(engine, theirs, client.id),
        lambda: runs.get_run(engine, theirs, run.id),
        lambda: runs.diff_runs(engine, theirs, run.id, run.id),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            attempt()
    assert clients.list_clients(engine, theirs) == []
    assert len(clients.list_awards(engine, account.id, client.id)) == 1  # nothing was changed by the attempts


def test_client_list_searches_name_and_ref_and_shows_latest_totals(engine, account):
    from datetime import date

    cluster = clients.create_client(engine, account.id, cluster_profile(), ref="SJ-100")
    clients.create_client(engine, account.id, guangdong_profile(), ref="GZ-100")
    runs.run_client(engine, account.id, cluster.id, date(2026, 6, 1))
    latest = runs.run_client(engine, account.id, cluster.id, date(2026, 7, 1))
    assert [s.client.ref for s in clients.list_clients(engine, account.id, search="松江")] == ["SJ-100"]
    assert [s.client.ref for s in clients.list_clients(engine, account.id, search="gz-")] == ["GZ-100"]
    assert clients.list_clients(engine, account.id, search="%") == []  # wildcards are literal
    summaries = {s.client.ref: s for s in clients.list_clients(engine, account.id)}
    assert summaries["SJ-100"].latest_run_id == latest.id and summaries["SJ-100"].total_fen == latest.total_fen
    assert summaries["GZ-100"].latest_run_id is None


def test_removing_an_award_and_deleting_a_client(engine, account):
    client = clients.create_client(engine, account.id, cluster_profile(awards=[AWARD]))
    award = clients.list_awards(engine, account.id, client.id)[0]
    clients.remove_award(engine, account.id, client.id, award.id)
    assert clients.list_awards(engine, account.id, client.id) == []
    with pytest.raises(NotFound):
        clients.remove_award(engine, account.id, client.id, award.id)
    clients.delete_client(engine, account.id, client.id)
    with pytest.raises(NotFound):
        clients.get_client(engine, account.id, client.id)
