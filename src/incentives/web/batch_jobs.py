"""Batch jobs of the web app, kept on disk so that every server process sees the same jobs.

Each job is a folder under the jobs directory, named by its unguessable id, holding the upload (under its own
name, until the job ends), the results workbook and `status.json`: state, progress, the summary, the problem and
which process owns the job. The status file is replaced whole (`os.replace`), so a reader sees the old or the new
state, never half of one. The work itself runs on one background thread of the process that accepted the upload;
any process can show its progress and summary and serve its download.

A job whose owning process is gone would otherwise show "running" for ever: the owner refreshes a heartbeat in
the status file while the job is unfinished, and a reader treats the job as failed when the owner's process no
longer exists (same host: pid and process start time) or its heartbeat is too old (another host sharing the
directory).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import secrets
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

log = logging.getLogger("incentives.web.batch")

JOBS_DIR_ENV = "INCENTIVES_WEB_BATCH_DIR"
STATUS_FILE = "status.json"
RESULT_FILE = "results.xlsx"
UPLOAD_DIR = "upload"  # the upload keeps its own name in here, so no name can clash with the job's own files
KEEP_JOBS = 20  # finished jobs (and their result files) kept for download
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 60.0  # a heartbeat this old means the owner is gone (a dozen missed beats: not a slow disk)
PROGRESS_WRITE_SECONDS = 0.25  # progress is published at most this often (each write is a file replace)
ORPHAN_SECONDS = 3600.0  # a folder with no status this long is an upload whose process died mid-request
JOB_ID = re.compile(r"[0-9a-f]{32}")
# batch.validate.KIND_SKIPPED and KIND_WARNING, spelt out: importing them would load the whole engine into every
# process that only shows a job (a test keeps them equal)
SKIPPED_KIND = "skipped"
WARNING_KIND = "warning"
OWNER_DIED = {"zh": "处理该任务的进程已停止，结果未完成，请重新上传",
              "en": "the process running this job stopped; the results are incomplete, upload the file again"}


def jobs_dir() -> Path:
    """Where job folders live: INCENTIVES_WEB_BATCH_DIR, else the per-user runtime directory (XDG_RUNTIME_DIR,
    private to the user and cleared at log-out: these files are transient), else under the store's data dir."""
    configured = os.environ.get(JOBS_DIR_ENV)
    if configured:
        return Path(configured)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "incentives" / "batch-jobs"
    from ..store.db import data_dir

    return data_dir() / "batch-jobs"


def upload_path(folder: Path, name: str) -> Path:
    """Where a job saves its upload (`name`: a base name already made safe), the folder made if need be."""
    uploads = folder / UPLOAD_DIR
    uploads.mkdir(mode=0o700, exist_ok=True)
    return uploads / name


def remove_upload(job: BatchJob) -> None:
    """The upload is deleted once its job ends: the file, and the folder that kept its name apart."""
    job.upload.unlink(missing_ok=True)
    if job.upload.parent.name == UPLOAD_DIR:  # status files written before uploads had their own folder
        shutil.rmtree(job.upload.parent, ignore_errors=True)


def new_job_id() -> str:
    return secrets.token_hex(16)  # 128 random bits: knowing the id is what grants access to a job's results


def _process_start(pid: int) -> str | None:
    """The start time of a process (clock ticks since boot), which tells a reused pid from the original."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22; the name before ")" may hold spaces


_OWNER = {"host": socket.gethostname(), "pid": os.getpid(), "started": _process_start(os.getpid())}


def _this_process() -> dict[str, Any]:
    pid = os.getpid()
    if _OWNER["pid"] != pid:  # a forked worker process: its own identity, not its parent's
        _OWNER.update(pid=pid, started=_process_start(pid))
    return dict(_OWNER)


def _owner_alive(owner: dict[str, Any], heartbeat: float, now: float) -> bool:
    if owner.get("host") == _OWNER["host"] and owner.get("started") is not None:
        started = _process_start(int(owner["pid"]))
        return started == owner["started"]
    return now - heartbeat < STALE_SECONDS


@dataclass
class BatchJob:
    id: str
    filename: str
    as_of: date
    folder: Path
    upload: Path
    status: str = "queued"  # queued / running / done / failed
    stage: str = "read"
    done: int = 0
    total: int = 0
    info: Any = None  # the run's summary once done: counts, notes, error_sample
    problem: dict[str, str] | None = None
    created: float = field(default_factory=time.time)
    owner: dict[str, Any] = field(default_factory=_this_process)
    heartbeat: float = field(default_factory=time.time)

    @property
    def result(self) -> Path:
        return self.folder / RESULT_FILE

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "filename": self.filename, "as_of": self.as_of.isoformat(),
                "upload": self.upload.relative_to(self.folder).as_posix(),
                "status": self.status, "stage": self.stage, "done": self.done, "total": self.total,
                "info": _info_dict(self.info), "problem": self.problem, "created": self.created,
                "owner": self.owner, "heartbeat": self.heartbeat}

    @classmethod
    def from_dict(cls, folder: Path, data: dict[str, Any]) -> BatchJob:
        info = data.get("info")
        return cls(data["id"], data["filename"], date.fromisoformat(data["as_of"]), folder,
                   folder / data["upload"], status=data["status"], stage=data["stage"], done=data["done"],
                   total=data["total"], info=_info_view(info) if info is not None else None,
                   problem=data.get("problem"), created=data["created"], owner=data.get("owner") or {},
                   heartbeat=data.get("heartbeat", data["created"]))


def _info_dict(info: Any) -> dict[str, Any] | None:
    """What the summary screen shows of a batch.writers.RunInfo (or of an already loaded summary)."""
    if info is None:
        return None
    counts = info.counts
    return {"counts": {name: getattr(counts, name) for name in ("enterprises_in", "evaluated", "rejected", "errors", "skipped",
                                                            "warnings")},
            "notes": [list(note) for note in info.notes],
            "error_sample": [dict(error) for error in info.error_sample],
            "money": info.money if isinstance(info.money, dict) else vars(info.money)}


def _info_view(data: dict[str, Any]) -> SimpleNamespace:
    """The stored summary, with its sample of the 错误 sheet split into errors, rows merely not evaluated, and
    warnings (rows evaluated as given that look mistyped)."""
    # None: a job from before these were counted
    counts = SimpleNamespace(**{"skipped": None, "warnings": None, **data["counts"]})
    sample = data["error_sample"]
    # the sheet also lists the fine rows of rejected enterprises and the warnings, neither in counts.errors
    errors = [row for row in sample if row.get("kind") not in (SKIPPED_KIND, WARNING_KIND)]
    skipped = [row for row in sample if row.get("kind") == SKIPPED_KIND]
    warnings = [row for row in sample if row.get("kind") == WARNING_KIND]
    money = data.get("money") or {"confirmed_fen": 0, "potential_fen": 0, "by_scheme": []}  # a job of before
    return SimpleNamespace(counts=counts, notes=[tuple(note) for note in data["notes"]], error_sample=sample,
                           error_rows=errors, skipped_rows=skipped, warning_rows=warnings,
                           all_errors_shown=len(errors) >= counts.errors,
                           money=SimpleNamespace(**money))


FILE_SUFFIXES = (".csv", ".parquet", ".pq")  # a lone table file: the reader takes it as the enterprises table


def with_english_names(sample: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the 错误 sheet's sample, each with `sheet_en` and `column_en`: the table (enterprises /
    projects / loans / awards) and the column's English header, found by the batch reader's own rules for
    sheet, file and header names (readers.py, tables.py). A name the reader would not know is left out, and the
    page shows it as written. Run on the worker, where the reader is loaded anyway."""
    from ..batch.readers import COLUMNS, _normal_header, _table_of, header_index

    def table_of(sheet: str) -> str | None:
        found = _table_of(sheet) or _table_of(Path(sheet).stem)
        if found is None and Path(sheet).suffix.lower() in FILE_SUFFIXES:
            return "enterprises"  # a lone CSV or Parquet file of any name is read as the enterprises table
        return found

    indexes: dict[str, dict[str, tuple[str, bool]]] = {}
    headers_en = {table: {column.name: column.header_en for column in columns} for table, columns in COLUMNS.items()}
    named = []
    for row in sample:
        row = dict(row)
        table = table_of(str(row.get("sheet") or ""))
        if table is not None:
            row["sheet_en"] = table
            index = indexes.setdefault(table, header_index(COLUMNS[table]))
            hit = index.get(_normal_header(row.get("column")))
            if hit is not None:
                name, in_fen = hit
                # a header written as the in-memory name (revenue_fen: amounts in fen) is English as it stands
                row["column_en"] = name if in_fen else headers_en[table][name]
        named.append(row)
    return named


def write_status(job: BatchJob) -> None:
    """Publish the job's state: written beside the status file, then swapped in whole."""
    text = json.dumps(job.as_dict(), ensure_ascii=False, default=str)  # default=str: cell values as shown
    partial = job.folder / f".{STATUS_FILE}.{os.getpid()}.{threading.get_ident()}"
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, job.folder / STATUS_FILE)


def read_status(folder: Path) -> BatchJob | None:
    try:
        data = json.loads((folder / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return BatchJob.from_dict(folder, data)


class BatchQueue:
    """The jobs directory, and this process's one worker thread that runs the jobs it accepted, in order."""

    def __init__(self, root: Path | None = None) -> None:
        self.pending: queue.Queue[BatchJob] = queue.Queue()
        self.active: dict[str, BatchJob] = {}  # this process's unfinished jobs, whose heartbeat it keeps
        self.lock = threading.Lock()  # one writer of a job's status at a time within this process
        self.thread: threading.Thread | None = None
        self.beating: threading.Thread | None = None
        self._root = root
        self._made: Path | None = None  # the root once created (tests may point _root elsewhere)

    @property
    def root(self) -> Path:
        """Made on first use, not when the app is imported; private to the user who runs the server."""
        if self._root is None:
            self._root = jobs_dir()
        if self._made != self._root:
            self._root.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._made = self._root
        return self._root

    def new_folder(self) -> tuple[str, Path]:
        job_id = new_job_id()
        folder = self.root / job_id
        folder.mkdir(mode=0o700)
        return job_id, folder

    def get(self, job_id: str) -> BatchJob | None:
        """The job as any process sees it; an unfinished job whose owner is gone reads as failed."""
        if not JOB_ID.fullmatch(job_id):  # the id names a folder: nothing else may reach the file system
            return None
        folder = self.root / job_id
        job = read_status(folder)
        if job is None or job.finished:
            return job
        if not _owner_alive(job.owner, job.heartbeat, time.time()):
            job.status, job.problem = "failed", OWNER_DIED
            remove_upload(job)
            write_status(job)  # the owner is gone: nobody else will write this job again
        return job

    def submit(self, job: BatchJob) -> None:
        with self.lock:
            self.active[job.id] = job
            write_status(job)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._work, name="batch-worker", daemon=True)
                self.thread.start()
            if self.beating is None or not self.beating.is_alive():
                self.beating = threading.Thread(target=self._beat, name="batch-heartbeat", daemon=True)
                self.beating.start()
        self._forget_old()
        self.pending.put(job)

    def publish(self, job: BatchJob) -> None:
        with self.lock:
            job.heartbeat = time.time()
            write_status(job)
            if job.finished:
                self.active.pop(job.id, None)

    def _beat(self) -> None:
        while True:
            time.sleep(HEARTBEAT_SECONDS)
            with self.lock:
                jobs = list(self.active.values())
            for job in jobs:
                try:
                    self.publish(job)
                except OSError:  # a full or vanished disk: the next beat tries again
                    log.warning("could not refresh the heartbeat of batch job %s", job.id, exc_info=True)

    def _forget_old(self) -> None:
        """Keep the newest KEEP_JOBS finished jobs; remove older ones and long-abandoned half uploads."""
        now = time.time()
        finished: list[BatchJob] = []
        for folder in self.root.iterdir():
            if not JOB_ID.fullmatch(folder.name):
                continue
            job = self.get(folder.name)
            if job is None:
                try:
                    abandoned = now - folder.stat().st_mtime > ORPHAN_SECONDS
                except OSError:
                    continue
                if abandoned:
                    shutil.rmtree(folder, ignore_errors=True)
            elif job.finished:
                finished.append(job)
        finished.sort(key=lambda j: j.created)
        for job in finished[:max(0, len(finished) - KEEP_JOBS)]:
            shutil.rmtree(job.folder, ignore_errors=True)

    def _work(self) -> None:
        while True:
            job = self.pending.get()
            try:
                run_job(job, self)
            finally:
                self.pending.task_done()

    def wait(self, timeout: float = 60) -> None:
        """Block until every job this process queued has finished (for tests)."""
        deadline = time.time() + timeout
        while self.pending.unfinished_tasks and time.time() < deadline:
            time.sleep(0.05)


def run_job(job: BatchJob, jobs: BatchQueue) -> None:
    """Run one job on the worker thread; the upload is deleted whatever happens."""
    from ..batch.readers import UnusableInput
    from ..batch.runner import Job, run_batch

    last_write = 0.0

    def progress(done: int, total: int, stage: str) -> None:
        nonlocal last_write
        changed_stage = stage != job.stage
        job.done, job.total, job.stage = done, total, stage
        if changed_stage or time.monotonic() - last_write >= PROGRESS_WRITE_SECONDS:
            last_write = time.monotonic()
            jobs.publish(job)

    job.status = "running"
    jobs.publish(job)
    try:
        # the results go into the job's own folder, which nothing but this job writes: nothing there to keep
        info = run_batch(Job(job.upload, job.result, job.as_of, "xlsx", force=True), progress=progress)
        try:
            info.error_sample = with_english_names(info.error_sample)  # for the English page
        except Exception:  # the results are written: a slip in naming must not fail the job, only be logged
            log.exception("batch job %s: no English names for its errors", job.id)
        job.info = info
        job.status = "done"
    except UnusableInput as error:
        job.problem = {"zh": error.zh, "en": error.en}
        job.status = "failed"
    except Exception:  # a bug must not kill the worker thread; the visitor gets a message, the log the details
        log.exception("batch job %s failed", job.id)
        job.problem = {"zh": "处理时发生内部错误，已记录", "en": "an internal error occurred; it has been logged"}
        job.status = "failed"
    finally:
        remove_upload(job)
        jobs.publish(job)
