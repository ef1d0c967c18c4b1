"""Re-running the portfolio, and export / import that loses nothing."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store_samples import cluster_profile, guangdong_profile
from incentives.store import clients, portfolio
from incentives.store.db import write_session
from incentives.store.models import ClientVersion

AS_OF = date(2026, 6, 1)


def test_rerun_evaluates_every_client_and_reports_a_broken_one_without_stopping(engine, account):
    good = clients.create_client(engine, account.id, cluster_profile(), ref="P1")
    clients.create_client(engine, account.id, guangdong_profile(), ref="P2")
    broken = clients.create_client(engine, account.id, cluster_profile(name="坏数据"), ref="P3")
    with write_session(engine) as session:  # e.g. a version saved before a validation rule tightened
        version = session.get(ClientVersion, clients.client_versions(engine, account.id, broken.id)[0].id)
        version.profile_json = version.profile_json.replace('"revenue_yuan":"90000000.00"', '"revenue_yuan":"-1"')
    progress = []
    outcome = portfolio.rerun_portfolio(engine, account.id, AS_OF, chunk_size=2,
                                        on_progress=lambda done, total: progress.append((done, total)))
    assert (outcome.evaluated, outcome.rejected) == (2, 1)  # rows in = evaluated + rejected
    [error] = outcome.errors
    assert error["ref"] == "P3" and error["path"] == "$.enterprise.revenue_yuan" and error["zh"] and error["en"]
    assert progress == [(2, 3), (3, 3)]
    latest = {s.client.ref: s.latest_as_of for s in clients.list_clients(engine, account.id)}
    assert latest == {"P1": AS_OF, "P2": AS_OF, "P3": None}
    assert good.id


def test_columnar_scalar_and_worker_process_reruns_store_the_same_results(engine, account):
    from incentives.store import runs

    award = {"scheme_id": "gd/loan-interest-subsidy", "amount_yuan": "19950000", "date": "2026-01-20",
             "unit_id": "boc-fa-2025"}
    clients.create_client(engine, account.id, cluster_profile(awards=[
        {"scheme_id": "sh-g60/industry-cluster", "amount_yuan": "5000000", "date": "2026-02-01"}]), ref="Q1")
    clients.create_client(engine, account.id, guangdong_profile(awards=[award]), ref="Q2")
    clients.create_client(engine, account.id, guangdong_profile(name="无资助的广州企业"), ref="Q3")
    for client_ref in ("songjiang-satellite", "guangzhou-manufacturer"):
        import json

        from incentives.resources import examples_dir

        document = json.loads((examples_dir() / f"{client_ref}.json").read_text(encoding="utf-8"))
        clients.create_client(engine, account.id, document, ref=client_ref)
    portfolio.rerun_portfolio(engine, account.id, AS_OF, columnar=True)
    portfolio.rerun_portfolio(engine, account.id, AS_OF, columnar=False, workers=1)
    portfolio.rerun_portfolio(engine, account.id, AS_OF, columnar=False, workers=2, chunk_size=2)
    for summary in clients.list_clients(engine, account.id):
        client_runs = runs.list_runs(engine, account.id, summary.client.id)
        assert len(client_runs) == 3
        assert len({(r.result_json, r.input_sha256, r.total_fen) for r in client_runs}) == 1, summary.client.ref


def test_export_then_import_into_another_account_loses_nothing(engine, account, other_account):
    client = clients.create_client(engine, account.id, cluster_profile(awards=[
        {"scheme_id": "sh-g60/industry-cluster", "amount_yuan": "1234.56", "date": "2026-01-02", "source": "区科委",
         "unit_id": "cluster-1"}]), ref="E1")
    edited = cluster_profile(name="改名后的企业")
    edited.pop("awards")
    clients.update_client(engine, account.id, client.id, edited)
    clients.create_client(engine, account.id, guangdong_profile(), ref="E2")
    exported = portfolio.export_portfolio(engine, account.id)
    outcome = portfolio.import_portfolio(engine, other_account.id, exported)
    assert (outcome.created, outcome.errors) == (2, [])
    again = portfolio.export_portfolio(engine, other_account.id)
    assert again["clients"] == exported["clients"]
    # importing the same document again changes nothing
    repeat = portfolio.import_portfolio(engine, other_account.id, exported)
    assert (repeat.created, repeat.updated, repeat.unchanged) == (0, 0, 2)


def test_import_reports_a_bad_client_and_loads_the_others(engine, account):
    document = {"format": "incentives-portfolio", "version": 1, "clients": [
        {"ref": "OK", "versions": [{"version": 1, "profile": {k: v for k, v in cluster_profile().items() if k != "awards"}}],
         "awards": []},
        {"ref": "BAD", "versions": [{"version": 1, "profile": {"enterprise": {"name": "x"}}}], "awards": []},
    ]}
    outcome = portfolio.import_portfolio(engine, account.id, document)
    assert outcome.created == 1
    assert {e["ref"] for e in outcome.errors} == {"BAD"}
    assert any(e["path"] == "$.enterprise.region" for e in outcome.errors)


yuan = st.integers(min_value=1, max_value=2_000_000_000).map(lambda f: f"{f // 100}.{f % 100:02d}" if f % 100 else str(f // 100))
award_lists = st.lists(st.fixed_dictionaries(
    {"scheme_id": st.sampled_from(["sh-g60/industry-cluster", "gd/loan-interest-subsidy"]), "amount_yuan": yuan,
     "date": st.dates(date(2020, 1, 1), date(2026, 12, 31)).map(date.isoformat)},
    optional={"source": st.text(st.characters(min_codepoint=32), min_size=1, max_size=20).filter(lambda s: s.strip() == s),
              "unit_id": st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)}), max_size=4)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(awards=award_lists)
def test_any_award_history_survives_the_round_trip(engine, account, other_account, awards):
    import uuid

    ref = f"H{uuid.uuid4().hex[:8]}"
    clients.create_client(engine, account.id, cluster_profile(awards=awards), ref=ref)
    exported = portfolio.export_portfolio(engine, account.id)
    exported["clients"] = [c for c in exported["clients"] if c["ref"] == ref]
    assert portfolio.import_portfolio(engine, other_account.id, exported).errors == []
    back = [c for c in portfolio.export_portfolio(engine, other_account.id)["clients"] if c["ref"] == ref]
    assert back == exported["clients"]
