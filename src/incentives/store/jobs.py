"""Background jobs with a lease: a worker holds a job only while it keeps renewing the lease.

A worker that crashes or is killed stops renewing; `fail_stale_jobs` (run at start-up and before listing jobs)
then marks the job `failed` with the reason and deletes the runs it had written, so a half-finished job never
looks complete. A worker that finds its lease gone (`JobLeaseLost`) stops writing.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlmodel import Session

from .db import read_session, write_session
from .errors import JobLeaseLost, NotFound
from .models import BatchJob, EvaluationRun, utc_now

log = logging.getLogger("incentives.store")
LEASE = timedelta(seconds=60)
ACTIVE = ("queued", "running")


def create_job(engine: Engine, account_id: int, kind: str, as_of: date | None, owner: str,
               now: datetime | None = None) -> BatchJob:
    """A queued job leased to `owner`, which must start it before the lease runs out."""
    now = now or utc_now()
    with write_session(engine) as session:
        job = BatchJob(account_id=account_id, kind=kind, as_of=as_of, status="queued", lease_owner=owner,
                       lease_expires_at=now + LEASE, created_at=now)
        session.add(job)
        session.flush()
        return job


def _held(session: Session, job_id: int, owner: str) -> BatchJob:
    job = session.get(BatchJob, job_id, with_for_update=True)
    if job is None or job.lease_owner != owner or job.status not in ACTIVE:
        raise JobLeaseLost(job_id)
    return job


def start_job(engine: Engine, job_id: int, owner: str, total: int, now: datetime | None = None) -> None:
    now = now or utc_now()
    with write_session(engine) as session:
        job = _held(session, job_id, owner)
        job.status = "running"
        job.progress_total = total
        job.started_at = now
        job.lease_expires_at = now + LEASE


def heartbeat(engine: Engine, job_id: int, owner: str, done: int, evaluated: int, rejected: int,
              session: Session | None = None, now: datetime | None = None) -> None:
    """Record progress and renew the lease; with `session`, inside the caller's transaction (with its writes)."""
    now = now or utc_now()

    def apply(s: Session) -> None:
        job = _held(s, job_id, owner)
        job.progress_done = done
        job.evaluated_count = evaluated
        job.rejected_count = rejected
        job.lease_expires_at = now + LEASE

    if session is not None:
        apply(session)
    else:
        with write_session(engine) as own:
            apply(own)


def renew_lease(engine: Engine, job_id: int, owner: str, now: datetime | None = None) -> None:
    now = now or utc_now()
    with write_session(engine) as session:
        _held(session, job_id, owner).lease_expires_at = now + LEASE


@contextmanager
def kept_alive(engine: Engine, job_id: int, owner: str) -> Iterator[threading.Event]:
    """Renew the job's lease from a side thread while the body runs, however long one step takes.

    The lease then lapses only when the whole process is gone. The event is set if the lease was lost.
    """
    stop, lost = threading.Event(), threading.Event()

    def renew() -> None:
        while not stop.wait(LEASE.total_seconds() / 4):
            try:
                renew_lease(engine, job_id, owner)
            except JobLeaseLost:
                lost.set()
                return
            except Exception:  # noqa: BLE001 - a failed renewal is retried; the lease has slack for three
                log.warning("could not renew the lease of job %s", job_id, exc_info=True)

    thread = threading.Thread(target=renew, name=f"lease-{job_id}", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        stop.set()
        thread.join(timeout=5)


def finish_job(engine: Engine, job_id: int, owner: str, evaluated: int, rejected: int,
               errors: list[dict[str, Any]], result_path: str | None = None, now: datetime | None = None) -> None:
    now = now or utc_now()
    with write_session(engine) as session:
        job = _held(session, job_id, owner)
        job.status = "succeeded"
        job.progress_done = job.progress_total
        job.evaluated_count = evaluated
        job.rejected_count = rejected
        job.error_report = json.dumps(errors, ensure_ascii=False) if errors else None
        job.result_path = result_path
        job.finished_at = now
        job.lease_owner = None
        job.lease_expires_at = None


def _fail(session: Session, job: BatchJob, reason: str, now: datetime) -> None:
    # The runs of an unfinished job are not results: remove them with the failure, in one transaction.
    session.execute(delete(EvaluationRun).where(EvaluationRun.batch_job_id == job.id))
    job.status = "failed"
    job.failure_reason = reason
    job.finished_at = now
    job.lease_owner = None
    job.lease_expires_at = None


def fail_job(engine: Engine, job_id: int, owner: str | None, reason: str, now: datetime | None = None) -> None:
    """Mark the job failed (if `owner` is given, only while that worker still holds it)."""
    now = now or utc_now()
    with write_session(engine) as session:
        job = session.get(BatchJob, job_id, with_for_update=True)
        if job is None or job.status not in ACTIVE or (owner is not None and job.lease_owner != owner):
            return
        _fail(session, job, reason, now)


def fail_stale_jobs(engine: Engine, now: datetime | None = None) -> list[int]:
    """Fail every queued or running job whose lease ran out: its worker is gone. Returns their ids."""
    now = now or utc_now()
    with write_session(engine) as session:
        stale = list(session.scalars(select(BatchJob).where(BatchJob.status.in_(ACTIVE),
                                                            BatchJob.lease_expires_at < now).with_for_update()))
        for job in stale:
            expired = job.lease_expires_at.isoformat(timespec="seconds") if job.lease_expires_at else "?"
            _fail(session, job, f"任务进程已停止（租约于 {expired} 过期），结果未完成，请重新运行 / "
                                f"the worker stopped (lease expired at {expired}); results incomplete, run it again",
                  now)
        return [job.id for job in stale]


def get_job(engine: Engine, account_id: int, job_id: int) -> BatchJob:
    with read_session(engine) as session:
        job = session.get(BatchJob, job_id)
        if job is None or job.account_id != account_id:
            raise NotFound("job")
        return job


def list_jobs(engine: Engine, account_id: int, limit: int = 20) -> list[BatchJob]:
    with read_session(engine) as session:
        return list(session.scalars(select(BatchJob).where(BatchJob.account_id == account_id)
                                    .order_by(BatchJob.id.desc()).limit(limit)))


def job_errors(job: BatchJob) -> list[dict[str, Any]]:
    return json.loads(job.error_report) if job.error_report else []


def release_owner(engine: Engine, owner: str, reason: str) -> None:
    """Fail the jobs an orderly shutting-down process still holds (it will not finish them)."""
    now = utc_now()
    with write_session(engine) as session:
        held = list(session.scalars(select(BatchJob).where(BatchJob.lease_owner == owner,
                                                           BatchJob.status.in_(ACTIVE))))
        for job in held:
            _fail(session, job, reason, now)

