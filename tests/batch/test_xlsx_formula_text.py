"""Text that looks like a formula, in the workbook: kept as typed, in a cell marked quotePrefix (the spreadsheet's
"text typed after a quote" flag), never with an apostrophe added to the text itself. CSV, which has no cell
types, keeps the apostrophe; Parquet keeps the text as given."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import zipfile
from xml.etree import ElementTree

import openpyxl
import polars as pl
import pytest

from incentives.batch import runner
from incentives.batch.runner import Job, run_batch
from incentives.batch.xlsx import INT, MONEY, TEXT, Col, XlsxBook

from .conftest import AS_OF, scalar_evaluator
from .helpers import ENTERPRISE_HEADERS, enterprise_row, write_workbook

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
RISKY_NAMES = ["+86 广州贸易有限公司", "-负号科技", "@SUM(A1:A2) 测试公司", '=HYPERLINK("http://example.com","点击")',
               "=1+1"]
RISKY_ID = "=E3"


def _frame() -> pl.DataFrame:
    names = [*RISKY_NAMES, "普通科技有限公司", None, "-5000000"]  # a signed number is not a formula
    n = len(names)
    return pl.DataFrame({
        "enterprise_id": [RISKY_ID, *(f"E{i}" for i in range(1, n))],
        "name": names,
        "amount_fen": [123_456, None, -500, *range(n - 3)],
        "count": list(range(n)),
        "scheme": pl.Series([f"s{i % 2}" if i != 2 else "=s" for i in range(n)]).cast(pl.Categorical),
    })


COLUMNS = [Col("enterprise_id", "企业编号", TEXT), Col("name", "企业名称", TEXT, 28),
           Col("amount_fen", "金额(元)", MONEY), Col("count", "项数", INT), Col("scheme", "=方案", TEXT)]


def _book(path, frames=None):
    book = XlsxBook(path)
    sheet = book.sheet("汇总", COLUMNS, [["输入 / input", "=input.xlsx"]])
    for frame in frames or [_frame()]:
        sheet.append(frame)
    sheet.finish()
    book.close()
    return path


def _quoted_styles(archive: zipfile.ZipFile) -> set[int]:
    styles = ElementTree.fromstring(archive.read("xl/styles.xml"))
    xfs = styles.find("m:cellXfs", NS).findall("m:xf", NS)
    assert int(styles.find("m:cellXfs", NS).get("count")) == len(xfs)
    return {i for i, xf in enumerate(xfs) if xf.get("quotePrefix") == "1"}


def _cells(archive: zipfile.ZipFile) -> dict[str, tuple[str, int]]:
    """Cell reference -> (its text, for a shared string, else its value; its style index)."""
    strings = [si.find("m:t", NS).text for si in
               ElementTree.fromstring(archive.read("xl/sharedStrings.xml")).findall("m:si", NS)]
    sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    cells = {}
    for cell in sheet.iter(f"{{{NS['m']}}}c"):
        value = cell.find("m:v", NS).text
        cells[cell.get("r")] = (strings[int(value)] if cell.get("t") == "s" else value, int(cell.get("s", 0)))
    return cells


def test_the_xml_keeps_the_text_and_marks_the_cell_quote_prefixed(tmp_path):
    archive = zipfile.ZipFile(_book(tmp_path / "out.xlsx"))
    quoted = _quoted_styles(archive)
    cells = _cells(archive)
    strings = archive.read("xl/sharedStrings.xml").decode()
    assert RISKY_ID in [text for text, _ in cells.values()] and "'=" not in strings and "'+" not in strings
    risky = {RISKY_ID, *RISKY_NAMES, "=s", "=input.xlsx", "=方案"}
    for ref, (text, style) in cells.items():
        assert (style in quoted) == (text in risky), (ref, text)
    assert {text for text, _ in cells.values()} >= risky | {"-5000000"}
    # the header and title cells stay bold with the flag, the amounts keep the yuan format
    styles = ElementTree.fromstring(archive.read("xl/styles.xml"))
    xfs = styles.find("m:cellXfs", NS).findall("m:xf", NS)
    header, title = cells["E2"][1], cells["B1"][1]
    assert xfs[header].get("fontId") == xfs[cells["A2"][1]].get("fontId") == "1"
    assert xfs[title].get("fontId") == xfs[cells["A1"][1]].get("fontId") == "1"
    money = {xfs[cells[f"C{row}"][1]].get("numFmtId") for row in (3, 5)}
    formats = {f.get("numFmtId"): f.get("formatCode") for f in styles.find("m:numFmts", NS)}
    assert len(money) == 1 and "¥" in formats[money.pop()]
    # only cells that need it carry a style: the others are written as before, without one
    sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert '<c r="A4" t="s"><v>' in sheet and '<c r="D3"><v>0</v></c>' in sheet


def test_openpyxl_reads_back_the_original_text(tmp_path):
    sheet = openpyxl.load_workbook(_book(tmp_path / "out.xlsx"))["汇总"]
    frame = _frame()
    for row, (eid, name, fen, scheme) in enumerate(frame.select("enterprise_id", "name", "amount_fen",
                                                                "scheme").iter_rows(), start=3):
        assert sheet.cell(row, 1).value == eid and sheet.cell(row, 2).value == name
        assert sheet.cell(row, 5).value == scheme and sheet.cell(row, 2).data_type in ("s", "n")
        assert sheet.cell(row, 2).quotePrefix == (name in RISKY_NAMES)
        assert sheet.cell(row, 1).quotePrefix == (eid == RISKY_ID)
        if fen is not None:
            assert sheet.cell(row, 3).value * 100 == pytest.approx(fen) and "¥" in sheet.cell(row, 3).number_format
    assert sheet["B1"].value == "=input.xlsx" and sheet["B1"].quotePrefix and sheet["B1"].font.b
    assert sheet["E2"].value == "=方案" and sheet["E2"].quotePrefix and sheet["E2"].font.b
    assert sheet["A2"].font.b and not sheet["A2"].quotePrefix


def test_chunks_with_and_without_such_text_go_in_one_sheet(tmp_path):
    """Whether a column's cells carry their style is decided per chunk appended."""
    frame = _frame()
    plain = frame.filter(pl.col("name") == "普通科技有限公司").with_columns(pl.lit("E9").alias("enterprise_id"),
                                                                            pl.lit("s0").cast(pl.Categorical)
                                                                            .alias("scheme"))
    sheet = openpyxl.load_workbook(_book(tmp_path / "out.xlsx", [plain, frame, plain]))["汇总"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [row[1] for row in rows] == ["普通科技有限公司", *frame["name"], "普通科技有限公司"]
    assert [sheet.cell(r, 2).quotePrefix for r in range(3, 3 + len(rows))] == \
           [False, *(name in RISKY_NAMES for name in frame["name"]), False]


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(_soffice() is None, reason="LibreOffice is not installed")
def test_libreoffice_shows_the_text_without_an_apostrophe_and_does_not_compute_it(tmp_path):
    workbook = _book(tmp_path / "out.xlsx")
    profile = tmp_path / "lo-profile"  # a profile of its own: another LibreOffice running does not interfere
    subprocess.run([_soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path), str(workbook)],
                   check=True, capture_output=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    with open(tmp_path / "out.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:2] == ["输入 / input", "=input.xlsx"] and rows[1][4] == "=方案"
    data = rows[2:]
    assert [row[0] for row in data] == list(_frame()["enterprise_id"])
    assert [row[1] for row in data] == [name or "" for name in _frame()["name"]]  # "=1+1", not 2
    assert not any(cell.startswith("'") for row in rows for cell in row)
    assert data[0][2].replace(",", "") == "¥1234.56"


# --- through a whole run: XLSX, CSV and Parquet --------------------------------------------------------------


@pytest.fixture()
def _scalar_engine(monkeypatch):
    monkeypatch.setattr(runner, "default_evaluator", lambda: scalar_evaluator)


def _input(tmp_path):
    rows = [ENTERPRISE_HEADERS, enterprise_row(RISKY_ID, **{"企业名称": RISKY_NAMES[0]})]
    rows += [enterprise_row(f"E{i}", **{"企业名称": name}) for i, name in enumerate(RISKY_NAMES[1:], start=10)]
    projects = [["企业编号", "项目编号", "项目类型", "技术领域", "总投入(元)"],
                [RISKY_ID, "=P1", "rd", "scientific_instruments", 3_000_000]]
    return write_workbook(tmp_path / "in.xlsx", {"企业": rows, "项目": projects})


@pytest.mark.usefixtures("_scalar_engine")
def test_a_run_keeps_names_and_ids_as_typed_in_the_workbook_so_a_lookup_still_matches(tmp_path):
    out = tmp_path / "out.xlsx"
    info = run_batch(Job(_input(tmp_path), out, AS_OF))
    assert info.counts.evaluated == len(RISKY_NAMES)
    book = openpyxl.load_workbook(out)
    summary = book["汇总"]
    header = next(r for r in range(1, summary.max_row + 1) if summary.cell(r, 1).value == "企业编号")
    found = {summary.cell(r, 1).value: summary.cell(r, 2) for r in range(header + 1, summary.max_row + 1)}
    assert found[RISKY_ID].value == RISKY_NAMES[0]  # what VLOOKUP("=E3", ...) finds
    assert sorted(cell.value for cell in found.values()) == sorted(RISKY_NAMES)
    assert all(cell.quotePrefix for cell in found.values())
    details = list(book["明细"].iter_rows(min_row=2))
    mine = [row for row in details if row[0].value == RISKY_ID]
    assert mine and all(row[0].quotePrefix and row[1].value == RISKY_NAMES[0] for row in mine)
    assert any(row[5].value == "=P1" and row[5].quotePrefix for row in mine)  # the project's id, as typed
    amounts = [row[7] for row in details if row[7].value is not None]
    assert amounts and all("¥" in cell.number_format and not cell.quotePrefix for cell in amounts)
    assert not any(isinstance(cell.value, str) and cell.value.startswith("'")
                   for sheet in book for row in sheet.iter_rows() for cell in row)


@pytest.mark.usefixtures("_scalar_engine")
def test_csv_keeps_the_apostrophe_and_parquet_the_text_as_given(tmp_path):
    source = _input(tmp_path)
    run_batch(Job(source, tmp_path / "csv", AS_OF, "csv"))
    summary = pl.read_csv(tmp_path / "csv" / "summary.csv", infer_schema=False)
    assert sorted(summary["name"]) == sorted("'" + name for name in RISKY_NAMES)
    assert "'" + RISKY_ID in summary["enterprise_id"].to_list()
    assert not any(re.match(r"[=+\-@\t\r]", value) for column in summary.columns for value in
                   summary[column].drop_nulls())
    run_batch(Job(source, tmp_path / "parquet", AS_OF, "parquet"))
    names = pl.read_parquet(tmp_path / "parquet" / "summary")
    assert sorted(names["name"]) == sorted(RISKY_NAMES) and RISKY_ID in names["enterprise_id"].to_list()
