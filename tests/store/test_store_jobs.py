"""A job that crashes or is killed ends `failed` with the reason; its partial runs are never shown as results."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from store_samples import cluster_profile, guangdong_profile
from incentives.store import clients, jobs, portfolio, runs
from incentives.store.errors import JobLeaseLost, NotFound
from incentives.store.models import utc_now

AS_OF = date(2026, 6, 1)


def _two_clients(engine, account):
    clients.create_client(engine, account.id, cluster_profile(), ref="J1")
    clients.create_client(engine, account.id, guangdong_profile(), ref="J2")


def test_portfolio_job_succeeds_with_counts_and_runs(engine, account):
    _two_clients(engine, account)
    job = jobs.create_job(engine, account.id, "rerun_portfolio", AS_OF, owner="w1")
    portfolio.run_portfolio_job(engine, account.id, job.id, "w1", AS_OF, workers=1)
    done = jobs.get_job(engine, account.id, job.id)
    assert (done.status, done.progress_done, done.progress_total, done.evaluated_count, done.rejected_count) == (
        "succeeded", 2, 2, 2, 0)
    assert all(s.latest_as_of == AS_OF for s in clients.list_clients(engine, account.id))


def test_a_crash_inside_the_job_ends_it_failed_with_the_reason_and_no_runs(engine, account, monkeypatch):
    _two_clients(engine, account)
    job = jobs.create_job(engine, account.id, "rerun_portfolio", AS_OF, owner="w1")
    heartbeat = jobs.heartbeat
    beats = []

    def crash_on_second_chunk(*args, **kwargs):
        beats.append(1)
        if len(beats) == 2:
            raise RuntimeError("disk full")
        return heartbeat(*args, **kwargs)

    monkeypatch.setattr(jobs, "heartbeat", crash_on_second_chunk)
    portfolio.run_portfolio_job(engine, account.id, job.id, "w1", AS_OF, workers=1, chunk_size=1)
    failed = jobs.get_job(engine, account.id, job.id)
    assert failed.status == "failed" and "disk full" in failed.failure_reason
    assert len(beats) == 2  # the first chunk's run had been committed, and was removed with the failure
    for summary in clients.list_clients(engine, account.id):
        assert runs.list_runs(engine, account.id, summary.client.id) == []


class _Killed(Exception):
    """Stands for the process dying: nothing after it runs, not even the job's failure handler."""


def _killed_after_first_chunk(done, total):
    raise _Killed


def test_a_killed_worker_is_detected_by_its_stale_lease_and_its_runs_are_removed(engine, account):
    _two_clients(engine, account)
    job = jobs.create_job(engine, account.id, "rerun_portfolio", AS_OF, owner="dead-worker")
    with pytest.raises(_Killed):
        portfolio.rerun_portfolio(engine, account.id, AS_OF, job_id=job.id, owner="dead-worker", workers=1,
                                  chunk_size=1, on_progress=_killed_after_first_chunk)
    running = jobs.get_job(engine, account.id, job.id)
    assert running.status == "running" and running.progress_done == 1
    # While the job runs, its first run is not shown as anyone's latest result.
    assert all(s.latest_run_id is None for s in clients.list_clients(engine, account.id))
    assert jobs.fail_stale_jobs(engine, now=utc_now()) == []  # the lease is still fresh
    assert jobs.fail_stale_jobs(engine, now=utc_now() + jobs.LEASE + timedelta(seconds=1)) == [job.id]
    failed = jobs.get_job(engine, account.id, job.id)
    assert failed.status == "failed" and "lease expired" in failed.failure_reason and "租约" in failed.failure_reason
    assert all(runs.list_runs(engine, account.id, s.client.id) == [] for s in clients.list_clients(engine, account.id))


def test_a_worker_that_lost_its_lease_stops_writing(engine, account):
    _two_clients(engine, account)
    job = jobs.create_job(engine, account.id, "rerun_portfolio", AS_OF, owner="slow")
    jobs.fail_job(engine, job.id, None, "cancelled")
    with pytest.raises(JobLeaseLost):
        portfolio.rerun_portfolio(engine, account.id, AS_OF, job_id=job.id, owner="slow", workers=1)
    assert jobs.get_job(engine, account.id, job.id).status == "failed"


def test_another_accounts_job_answers_as_not_found(engine, account, other_account):
    job = jobs.create_job(engine, account.id, "rerun_portfolio", AS_OF, owner="w")
    with pytest.raises(NotFound):
        jobs.get_job(engine, other_account.id, job.id)
    assert jobs.list_jobs(engine, other_account.id) == []
    assert [j.id for j in jobs.list_jobs(engine, account.id)] == [job.id]


def test_a_live_worker_keeps_its_lease_however_long_a_step_takes(engine, account, monkeypatch):
    import time

    monkeypatch.setattr(jobs, "LEASE", timedelta(seconds=0.4))
    job = jobs.create_job(engine, account.id, "rerun_portfolio", AS_OF, owner="slow-but-alive")
    first = jobs.get_job(engine, account.id, job.id).lease_expires_at
    with jobs.kept_alive(engine, job.id, "slow-but-alive") as lost:
        time.sleep(0.6)  # longer than the lease itself: only the renewals keep it fresh
        assert jobs.fail_stale_jobs(engine) == []
        assert jobs.get_job(engine, account.id, job.id).lease_expires_at > first
        jobs.fail_job(engine, job.id, None, "cancelled by the consultant")
        deadline = time.monotonic() + 5
        while not lost.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lost.is_set()  # the worker learns that it no longer holds the job
