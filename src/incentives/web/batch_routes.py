"""/batch: upload a workbook (or CSV / Parquet / zip), watch it run, download the explained workbook.

A job runs on one background worker thread, never in the request: the upload is saved, queued, and the page
polls the job's status with htmx (or a plain link without JavaScript). The uploaded file is deleted as soon as
its job ends; the results workbook is kept for download until newer jobs push it out.
"""

from __future__ import annotations

import logging
import queue
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from .config import DEFAULT_BATCH_UPLOAD_BYTES
from .labels import N_
from .rendering import add_nav_link, render

log = logging.getLogger("incentives.web.batch")
router = APIRouter(prefix="/batch", include_in_schema=False)
add_nav_link("/batch", N_("Batch"))

ACCEPTED_SUFFIXES = (".xlsx", ".csv", ".parquet", ".zip")
KEEP_JOBS = 20  # finished jobs (and their result files) kept for download
CHUNK_BYTES = 1 << 20
RESULT_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    info: Any = None  # batch.writers.RunInfo once done
    problem: dict[str, str] | None = None
    created: float = field(default_factory=time.time)

    @property
    def result(self) -> Path:
        return self.folder / "results.xlsx"

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return int(100 * self.done / self.total) if self.total else 0


class BatchQueue:
    """Jobs by id, and the one worker thread that runs them in order."""

    def __init__(self) -> None:
        self.jobs: dict[str, BatchJob] = {}
        self.pending: queue.Queue[BatchJob] = queue.Queue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self._root: Path | None = None

    @property
    def root(self) -> Path:
        """Where uploads and results live; made on first use, not when the app is imported."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="incentives-web-batch-"))
        return self._root

    def submit(self, job: BatchJob) -> None:
        with self.lock:
            self.jobs[job.id] = job
            self._forget_old()
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._work, name="batch-worker", daemon=True)
                self.thread.start()
        self.pending.put(job)

    def _forget_old(self) -> None:
        finished = sorted((j for j in self.jobs.values() if j.finished), key=lambda j: j.created)
        for job in finished[:max(0, len(finished) - KEEP_JOBS)]:
            shutil.rmtree(job.folder, ignore_errors=True)
            del self.jobs[job.id]

    def _work(self) -> None:
        while True:
            job = self.pending.get()
            try:
                run_job(job)
            finally:
                self.pending.task_done()

    def wait(self, timeout: float = 60) -> None:
        """Block until every queued job has finished (for tests)."""
        deadline = time.time() + timeout
        while self.pending.unfinished_tasks and time.time() < deadline:
            time.sleep(0.05)


def run_job(job: BatchJob) -> None:
    """Run one job on the worker thread; the upload is deleted whatever happens."""
    from ..batch.readers import UnusableInput
    from ..batch.runner import Job, run_batch

    def progress(done: int, total: int, stage: str) -> None:
        job.done, job.total, job.stage = done, total, stage

    job.status = "running"
    try:
        job.info = run_batch(Job(job.upload, job.result, job.as_of, "xlsx"), progress=progress)
        job.status = "done"
    except UnusableInput as error:
        job.problem = {"zh": error.zh, "en": error.en}
        job.status = "failed"
    except Exception:  # a bug must not kill the worker thread; the visitor gets a message, the log the details
        log.exception("batch job %s failed", job.id)
        job.problem = {"zh": "处理时发生内部错误，已记录", "en": "an internal error occurred; it has been logged"}
        job.status = "failed"
    finally:
        job.upload.unlink(missing_ok=True)


JOBS = BatchQueue()


def _upload_limit(request: Request) -> int:
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "batch_upload_bytes", DEFAULT_BATCH_UPLOAD_BYTES)


def _page(request: Request, problem: dict[str, str] | None = None, status_code: int = 200) -> Response:
    limit = _upload_limit(request)
    return render(request, "batch.html", {"job": None, "problem": problem, "limit_mb": f"{limit / 1_048_576:g}",
                                          "accepted": ", ".join(ACCEPTED_SUFFIXES)}, status_code=status_code)


@router.get("")
async def batch_page(request: Request) -> Response:
    return _page(request)


@router.get("/template.xlsx")
async def template_download() -> Response:
    from ..batch.template import template_bytes

    return Response(template_bytes(), media_type=RESULT_MEDIA_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="batch-template.xlsx"'})


@router.post("/upload")
async def upload(request: Request, file: UploadFile, as_of: str = Form("")) -> Response:
    name = file.filename or ""
    suffix = Path(name).suffix.lower()
    if suffix not in ACCEPTED_SUFFIXES:
        return _page(request, {"zh": f"不支持的文件类型“{suffix or name}”，请上传 {', '.join(ACCEPTED_SUFFIXES)}",
                               "en": f"unsupported file type '{suffix or name}'; upload {', '.join(ACCEPTED_SUFFIXES)}"},
                     status_code=400)
    try:
        evaluation_date = date.fromisoformat(as_of) if as_of else date.today()  # today, read at the edge
    except ValueError:
        return _page(request, {"zh": "评估日须为 YYYY-MM-DD", "en": "the evaluation date must be YYYY-MM-DD"},
                     status_code=400)
    job_id = uuid.uuid4().hex
    folder = JOBS.root / job_id
    folder.mkdir(parents=True)
    target = folder / f"upload{suffix}"
    limit = _upload_limit(request)
    written = 0
    with open(target, "wb") as sink:
        while chunk := await file.read(CHUNK_BYTES):
            written += len(chunk)
            if written > limit:
                sink.close()
                shutil.rmtree(folder, ignore_errors=True)
                mb = f"{limit / 1_048_576:g}"
                return _page(request, {"zh": f"文件过大：上限为 {mb} MB", "en": f"file too large: the limit is {mb} MB"},
                             status_code=413)
            sink.write(chunk)
    if written == 0:
        shutil.rmtree(folder, ignore_errors=True)
        return _page(request, {"zh": "上传的文件是空的", "en": "the uploaded file is empty"}, status_code=400)
    JOBS.submit(BatchJob(job_id, Path(name).name[:200], evaluation_date, folder, target))
    return RedirectResponse(f"/batch/jobs/{job_id}", status_code=303)


def _job(job_id: str) -> BatchJob:
    job = JOBS.jobs.get(job_id)
    if job is None:
        raise HTTPException(404)
    return job


@router.get("/jobs/{job_id}")
async def job_page(request: Request, job_id: str) -> Response:
    job = _job(job_id)
    return render(request, "batch.html", {"job": job, "problem": None}, block="job_status")


@router.get("/jobs/{job_id}/results.xlsx")
async def job_result(job_id: str) -> Response:
    job = _job(job_id)
    if job.status != "done" or not job.result.is_file():
        raise HTTPException(404)
    stem = Path(job.filename).stem or "batch"
    return FileResponse(job.result, media_type=RESULT_MEDIA_TYPE, filename=f"{stem}-results.xlsx")
