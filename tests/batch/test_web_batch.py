"""/batch in the web app: upload, background job, progress, summary, download; one test in a real Chromium."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from datetime import date

import openpyxl
import pytest
import uvicorn
from fastapi.testclient import TestClient

from incentives.batch import runner
from incentives.web import batch_jobs, batch_routes
from incentives.web.app import create_app
from incentives.web.config import WebSettings

from .conftest import scalar_evaluator
from .helpers import ENTERPRISE_HEADERS, batch_job_in_browser, enterprise_row, write_workbook

CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(autouse=True)
def _scalar_engine(monkeypatch):
    monkeypatch.setattr(runner, "default_evaluator", lambda: scalar_evaluator)


@pytest.fixture(scope="module", autouse=True)
def _jobs_dir(tmp_path_factory):
    """Jobs in a folder of this test run, never in the user's own directory."""
    saved = batch_routes.JOBS._root
    batch_routes.JOBS._root = tmp_path_factory.mktemp("batch-jobs")
    yield batch_routes.JOBS.root
    batch_routes.JOBS._root = saved


@pytest.fixture(scope="module")
def client(_jobs_dir):
    return TestClient(create_app(WebSettings(batch_upload_bytes=200_000)), raise_server_exceptions=False)


def _workbook_bytes(tmp_path) -> bytes:
    path = write_workbook(tmp_path / "clients.xlsx", {
        "企业": [ENTERPRISE_HEADERS, enterprise_row("E1"), enterprise_row("E2", **{"省份": "火星"})],
        "贷款": [["企业编号", "贷款编号", "本金(元)", "年利率", "发放日", "到期日"], ["E7", "L1", 100, "0.03", "2026-01-05", "2027-01-05"]],
    })
    return path.read_bytes()


def _wait(job_id: str) -> batch_routes.BatchJob:
    batch_routes.JOBS.wait(60)
    job = batch_routes.JOBS.get(job_id)  # read back from its status file, as another process would
    assert job is not None
    return job


def test_the_batch_page_offers_upload_and_the_template(client):
    page = client.get("/batch")
    assert page.status_code == 200 and 'action="/batch/upload"' in page.text and "/batch/template.xlsx" in page.text
    template = client.get("/batch/template.xlsx")
    assert template.status_code == 200
    assert "企业" in openpyxl.load_workbook(io.BytesIO(template.content)).sheetnames


def test_an_upload_runs_in_the_background_and_the_workbook_downloads(client, tmp_path):
    response = client.post("/batch/upload", files={"file": ("clients.xlsx", _workbook_bytes(tmp_path))},
                           data={"as_of": "2026-06-01"}, follow_redirects=False)
    assert response.status_code == 303
    job_id = response.headers["location"].rsplit("/", 1)[1]
    job = _wait(job_id)
    assert job.status == "done" and not job.upload.exists()  # the upload is deleted after the job
    fragment = client.get(f"/batch/jobs/{job_id}", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith("<section") and "hx-trigger" not in fragment.text
    assert 'id="count-evaluated">1<' in fragment.text and 'id="count-rejected">1<' in fragment.text
    assert "E7" in fragment.text  # the dangling loan is listed
    result = client.get(f"/batch/jobs/{job_id}/results.xlsx")
    assert result.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(result.content)).sheetnames == ["汇总", "明细", "待确认", "错误"]


def _running_job(**owner) -> batch_routes.BatchJob:
    job_id, folder = batch_routes.JOBS.new_folder()
    job = batch_routes.BatchJob(job_id, "a.xlsx", date(2026, 6, 1), folder, folder / "upload.xlsx",
                                status="running", done=5, total=10)
    job.owner.update(owner)
    job.upload.write_bytes(b"rows")
    batch_jobs.write_status(job)
    return job


def test_a_running_job_polls_with_htmx(client):
    job = _running_job()  # owned by this (live) process
    fragment = client.get(f"/batch/jobs/{job.id}", headers={"HX-Request": "true"}).text
    assert 'hx-trigger="every 1s"' in fragment and 'value="50"' in fragment


def test_a_job_whose_process_died_shows_as_failed(client):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    job = _running_job(pid=dead.pid, started=batch_jobs._process_start(os.getpid()))
    fragment = client.get(f"/batch/jobs/{job.id}", headers={"HX-Request": "true"}).text
    assert "hx-trigger" not in fragment and 'data-status="failed"' in fragment and "进程已停止" in fragment
    assert not job.upload.exists() and batch_jobs.read_status(job.folder).status == "failed"


def test_a_job_on_another_host_fails_only_when_its_heartbeat_is_stale(client):
    fresh = _running_job(host="elsewhere")
    stale = _running_job(host="elsewhere")
    stale.heartbeat -= batch_jobs.STALE_SECONDS + 1
    batch_jobs.write_status(stale)
    assert batch_routes.JOBS.get(fresh.id).status == "running"
    assert batch_routes.JOBS.get(stale.id).status == "failed"


def test_job_ids_are_unguessable_and_never_reach_outside_the_jobs_folder(client):
    ids = {batch_jobs.new_job_id() for _ in range(100)}
    assert len(ids) == 100 and all(batch_jobs.JOB_ID.fullmatch(i) for i in ids)
    for probe in ("%2e%2e", "%2e%2e%2f" + "0" * 32, "x" * 32, "0" * 31, "0" * 32):  # bad, foreign, missing
        assert client.get(f"/batch/jobs/{probe}").status_code == 404


def test_only_the_newest_finished_jobs_are_kept(client, monkeypatch):
    monkeypatch.setattr(batch_jobs, "KEEP_JOBS", 2)
    root = batch_routes.JOBS.root
    made = []
    for n in range(4):
        job_id, folder = batch_routes.JOBS.new_folder()
        job = batch_routes.BatchJob(job_id, "a.xlsx", date(2026, 6, 1), folder, folder / "upload.xlsx",
                                    status="done", created=1_000_000 + n)
        batch_jobs.write_status(job)
        made.append(job_id)
    running = _running_job()
    batch_routes.JOBS._forget_old()
    kept = {p.name for p in root.iterdir()}
    assert made[0] not in kept and made[1] not in kept and running.id in kept
    finished_kept = [j for j in kept if batch_routes.JOBS.get(j).finished]
    assert len(finished_kept) == 2


def test_an_upload_over_the_limit_gets_a_clear_error(client):
    response = client.post("/batch/upload", files={"file": ("big.xlsx", b"x" * 300_000)})
    assert response.status_code == 413
    assert "200,000" in response.text or "0.19" in response.text


def test_an_unsupported_file_type_is_refused(client):
    response = client.post("/batch/upload", files={"file": ("notes.txt", b"hello")})
    assert response.status_code == 400 and "不支持的文件类型" in response.text


def test_an_unusable_workbook_fails_the_job_with_a_message(client):
    response = client.post("/batch/upload", files={"file": ("broken.xlsx", b"not a workbook")},
                           data={"as_of": "2026-06-01"}, follow_redirects=False)
    job = _wait(response.headers["location"].rsplit("/", 1)[1])
    assert job.status == "failed" and "Excel" in job.problem["en"] and not job.upload.exists()


@pytest.fixture(scope="session")
def live_server():
    app = create_app()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_a_consultant_uploads_a_workbook_and_downloads_the_results(page, live_server, tmp_path):
    upload = tmp_path / "clients.xlsx"
    upload.write_bytes(_workbook_bytes(tmp_path))
    saved = batch_job_in_browser(page, live_server, upload, tmp_path)
    assert openpyxl.load_workbook(saved).sheetnames[0] == "汇总"
