"""A real `incentives serve --workers 2`: a batch job accepted by one worker is polled and downloaded through
whichever worker the kernel hands each connection to, and every answer is the same job."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openpyxl
import pytest

from incentives.web.serving import default_workers
from tests.batch.helpers import ENTERPRISE_HEADERS, batch_job_in_browser, enterprise_row, write_workbook

CLI = Path(sys.executable).with_name("incentives")
POLLS = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    # a new connection per request (urllib does not keep connections alive), so the workers share the polls
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _post_file(url: str, name: str, data: bytes, fields: dict[str, str]) -> urllib.request.Request:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
             for key, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return urllib.request.Request(url, data=body, method="POST",
                                  headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _workers(pid: int) -> set[int]:
    """The uvicorn worker processes under the server (not multiprocessing's resource tracker)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == pid and b"spawn_main" in command:
                found.add(int(entry.name))
    return found


def _bytes_written(pid: int) -> int:
    """What a process has written so far (its responses, mostly): tells which workers answered."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise AssertionError(f"no wchar for {pid}")


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    jobs = tmp_path_factory.mktemp("jobs")
    port = _free_port()
    environment = {**os.environ, "INCENTIVES_WEB_BATCH_DIR": str(jobs),
                   "INCENTIVES_DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.db'}"}
    environment.pop("INCENTIVES_WEB_WORKERS", None)
    server = subprocess.Popen([str(CLI), "serve", "--workers", "2", "--port", str(port)], env=environment,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, server.stderr.read().decode(errors="replace")
        assert time.monotonic() < deadline, "incentives serve did not start"
        try:
            if _get(f"{base}/api/v1/schemes")[0] == 200 and len(_workers(server.pid)) == 2:
                break
        except OSError:
            pass
        time.sleep(0.05)
    yield base, jobs, server
    server.terminate()
    server.wait(timeout=20)


def test_the_default_is_one_worker_per_cpu_capped_at_two(monkeypatch):
    monkeypatch.delenv("INCENTIVES_WEB_WORKERS", raising=False)
    assert default_workers() == max(1, min(2, os.cpu_count() or 1))
    monkeypatch.setenv("INCENTIVES_WEB_WORKERS", "1")
    assert default_workers() == 1


def test_one_worker_runs_the_app_in_this_process_and_several_build_it_in_each_worker(monkeypatch):
    import uvicorn
    from fastapi import FastAPI

    from incentives.web import serving

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kwargs: calls.append((target, kwargs)))
    serving.serve(workers=1)
    serving.serve(workers=2)
    assert isinstance(calls[0][0], FastAPI) and "workers" not in calls[0][1]
    assert calls[1][0] == "incentives.web.app:create_served_app" and calls[1][1]["factory"] is True
    assert calls[1][1]["workers"] == 2


def test_the_supervising_process_does_not_import_the_app():
    probe = "import sys, incentives.cli, incentives.web.serving; print('fastapi' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def _sockets(pid: int) -> int:
    return sum(1 for fd in Path(f"/proc/{pid}/fd").iterdir() if os.readlink(fd).startswith("socket:"))


def test_a_burst_of_new_connections_is_shared_between_the_workers(two_workers):
    # asyncio's loop takes every pending connection when woken, so without the one-per-wake-up loop a burst
    # like a load generator's start lands on one worker and the other idles
    base, _, server = two_workers
    workers = sorted(_workers(server.pid))
    before = {pid: _sockets(pid) for pid in workers}
    port = int(base.rsplit(":", 1)[1])
    connections = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(16)]
    try:
        for connection in connections:
            connection.sendall(b"GET /api/v1/rate?tool=psl&on=2026-06-01 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for connection in connections:  # every connection answered, so every one has been accepted
            assert connection.recv(64).startswith(b"HTTP/1.1 200")
        held = {pid: _sockets(pid) - before[pid] for pid in workers}
    finally:
        for connection in connections:
            connection.close()
    assert sum(held.values()) == 16, held
    assert min(held.values()) >= 4, held


@pytest.mark.slow
def test_a_batch_job_is_polled_and_downloaded_through_both_workers(two_workers, tmp_path):
    base, jobs, server = two_workers
    workers = _workers(server.pid)
    written = {pid: _bytes_written(pid) for pid in workers}
    workbook = write_workbook(tmp_path / "clients.xlsx", {
        "企业": [ENTERPRISE_HEADERS, enterprise_row("E1"), enterprise_row("E2", **{"省份": "火星"})]}).read_bytes()
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(_post_file(f"{base}/batch/upload", "clients.xlsx", workbook, {"as_of": "2026-06-01"}), timeout=30)
        raise AssertionError("the upload should redirect to its job")
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 303
        location = redirect.headers["Location"]
    job_id = location.rsplit("/", 1)[1]
    status = json.loads((jobs / job_id / "status.json").read_text(encoding="utf-8"))
    assert status["owner"]["pid"] in workers  # a worker, not the supervisor, runs the job

    deadline = time.monotonic() + 60
    fragments: list[str] = []
    while True:
        with ThreadPoolExecutor(4) as pool:  # concurrent connections, so that both workers are busy answering
            answers = list(pool.map(lambda _: _get(f"{base}{location}"), range(4)))
        assert all(code == 200 for code, _ in answers), [code for code, _ in answers]
        fragments += [body.decode() for _, body in answers]
        if all('data-status="done"' in f for f in fragments[-4:]) and len(fragments) >= POLLS:
            break
        assert time.monotonic() < deadline, fragments[-1]
        assert not any('data-status="failed"' in f for f in fragments), fragments[-1]
    done = fragments[-1]
    assert re.search(r'id="count-evaluated">1<', done) and re.search(r'id="count-rejected">1<', done)

    for _ in range(6):  # the download, from whichever worker answers
        code, body = _get(f"{base}/batch/jobs/{job_id}/results.xlsx")
        assert code == 200
        assert openpyxl.load_workbook(io.BytesIO(body)).sheetnames == ["汇总", "明细", "待确认", "错误"]
    assert not list((jobs / job_id).glob("upload*"))  # the upload is deleted after the job
    assert _workers(server.pid) == workers  # no worker died and was replaced on the way
    # both workers answered polls (an idle worker writes a few bytes of supervisor pings, a poll answer ~1 KB)
    answered = {pid: _bytes_written(pid) - written[pid] for pid in workers}
    assert all(count > 4 * 1024 for count in answered.values()), answered


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_in_chromium_the_htmx_progress_and_download_work_across_workers(page, two_workers, tmp_path):
    base, _, _ = two_workers
    upload = write_workbook(tmp_path / "clients.xlsx", {
        "企业": [ENTERPRISE_HEADERS, enterprise_row("E1"), enterprise_row("E2", **{"省份": "火星"})]})
    saved = batch_job_in_browser(page, base, upload, tmp_path)
    assert openpyxl.load_workbook(saved).sheetnames[0] == "汇总"
