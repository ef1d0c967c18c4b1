"""Files saved by LibreOffice (tests/fixtures/make_fixtures.sh made them): the reader takes them as a person would."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from incentives.batch.readers import collect, open_input
from incentives.batch.validate import _check_table, validate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _checked(name: str, tmp_path):
    raw = open_input(FIXTURES / name, tmp_path)
    return raw, validate(collect(raw))


def test_a_libreoffice_workbook_reads_typed_cells_exactly(tmp_path):
    raw, checked = _checked("libreoffice-clients.xlsx", tmp_path)
    enterprises = checked.tables.enterprises
    assert enterprises.select("enterprise_id", "revenue_fen", "hnte", "industry_code").rows() == [
        ("1001", 8_500_000_050, True, "3973"), ("E-1002", 25_000_000_000, True, "7320")]
    loan = _check_table(collect(raw).tables["loans"]).values.row(0, named=True)
    assert (loan["annual_rate"], loan["issue_date"], loan["loan_type"], loan["purpose"]) == (
        "0.031", date(2026, 2, 10), "fixed_asset", "buy_equipment")
    assert checked.tables.projects["activities"].to_list() == [["rd", "industrialisation"], ["pilot_platform"]]


def test_a_libreoffice_workbook_reports_each_problem_where_the_spreadsheet_shows_it(tmp_path):
    _, checked = _checked("libreoffice-clients.xlsx", tmp_path)
    assert checked.errors.select("sheet", "row", "column", "value", "kind").rows() == [
        ("企业", 4, "营业收入(元)", "12.345", "error"),
        ("贷款", 2, "企业编号", "E-1003", "skipped"),
        ("贷款", 3, "企业编号", "E-9999", "error")]
    counts = checked.counts
    assert (counts.enterprises_in, counts.evaluated, counts.rejected) == (3, 2, 1)


def test_merged_header_cells_and_empty_trailing_rows_are_handled(tmp_path):
    _, checked = _checked("merged-header-trailing-rows.xlsx", tmp_path)
    assert checked.tables.enterprises.select("enterprise_id", "revenue_fen", "rd_spend_fen").rows() == [
        ("M1", 3_000_000_000, 200_000_000), ("M2", 500_000_000, None)]
    assert checked.errors.height == 0 and checked.counts.enterprises_in == 2


def test_a_gbk_csv_folder_from_libreoffice_is_detected_and_read(tmp_path):
    raw, checked = _checked("gbk-csv", tmp_path)
    assert [n.en for n in raw.notes] == ["企业.csv: encoding GBK/GB18030", "项目.csv: encoding GBK/GB18030"]
    assert checked.tables.enterprises["name"].to_list() == ["上海星链科技有限公司", "北京中试平台有限公司"]
    assert checked.errors.select("sheet", "row").rows() == [("企业.csv", 4)]


def test_a_csv_with_a_bom_reads_its_first_header(tmp_path):
    raw, checked = _checked("bom-csv/enterprises.csv", tmp_path)
    assert raw.notes[0].en == "enterprises.csv: encoding UTF-8 (BOM)"
    assert checked.tables.enterprises["enterprise_id"].to_list() == ["1001", "E-1002"]


def test_libreoffice_opens_the_results_workbook(tmp_path, monkeypatch):
    import shutil
    import subprocess

    import pytest

    from incentives.batch import runner

    from .conftest import AS_OF, scalar_evaluator

    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice is not installed")
    monkeypatch.setattr(runner, "default_evaluator", lambda: scalar_evaluator)
    out = tmp_path / "results.xlsx"
    runner.run_batch(runner.Job(FIXTURES / "libreoffice-clients.xlsx", out, AS_OF))
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                    "--outdir", str(tmp_path / "csv"), str(out)], check=True, capture_output=True, timeout=120)
    errors_sheet = (tmp_path / "csv" / "results-错误.csv").read_text(encoding="utf-8")
    assert "12.345" in errors_sheet and "E-9999" in errors_sheet
