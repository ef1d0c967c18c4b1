"""Small input files written in tests (the real-program fixtures live in tests/fixtures)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from incentives.batch.readers import ROW, RawInput, _raw_table
from incentives.batch.unit_frames import list_bits

ENTERPRISE_HEADERS = ["企业编号", "企业名称", "统一社会信用代码", "省份", "城市", "区县", "营业收入(元)", "从业人员",
                      "高新技术企业", "所有制"]
GOOD_USCC = "91110000600037341L"


def write_workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for number, row in enumerate(rows):
            for column, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(number, column, value)  # never a formula, even for "=..."
                else:
                    sheet.write(number, column, value)
    workbook.close()
    return path


def enterprise_row(eid: str, **overrides: Any) -> list[Any]:
    row = {"企业编号": eid, "企业名称": f"{eid} 公司", "统一社会信用代码": GOOD_USCC, "省份": "上海市", "城市": "上海市",
           "区县": "松江区", "营业收入(元)": 1_000_000, "从业人员": 50, "高新技术企业": "是", "所有制": "民营"}
    row.update(overrides)
    return [row[h] for h in ENTERPRISE_HEADERS]


def batch_job_in_browser(page: Any, base: str, upload: Path, tmp_path: Path) -> Path:
    """Upload a workbook on /batch, wait for the htmx-polled job to finish, check the counts (one evaluated, one
    rejected) and download the results; returns the saved workbook."""
    page.goto(f"{base}/batch")
    page.set_input_files("#f-file", str(upload))
    page.fill("#f-as_of", "2026-06-01")
    page.click("button[type=submit]")
    page.wait_for_selector("#download", timeout=60_000)
    assert page.inner_text("#count-evaluated") == "1" and page.inner_text("#count-rejected") == "1"
    with page.expect_download() as download:
        page.click("#download")
    saved = tmp_path / "results.xlsx"
    download.value.save_as(saved)
    return saved


def list_mask(column: str, fact: str) -> pl.Expr:
    """A List(String) column as a bit mask, by aggregating inside each list: the plain formulation that the
    engine's OR over list positions (unit_frames.or_positions) must equal."""
    return list_bits(column, fact).fill_null([]).list.eval(pl.element().bitwise_or()).list.first().fill_null(0)


def raw_input(**tables: dict) -> RawInput:
    """Tables as the readers hand them to the checks (CSV-like: every cell as given, rows numbered from 2)."""
    out = {}
    for name, columns in tables.items():
        frame = pl.DataFrame(columns).with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
        out[name] = _raw_table(name, name, frame, list(columns), [])
    return RawInput("csv", out)
