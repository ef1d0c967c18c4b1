"""/batch: upload a workbook (or CSV / Parquet / zip), watch it run, download the explained workbook.

A job runs on one background worker thread, never in the request: the upload is saved, queued, and the page
polls the job's status with htmx (or a plain link without JavaScript). The uploaded file is deleted as soon as
its job ends; the results workbook is kept for download until newer jobs push it out. Jobs live on disk
(batch_jobs), so with several server processes any of them answers the polls and the download.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from .batch_jobs import KEEP_JOBS, BatchJob, BatchQueue, upload_path
from ..dates import written_as_iso_day
from .config import DEFAULT_BATCH_UPLOAD_BYTES, readable_size
from .labels import N_
from .rendering import add_nav_link, render
from .upload_names import safe_upload_name

router = APIRouter(prefix="/batch", include_in_schema=False)
add_nav_link("/batch", N_("Batch"))

ACCEPTED_SUFFIXES = (".xlsx", ".csv", ".parquet", ".zip")
CHUNK_BYTES = 1 << 20
RESULT_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
__all__ = ["JOBS", "KEEP_JOBS", "BatchJob", "router"]

JOBS = BatchQueue()

# what a running job is doing, by the stage runner.run_batch reports to its progress callback (the command line's
# progress bar names the same stages); a job says "read" until the runner's first report
STAGES = {"read": N_("Reading the file"), "check": N_("Checking the rows"),
          "partition": N_("Splitting the input by enterprise"), "evaluate": N_("Evaluating"),
          "write": N_("Writing the results workbook")}
COUNTED_STAGE = "evaluate"  # the one stage whose progress is counted in enterprises


def _upload_limit(request: Request) -> int:
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "batch_upload_bytes", DEFAULT_BATCH_UPLOAD_BYTES)


def _page(request: Request, problem: dict[str, str] | None = None, status_code: int = 200) -> Response:
    limit = readable_size(_upload_limit(request))
    return render(request, "batch.html", {"job": None, "problem": problem, "limit": limit,
                                          "accepted": ", ".join(ACCEPTED_SUFFIXES)}, status_code=status_code)




def too_large_problem(limit: int) -> dict[str, str]:
    """Why an upload was refused for its size: the limit, as the form states it, and what to do instead."""
    size = readable_size(limit)
    return {"zh": f"文件过大：批量评估的上传上限为 {size}。请把客户名单拆成几个较小的文件分别上传，"
                  f"或把 CSV 文件压缩成 .zip 后上传。",
            "en": f"File too large: batch uploads are limited to {size}. Split the client list into smaller files "
                  f"and upload them one at a time, or upload CSV files compressed into a .zip."}


def too_large_page(request: Request, limit: int | None = None) -> Response:
    """The batch form again (413), saying the upload was over the limit (by default the app's batch limit).

    The edge middleware refuses an over-limit body before any route reads it, so it is the one meant to answer
    /batch/upload with this page instead of its generic error page; the upload route answers with it too when
    it finds the file itself over the limit."""
    return _page(request, too_large_problem(_upload_limit(request) if limit is None else limit), status_code=413)


def _date_problem(text: str) -> dict[str, str]:
    """Why an evaluation date was refused: 2026-02-30 has the right form, so the form is not what to fix."""
    if written_as_iso_day(text):
        return {"zh": f"评估日 {text} 不是真实存在的日期（格式 YYYY-MM-DD 无误，但没有这一天）",
                "en": f"the evaluation date {text} is not a real date (the YYYY-MM-DD form is right, but there is "
                      "no such day)"}
    return {"zh": "评估日须为 YYYY-MM-DD", "en": "the evaluation date must be YYYY-MM-DD"}


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
    name = safe_upload_name(file.filename or "")
    suffix = Path(name).suffix.lower()
    if suffix == ".xls":  # the same advice as the command line's
        return _page(request, {"zh": "不支持旧版 .xls 工作簿，请在表格软件中另存为 .xlsx 后再上传",
                               "en": "old .xls workbooks are not read; save it as .xlsx in your spreadsheet program "
                                     "and upload that"}, status_code=400)
    if suffix not in ACCEPTED_SUFFIXES:
        return _page(request, {"zh": f"不支持的文件类型“{suffix or name}”，请上传 {', '.join(ACCEPTED_SUFFIXES)}",
                               "en": f"unsupported file type '{suffix or name}'; upload {', '.join(ACCEPTED_SUFFIXES)}"},
                     status_code=400)
    try:
        evaluation_date = date.fromisoformat(as_of) if as_of else date.today()  # today, read at the edge
    except ValueError:
        return _page(request, _date_problem(as_of), status_code=400)
    job_id, folder = JOBS.new_folder()
    target = upload_path(folder, name)
    limit = _upload_limit(request)
    written = 0
    with open(target, "wb") as sink:
        while chunk := await file.read(CHUNK_BYTES):
            written += len(chunk)
            if written > limit:
                sink.close()
                shutil.rmtree(folder, ignore_errors=True)
                return too_large_page(request, limit)
            sink.write(chunk)
    if written == 0:
        shutil.rmtree(folder, ignore_errors=True)
        return _page(request, {"zh": "上传的文件是空的", "en": "the uploaded file is empty"}, status_code=400)
    JOBS.submit(BatchJob(job_id, name, evaluation_date, folder, target))
    return RedirectResponse(f"/batch/jobs/{job_id}", status_code=303)


def _job(job_id: str) -> BatchJob:
    job = JOBS.get(job_id)
    if job is None:
        raise HTTPException(404)
    return job


@router.get("/jobs/{job_id}")
async def job_page(request: Request, job_id: str) -> Response:
    job = _job(job_id)
    return render(request, "batch.html", {"job": job, "problem": None, "stages": STAGES,
                                          "counted_stage": COUNTED_STAGE}, block="job_status")


@router.get("/jobs/{job_id}/results.xlsx")
async def job_result(job_id: str) -> Response:
    job = _job(job_id)
    if job.status != "done" or not job.result.is_file():
        raise HTTPException(404)
    stem = Path(job.filename).stem or "batch"
    return FileResponse(job.result, media_type=RESULT_MEDIA_TYPE, filename=f"{stem}-results.xlsx")
