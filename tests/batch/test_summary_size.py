"""汇总 gives each enterprise the size class the SME conditions read (工信部联企业〔2011〕300号), as the single
result's 企业规模 does: a consultant checks it before trusting an SME-only result."""

from __future__ import annotations

import polars as pl
from openpyxl import load_workbook

from incentives.batch.runner import Job, run_batch

from .conftest import AS_OF
from .helpers import ENTERPRISE_HEADERS, enterprise_row, write_workbook

HEADERS = ENTERPRISE_HEADERS + ["行业代码"]


def _clients(tmp_path):
    # manufacturing (C3311): medium from 300 staff and ¥20M revenue; large from 1,000 staff and ¥400M
    return write_workbook(tmp_path / "clients.xlsx", {"企业": [
        HEADERS,
        enterprise_row("E1", 从业人员=300, **{"营业收入(元)": 20_000_000}) + ["C3311"],
        enterprise_row("E2", 从业人员=299, **{"营业收入(元)": 20_000_000}) + ["C3311"],  # one person fewer: small
        enterprise_row("E3", 从业人员=1000, **{"营业收入(元)": 400_000_000}) + ["C3311"],
        enterprise_row("E4", 从业人员=None, **{"营业收入(元)": None}) + ["C3311"],  # the figures cannot decide
        enterprise_row("E5", 省份="火星") + ["C3311"],  # rejected: no size shown
    ]})


def test_the_summary_names_each_enterprises_size_class(tmp_path):
    out = tmp_path / "results"
    run_batch(Job(_clients(tmp_path), out, AS_OF, "csv"))
    summary = pl.read_csv(out / "summary.csv", schema_overrides={"size_class": pl.String})
    assert dict(zip(summary["enterprise_id"], summary["size_class"])) == {
        "E1": "medium", "E2": "small", "E3": "large", "E4": None, "E5": None}


def test_the_workbook_shows_the_size_class_in_chinese_and_says_when_it_is_unknown(tmp_path):
    out = tmp_path / "results.xlsx"
    run_batch(Job(_clients(tmp_path), out, AS_OF, "xlsx"))
    rows = list(load_workbook(out, read_only=True)["汇总"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "企业编号")
    at = rows[header].index("企业规模")
    assert {r[0]: r[at] for r in rows[header + 1:]} == {
        "E1": "中型", "E2": "小型", "E3": "大型", "E4": "未知（规模数据不全）", "E5": None}
