from datetime import date

import polars as pl
import pytest

from incentives.batch.readers import UnusableInput, collect, detect_encoding, open_input
from incentives.batch.validate import validate

from .helpers import ENTERPRISE_HEADERS, enterprise_row, write_workbook


def test_workbook_rows_are_numbered_as_the_spreadsheet_shows_them(tmp_path):
    path = write_workbook(tmp_path / "in.xlsx", {"企业": [ENTERPRISE_HEADERS, enterprise_row("E1"), [],
                                                        enterprise_row("E2", **{"从业人员": -3})]})
    checked = validate(collect(open_input(path, tmp_path)))
    assert checked.errors.select("row", "column").rows() == [(4, "从业人员")]


def test_title_rows_above_the_header_are_skipped_and_counted(tmp_path):
    path = write_workbook(tmp_path / "in.xlsx", {"企业": [[], ["客户清单 2026"], ENTERPRISE_HEADERS,
                                                        enterprise_row("E1", **{"营业收入(元)": "abc"})]})
    checked = validate(collect(open_input(path, tmp_path)))
    assert checked.errors.select("row", "value").rows() == [(4, "abc")]


def test_english_sheet_names_and_headers_are_accepted(tmp_path):
    headers = ["enterprise_id", "name", "province", "revenue_yuan", "hnte"]
    path = write_workbook(tmp_path / "in.xlsx", {"enterprises": [headers, ["E1", "Acme", "上海市", 1234.56, "true"]]})
    checked = validate(collect(open_input(path, tmp_path)))
    row = checked.tables.enterprises.row(0, named=True)
    assert (row["revenue_fen"], row["hnte"]) == (123456, True)


def test_a_workbook_without_an_enterprise_sheet_is_unusable(tmp_path):
    path = write_workbook(tmp_path / "in.xlsx", {"Sheet1": [["a"], [1]]})
    with pytest.raises(UnusableInput) as caught:
        open_input(path, tmp_path)
    assert "企业" in caught.value.zh and "enterprises" in caught.value.en


def test_a_missing_required_column_is_unusable(tmp_path):
    path = write_workbook(tmp_path / "in.xlsx", {"企业": [["企业编号", "省份"], ["E1", "上海市"]]})
    with pytest.raises(UnusableInput) as caught:
        open_input(path, tmp_path)
    assert "企业名称" in caught.value.zh


def test_a_file_that_is_not_a_workbook_is_unusable(tmp_path):
    path = tmp_path / "in.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(UnusableInput):
        open_input(path, tmp_path)


@pytest.mark.parametrize(("encoding", "bom", "label"), [("utf-8", b"", "utf-8"), ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
                                                          ("gbk", b"", "gb18030")])
def test_csv_encodings_are_detected_and_reported(tmp_path, encoding, bom, label):
    path = tmp_path / "企业.csv"
    path.write_bytes(bom + "企业编号,企业名称,省份\nE1,上海甲公司,上海市\n".encode(encoding))
    assert detect_encoding(path) == label
    raw = open_input(path, tmp_path)
    checked = validate(collect(raw))
    assert checked.tables.enterprises["name"].to_list() == ["上海甲公司"]
    assert any("编码" in note.zh for note in raw.notes)


def test_a_folder_of_parquet_tables_with_fen_columns_is_read_without_conversion(tmp_path):
    folder = tmp_path / "tables"
    folder.mkdir()
    pl.DataFrame({"enterprise_id": ["E1"], "name": ["A"], "province": ["上海市"], "revenue_fen": [12345]}).write_parquet(
        folder / "enterprises.parquet")
    pl.DataFrame({"enterprise_id": ["E1"], "loan_id": ["L1"], "principal_yuan": [1000], "annual_rate": ["0.03"],
                  "issue_date": [date(2026, 1, 5)], "maturity_date": [date(2027, 1, 5)]}).write_parquet(
        folder / "loans.parquet")
    checked = validate(collect(open_input(folder, tmp_path)))
    assert checked.tables.enterprises["revenue_fen"].to_list() == [12345]
    assert checked.tables.loans["principal_fen"].to_list() == [100000]


def test_excel_date_cells_in_a_text_column_read_as_dates(tmp_path):
    path = write_workbook(tmp_path / "in.xlsx", {
        "企业": [ENTERPRISE_HEADERS, enterprise_row("E1")],
        "贷款": [["企业编号", "贷款编号", "本金(元)", "年利率", "发放日", "到期日"],
                 ["E1", "L1", 1000, "3.5%", 46027, "2027/1/5"]],
    })
    loans = validate(collect(open_input(path, tmp_path))).tables.loans
    assert loans.row(0, named=True) | {} == loans.row(0, named=True)
    assert (loans["issue_date"][0], loans["maturity_date"][0], loans["annual_rate"][0]) == (
        date(2026, 1, 5), date(2027, 1, 5), "0.035")


def test_a_large_amount_cell_in_a_column_that_also_has_text_reads_as_typed(tmp_path):
    # the reader writes such a number cell with nine decimals (1904761904.769999981): read back as typed
    path = write_workbook(tmp_path / "in.xlsx", {
        "企业": [ENTERPRISE_HEADERS, enterprise_row("E1")],
        "贷款": [["企业编号", "贷款编号", "本金(元)", "年利率", "发放日", "到期日"],
                 ["E1", "L1", 1904761904.77, "3.5%", "2026-01-05", "2027-01-05"],
                 ["E1", "L2", "99999999.99", "3.5%", "2026-01-05", "2027-01-05"],
                 ["E1", "L3", 100000000.01, 0.035, "2026-01-05", "2027-01-05"]],
    })
    checked = validate(collect(open_input(path, tmp_path)))
    assert checked.errors.height == 0, checked.errors.to_dicts()
    assert checked.tables.loans["principal_fen"].to_list() == [190_476_190_477, 9_999_999_999, 10_000_000_001]


def test_parquet_decimal_yuan_converts_exactly_and_rejects_fractions_of_a_fen(tmp_path):
    from decimal import Decimal

    folder = tmp_path / "tables"
    folder.mkdir()
    pl.DataFrame({"enterprise_id": ["E1", "E2"], "name": ["A", "B"], "province": ["上海市", "上海市"],
                  "revenue_yuan": [Decimal("1234.56"), Decimal("0.01")]},
                 schema_overrides={"revenue_yuan": pl.Decimal(20, 2)}).write_parquet(folder / "enterprises.parquet")
    checked = validate(collect(open_input(folder, tmp_path)))
    assert checked.tables.enterprises["revenue_fen"].to_list() == [123456, 1]


def test_parquet_float_yuan_reads_through_the_shortest_form(tmp_path):
    folder = tmp_path / "tables"
    folder.mkdir()
    pl.DataFrame({"enterprise_id": ["E1", "E2"], "name": ["A", "B"], "province": ["上海市", "上海市"],
                  "revenue_yuan": [0.1, 0.1 + 0.2]}).write_parquet(folder / "enterprises.parquet")
    checked = validate(collect(open_input(folder, tmp_path)))
    assert checked.tables.enterprises["revenue_fen"].to_list() == [10]
    assert checked.errors.select("row", "value").rows() == [(2, "0.30000000000000004")]
