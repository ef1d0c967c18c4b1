"""The batch job page in a real Chromium: which enterprise each listed problem belongs to, the sheet and column
names in the page's language, and what a running job is doing (read, check, evaluate, write)."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest

from incentives.web import batch_jobs, batch_routes
from tests.batch.helpers import ENTERPRISE_HEADERS, enterprise_row, write_workbook

from .conftest import AS_OF

LOAN_HEADERS = ["企业编号", "贷款编号", "本金(元)", "年利率", "发放日", "到期日"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _workbook(tmp_path):
    """E2 has two bad cells (province, revenue), so its faultless loan L2 is not evaluated; loan L1 names an
    unknown enterprise E7; E1's loan L3 has a rate that looks mistyped (a warning, evaluated all the same)."""
    return write_workbook(tmp_path / "客户名单.xlsx", {
        "企业": [ENTERPRISE_HEADERS, enterprise_row("E1"),
                 enterprise_row("E2", **{"省份": "火星", "营业收入(元)": "一百万"})],
        "贷款": [LOAN_HEADERS, ["E7", "L1", 100, "0.03", "2026-01-05", "2027-01-05"],
                 ["E2", "L2", 100, "0.03", "2026-01-05", "2027-01-05"],
                 ["E1", "L3", 1_000_000, "0.45", "2026-01-05", "2027-01-05"]],
    })


def _table(page, table_id: str) -> tuple[list[str], list[dict[str, str]]]:
    """A problem table as the reader sees it: its headings, and each row by heading."""
    headings = [cell.strip() for cell in page.locator(f"#{table_id} th").all_inner_texts()]
    rows = []
    for row in page.locator(f"#{table_id} tr").all()[1:]:
        cells = [cell.strip() for cell in row.locator("td").all_inner_texts()]
        rows.append(dict(zip(headings, cells)))
    return headings, rows


def _in(page, live_server: str, lang: str) -> None:
    page.context.add_cookies([{"name": "lang", "value": lang, "url": live_server}])


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_each_listed_problem_names_its_enterprise_and_english_names_its_sheet_and_column(page, live_server,
                                                                                          tmp_path):
    _in(page, live_server, "zh-CN")
    page.goto(f"{live_server}/batch")
    page.set_input_files("#f-file", str(_workbook(tmp_path)))
    page.fill("#f-as_of", AS_OF)
    page.click("button[type=submit]")
    page.wait_for_selector("#download", timeout=60_000)

    headings, errors = _table(page, "batch-errors")
    assert headings == ["工作表", "行", "企业编号", "列", "值", "原因"]
    assert [(e["工作表"], e["行"], e["企业编号"], e["列"], e["值"]) for e in errors] == [
        ("企业", "3", "E2", "省份", "火星"), ("企业", "3", "E2", "营业收入(元)", "一百万"),
        ("贷款", "2", "E7", "企业编号", "E7")]
    _, skipped = _table(page, "batch-skipped")
    assert [(s["工作表"], s["行"], s["企业编号"]) for s in skipped] == [("贷款", "3", "E2")]
    _, warnings = _table(page, "batch-warnings")
    assert [(w["工作表"], w["行"], w["企业编号"], w["列"], w["值"]) for w in warnings] == [
        ("贷款", "4", "E1", "年利率", "0.45")]

    _in(page, live_server, "en")
    page.reload()
    page.wait_for_selector("#download")
    headings, errors = _table(page, "batch-errors")
    assert headings == ["Sheet", "Row", "Enterprise id", "Column", "Value", "Reason"]
    assert [(e["Sheet"], e["Row"], e["Enterprise id"], e["Column"]) for e in errors] == [
        ("enterprises", "3", "E2", "province"), ("enterprises", "3", "E2", "revenue_yuan"),
        ("loans", "2", "E7", "enterprise_id")]
    _, skipped = _table(page, "batch-skipped")
    assert [(s["Sheet"], s["Enterprise id"], s["Column"]) for s in skipped] == [("loans", "E2", "enterprise_id")]
    _, warnings = _table(page, "batch-warnings")
    assert [(w["Sheet"], w["Enterprise id"], w["Column"]) for w in warnings] == [("loans", "E1", "annual_rate")]
    for table_id in ("batch-errors", "batch-skipped", "batch-warnings"):
        for row in _table(page, table_id)[1]:
            assert not CJK.search(row["Sheet"] + row["Column"]), row
    # the name as written in the workbook is still at hand, on hover
    assert page.locator("#batch-errors td span[title='营业收入(元)']").inner_text() == "revenue_yuan"


def _running_job(status: str = "running", **fields) -> batch_routes.BatchJob:
    """A job of this (live) process, as its worker would have published it."""
    job_id, folder = batch_routes.JOBS.new_folder()
    job = batch_routes.BatchJob(job_id, "四万家客户.xlsx", date(2026, 6, 1), folder,
                                batch_jobs.upload_path(folder, "四万家客户.xlsx"), status=status, **fields)
    batch_jobs.write_status(job)
    return job


def _advance(job: batch_routes.BatchJob, **fields) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    job.heartbeat = time.time()
    batch_jobs.write_status(job)


def _progress(page) -> tuple[str, str | None]:
    """The stage shown, and the progress bar's value (None: a bar that only says work goes on)."""
    return page.inner_text("#job-stage"), page.get_attribute("#job-progress", "value")


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_a_running_job_shows_its_stage_and_counts_enterprises_only_while_evaluating(page, live_server):
    job = _running_job(stage="read", done=0, total=0)
    _in(page, live_server, "zh-CN")
    page.goto(f"{live_server}/batch/jobs/{job.id}")
    assert _progress(page) == ("读取文件", None)
    assert page.locator("#job-count").count() == 0  # no "0 / 40000" standing still while the file is read

    _advance(job, stage="read", total=40_000)  # counted, now checked (the runner reports no stage between)
    page.locator("#job-progress-text", has_text="40,000").wait_for()
    assert _progress(page) == ("读取文件", None)
    assert "共 40,000 家企业" in page.inner_text("#job-progress-text")

    _advance(job, stage="check")  # a stage the runner may report: named, not shown as its code
    page.wait_for_selector("#job-stage[data-stage=check]")
    assert _progress(page) == ("检查数据行", None)

    _advance(job, stage="evaluate", done=12_000)
    page.wait_for_selector("#job-stage[data-stage=evaluate]")
    assert _progress(page) == ("评估", "30")
    assert page.inner_text("#job-count") == "12,000 / 40,000"

    _advance(job, stage="write", done=40_000)  # evaluated: the workbook is being written, which takes a while
    page.wait_for_selector("#job-stage[data-stage=write]")
    assert _progress(page) == ("写出结果工作簿", None)
    assert page.locator("#job-count").count() == 0 and "40,000 / 40,000" not in page.inner_text("#job-status")

    _in(page, live_server, "en")
    page.reload()
    assert _progress(page) == ("Writing the results workbook", None)
    _advance(job, stage="evaluate", done=20_000)
    page.wait_for_selector("#job-stage[data-stage=evaluate]")
    assert _progress(page) == ("Evaluating", "50")
    assert page.inner_text("#job-progress-text") == "Working: Evaluating 20,000 / 40,000 enterprises"

    info = {"counts": {"enterprises_in": 40_000, "evaluated": 40_000, "rejected": 0, "errors": 0}, "notes": [],
            "error_sample": []}
    _advance(job, status="done", stage="write", info=batch_jobs._info_view(info))
    page.wait_for_selector("#download")
    assert page.locator("#job-progress").count() == 0 and page.inner_text("#count-evaluated") == "40000"


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_a_queued_job_says_so_without_a_stage(page, live_server):
    job = _running_job(status="queued")
    _in(page, live_server, "zh-CN")
    page.goto(f"{live_server}/batch/jobs/{job.id}")
    assert page.inner_text("#job-progress-text") == "排队中……" and page.locator("#job-stage").count() == 0
