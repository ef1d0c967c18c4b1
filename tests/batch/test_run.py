"""End to end through the runner and the CLI, with the scalar engine standing in for the columnar one."""

from __future__ import annotations

import re
from argparse import Namespace

import openpyxl
import polars as pl
import pytest
from hypothesis import given, strategies as st

from incentives.batch import cli as batch_cli
from incentives.batch import runner
from incentives.batch.runner import Job, run_batch
from incentives.batch.xlsx import FORMULA_TRIGGERS, formula_like, neutralise

from .conftest import AS_OF, scalar_evaluator
from .helpers import ENTERPRISE_HEADERS, enterprise_row, write_workbook


@pytest.fixture(autouse=True)
def _scalar_engine(monkeypatch):
    monkeypatch.setattr(runner, "default_evaluator", lambda: scalar_evaluator)


def _workbook(tmp_path):
    return write_workbook(tmp_path / "in.xlsx", {
        "企业": [ENTERPRISE_HEADERS, enterprise_row("E1", **{"企业名称": "=HYPERLINK(\"x\")"}),
                 enterprise_row("E2", **{"营业收入(元)": 12.345}), enterprise_row("E3", **{"省份": "北京市", "城市": "北京市", "区县": "海淀区"})],
        "项目": [["企业编号", "项目编号", "项目类型", "技术领域", "总投入(元)"],
                 ["E1", "P1", "rd", "scientific_instruments", 3_000_000], ["E2", "P1", "rd", "ai", 100]],
    })


def test_the_workbook_reconciles_and_neutralises_formulas(tmp_path):
    out = tmp_path / "out.xlsx"
    info = run_batch(Job(_workbook(tmp_path), out, AS_OF))
    assert (info.counts.enterprises_in, info.counts.evaluated, info.counts.rejected) == (3, 2, 1)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["汇总", "明细", "待确认", "错误", "依据"]
    summary = list(book["汇总"].iter_rows(values_only=True))
    header = next(i for i, row in enumerate(summary) if row[0] == "企业编号")
    names = [row[1] for row in summary[header + 1:]]
    # a text cell is never evaluated: the name is kept as typed, in a cell marked to stay text when edited
    assert names[0] == "=HYPERLINK(\"x\")"
    assert book["汇总"].cell(header + 2, 2).quotePrefix and book["汇总"].cell(header + 2, 2).data_type == "s"
    counts = {row[i]: row[i + 1] for row in summary[:header] for i in range(0, len(row) - 1, 2) if row[i]}
    assert (counts["企业（输入）/ enterprises in"], counts["已评估 / evaluated"], counts["已拒绝 / rejected"],
            counts["错误 / errors"]) == (3, 2, 1, 1)  # numbers, not text
    errors = list(book["错误"].iter_rows(min_row=2, values_only=True))
    assert [(e[0], e[1], e[2]) for e in errors if e[7] == "错误"] == [("企业", 3, "营业收入(元)")]
    assert any(e[7] != "错误" and e[0] == "项目" for e in errors)  # E2's project is reported, not dropped


@pytest.mark.parametrize(("text", "shown"), [
    ("-5000000", "-5000000"), ("+3.5", "+3.5"),  # signed numbers read as numbers: as typed
    ("-2+3", "'-2+3"), ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"), ("=1+1", "'=1+1"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("-", "'-"), ("-1.", "'-1."), ("公司", "公司"),
])
def test_only_text_a_spreadsheet_could_run_is_neutralised(text, shown):
    """For CSV, which has no cell types; the workbook marks the same cells instead (formula_like)."""
    assert pl.select(neutralise(pl.lit(text))).item() == shown
    assert pl.select(formula_like(pl.lit(text))).item() == (shown != text)


@given(st.text(max_size=12))
def test_neutralised_text_never_starts_a_formula_unless_it_is_a_signed_number(text):
    shown = pl.select(neutralise(pl.lit(text))).item()
    assert shown in (text, "'" + text)
    assert not re.match(FORMULA_TRIGGERS, shown) or re.fullmatch(r"[+-][0-9]+(\.[0-9]+)?", shown)


def test_amounts_are_numbers_with_a_yuan_format(tmp_path):
    out = tmp_path / "out.xlsx"
    run_batch(Job(_workbook(tmp_path), out, AS_OF))
    sheet = openpyxl.load_workbook(out)["明细"]
    amounts = [row[7] for row in sheet.iter_rows(min_row=2) if row[7].value is not None]
    assert amounts and all(isinstance(c.value, (int, float)) and "¥" in c.number_format for c in amounts)


def test_every_sheet_filters_on_its_header_and_says_whether_a_cap_binds(tmp_path):
    out = tmp_path / "out.xlsx"
    run_batch(Job(_workbook(tmp_path), out, AS_OF))
    book = openpyxl.load_workbook(out)
    for sheet in book:
        header_row = int(sheet.freeze_panes[1:]) - 1
        assert sheet.auto_filter.ref == f"A{header_row}:{sheet.cell(header_row, sheet.max_column).column_letter}" \
                                         f"{max(sheet.max_row, header_row)}", sheet.title
    rows = list(book["明细"].iter_rows(min_row=2, values_only=True))
    # 达到上限: 是 / 否 where there is an amount, blank where there is none (as CSV's true / false / empty)
    assert {(row[7] is not None, row[9]) for row in rows} <= {(True, "是"), (True, "否"), (False, None)}
    assert any(row[9] == "否" for row in rows)


def test_a_workbook_gives_the_same_summary_in_the_same_order_whatever_the_chunk_size(tmp_path):
    workbook = _workbook(tmp_path)  # E2 is rejected; E1 and E3 are evaluated

    def summary(chunk_size: int) -> list[tuple]:
        out = tmp_path / f"chunk-{chunk_size}.xlsx"
        run_batch(Job(workbook, out, AS_OF, chunk_size=chunk_size))
        rows = list(openpyxl.load_workbook(out)["汇总"].iter_rows(values_only=True))
        return rows[next(i for i, row in enumerate(rows) if row[0] == "企业编号"):]

    whole = summary(200_000)
    assert [row[0] for row in whole[1:]] == ["E1", "E3", "E2"]  # the evaluated, then the rejected
    assert summary(1) == whole


@pytest.mark.parametrize("read_whole_up_to", [0, 1_000_000], ids=["buckets on disk", "chunks in memory"])
def test_chunked_streaming_gives_the_same_results_as_one_chunk(tmp_path, read_whole_up_to):
    folder = tmp_path / "csv"
    folder.mkdir()
    ids = [f"E{i}" for i in range(40)]
    pl.DataFrame({"enterprise_id": ids, "name": ids, "province": ["上海市"] * 40, "city": ["上海市"] * 40,
                  "revenue_yuan": [str(i * 1000) for i in range(40)]}).write_csv(folder / "企业.csv")
    pl.DataFrame({"enterprise_id": ids[::2], "project_id": ["P1"] * 20, "activities": ["rd"] * 20,
                  "fields": ["6g"] * 20, "total_input_yuan": ["2000000"] * 20}).write_csv(folder / "projects.csv")
    one = run_batch(Job(folder, tmp_path / "one", AS_OF, "parquet", chunk_size=1000))
    many = run_batch(Job(folder, tmp_path / "many", AS_OF, "parquet", chunk_size=7,
                         read_whole_up_to=read_whole_up_to))
    assert one.counts.as_dict() == many.counts.as_dict()
    assert len(list((tmp_path / "many" / "summary").glob("*.parquet"))) == 6
    for name in ("summary", "details"):
        a = pl.read_parquet(tmp_path / "one" / name).sort(pl.all())
        b = pl.read_parquet(tmp_path / "many" / name).sort(pl.all())
        assert a.height > 0 and a.equals(b)


def test_a_results_folder_written_again_in_another_format_holds_only_the_new_run(tmp_path):
    workbook, out = _workbook(tmp_path), tmp_path / "results"
    run_batch(Job(workbook, out, AS_OF, "csv"))
    (out / "notes.txt").write_text("the consultant's own file")
    run_batch(Job(workbook, out, AS_OF, "parquet"))
    assert sorted(p.name for p in out.iterdir()) == ["details", "errors", "notes.txt", "run.json", "sources",
                                                     "summary", "to_confirm"]
    run_batch(Job(workbook, out, AS_OF, "csv"))
    assert sorted(p.name for p in out.iterdir()) == ["details.csv", "errors.csv", "notes.txt", "run.json",
                                                     "sources.csv", "summary.csv", "to_confirm.csv"]


def test_csv_output_has_yuan_text_and_a_bom(tmp_path):
    run_batch(Job(_workbook(tmp_path), tmp_path / "out", AS_OF, "csv"))
    raw = (tmp_path / "out" / "summary.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    summary = pl.read_csv(tmp_path / "out" / "summary.csv", infer_schema=False)
    assert "total_yuan" in summary.columns and summary["name"][0].startswith("'=")


def _args(**kw):
    base = dict(batch_command="run", input=None, output=None, as_of=AS_OF, format=None, engine="local",
                scheduler=None, chunk_size=200_000, force=False)
    base.update(kw)
    return Namespace(**base)


def test_cli_exits_0_when_rows_were_rejected(tmp_path, capsys):
    code = batch_cli.run_batch_command(_args(input=str(_workbook(tmp_path)), output=str(tmp_path / "o.xlsx")))
    err = capsys.readouterr().err
    # E2's bad revenue rejects it, so its faultless project is not evaluated: said apart from the one error
    assert code == 0 and "rejected 1; 1 error, and 1 row of rejected enterprises not evaluated" in err
    assert "错误 1 条，另有 1 行因企业被拒绝未评估" in err


def test_the_cli_counts_warnings_apart_from_errors(tmp_path, capsys):
    workbook = write_workbook(tmp_path / "rates.xlsx", {
        "企业": [ENTERPRISE_HEADERS, enterprise_row("E1")],
        "贷款": [["企业编号", "贷款编号", "本金(元)", "年利率", "发放日", "到期日"],
                 ["E1", "L1", 1_000_000, "45%", "2026-01-05", "2027-01-05"]]})
    code = batch_cli.run_batch_command(_args(input=str(workbook), output=str(tmp_path / "o.xlsx")))
    err = capsys.readouterr().err
    assert code == 0 and "0 errors; 1 warning (evaluated, please check)" in err and "提醒 1 条" in err


def test_cli_exits_2_with_a_clear_message_for_an_unusable_file(tmp_path, capsys):
    bad = tmp_path / "bad.xlsx"
    bad.write_text("hello")
    code = batch_cli.run_batch_command(_args(input=str(bad), output=str(tmp_path / "o.xlsx")))
    err = capsys.readouterr().err
    assert code == 2 and "无法作为 Excel 工作簿读取" in err and "cannot read" in err and "Traceback" not in err


def test_a_corrupt_workbook_is_named_without_the_libraries_error_chain(tmp_path, capsys):
    real = _workbook(tmp_path)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(real.read_bytes()[:3000])  # a truncated download
    code = batch_cli.run_batch_command(_args(input=str(cut), output=str(tmp_path / "o.xlsx")))
    err = capsys.readouterr().err
    assert code == 2 and "cut.xlsx" in err and "已损坏" in err and "damaged" in err
    assert str(tmp_path) not in err and "calamine" not in err.lower()


def test_the_output_may_not_overwrite_the_input(tmp_path, capsys):
    book = _workbook(tmp_path)
    before = book.read_bytes()
    code = batch_cli.run_batch_command(_args(input=str(book), output=str(book)))
    err = capsys.readouterr().err
    assert code == 2 and "覆盖" in err and "overwrite" in err and book.read_bytes() == before


def test_a_workbook_at_the_output_that_is_not_results_is_kept_unless_forced(tmp_path, capsys):
    book = _workbook(tmp_path)
    filled = write_workbook(tmp_path / "filled.xlsx", {"企业": [ENTERPRISE_HEADERS, enterprise_row("E9")]})
    before = filled.read_bytes()
    code = batch_cli.run_batch_command(_args(input=str(book), output=str(filled)))
    err = capsys.readouterr().err
    assert code == 2 and filled.read_bytes() == before
    assert "filled.xlsx" in err and "--force" in err and "已存在" in err and "exists" in err
    assert batch_cli.run_batch_command(_args(input=str(book), output=str(filled), force=True)) == 0
    assert openpyxl.load_workbook(filled).sheetnames == ["汇总", "明细", "待确认", "错误", "依据"]


def test_earlier_results_are_replaced_without_asking(tmp_path, capsys):
    book = _workbook(tmp_path)
    for name, fmt in (("out.xlsx", None), ("out-csv", "csv"), ("out-parquet", "parquet")):
        out = tmp_path / name
        assert batch_cli.run_batch_command(_args(input=str(book), output=str(out), format=fmt)) == 0
        assert batch_cli.run_batch_command(_args(input=str(book), output=str(out), format=fmt)) == 0, name
    capsys.readouterr()


def test_a_folder_at_the_output_without_a_run_record_is_kept_unless_forced(tmp_path, capsys):
    book = _workbook(tmp_path)
    clients = tmp_path / "clients"
    clients.mkdir()
    (clients / "summary.csv").write_text("the client's own table\n")
    (clients / "run.json").write_text('{"not": "ours"}')
    code = batch_cli.run_batch_command(_args(input=str(book), output=str(clients), format="csv"))
    assert code == 2 and "clients" in capsys.readouterr().err
    assert (clients / "summary.csv").read_text() == "the client's own table\n"
    assert batch_cli.run_batch_command(_args(input=str(book), output=str(clients), format="csv", force=True)) == 0
    empty = tmp_path / "empty"
    empty.mkdir()  # made ready for the results: nothing in it to lose
    assert batch_cli.run_batch_command(_args(input=str(book), output=str(empty), format="parquet")) == 0


@pytest.mark.parametrize("sheets, ours", [
    (["汇总", "明细", "待确认", "错误", "依据"], True),
    (["汇总", "明细", "待确认", "错误"], True),  # written before the 依据 sheet was added
    (["汇总", "明细", "明细 (2)", "待确认", "错误", "错误 (2)"], True),  # continuation parts of long sheets
    (["汇总", "明细", "待确认", "错误", "企业"], False),
    (["汇总", "明细", "错误"], False),
    (["企业", "项目"], False),
])
def test_a_results_workbook_is_told_by_its_sheet_names(tmp_path, sheets, ours):
    book = write_workbook(tmp_path / "book.xlsx", {name: [["x"]] for name in sheets})
    assert runner._is_results_workbook(book) is ours
    (tmp_path / "text.xlsx").write_text("not a zip")
    assert not runner._is_results_workbook(tmp_path / "text.xlsx")


def test_the_command_line_leaves_the_chunk_size_to_the_run_unless_given():
    from incentives.cli import parse_arguments

    assert parse_arguments(["batch", "run", "in.xlsx", "-o", "out.xlsx"]).chunk_size is None
    assert parse_arguments(["batch", "run", "in.xlsx", "-o", "out.xlsx", "--chunk-size", "7"]).chunk_size == 7


@pytest.mark.parametrize("read_whole_up_to, parts", [(1_000_000, 4), (0, 2)], ids=["in memory", "buckets"])
def test_an_unspecified_chunk_size_is_the_default_for_how_the_input_is_read(tmp_path, monkeypatch, read_whole_up_to,
                                                                            parts):
    monkeypatch.setattr(runner, "IN_MEMORY_CHUNK_SIZE", 5)
    monkeypatch.setattr(runner, "BUCKET_CHUNK_SIZE", 10)
    folder = tmp_path / "csv"
    folder.mkdir()
    ids = [f"E{i}" for i in range(20)]
    pl.DataFrame({"enterprise_id": ids, "name": ids, "province": ["上海市"] * 20, "city": ["上海市"] * 20}
                 ).write_csv(folder / "企业.csv")
    info = run_batch(Job(folder, tmp_path / "out", AS_OF, "parquet", read_whole_up_to=read_whole_up_to))
    assert info.counts.evaluated == 20
    assert len(list((tmp_path / "out" / "summary").glob("*.parquet"))) == parts  # 20 / 5 in memory, 20 / 10 buckets


def test_the_command_line_takes_force_for_batch_run():
    from incentives.cli import parse_arguments

    assert parse_arguments(["batch", "run", "in.xlsx", "-o", "out.xlsx", "--force"]).force is True
    assert parse_arguments(["batch", "run", "in.xlsx", "-o", "out.xlsx"]).force is False


def _loans_with_date_cells(tmp_path, mixed: bool):
    """A 贷款 sheet whose 到期日 are real date cells, before their 发放日; `mixed` adds a typed text date, so the
    reader takes the column as text."""
    from datetime import datetime

    book = openpyxl.Workbook()
    enterprises = book.active
    enterprises.title = "企业"
    for row in (ENTERPRISE_HEADERS, enterprise_row("E1")):
        enterprises.append(row)
    loans = book.create_sheet("贷款")
    loans.append(["企业编号", "贷款编号", "本金(元)", "年利率", "发放日", "到期日"])
    loans.append(["E1", "L1", 1_000_000, "0.035", datetime(2026, 6, 1), datetime(2026, 1, 1)])
    loans.append(["E1", "L2", 1_000_000, "0.035", datetime(2026, 6, 1), "2026-02-01" if mixed else datetime(2026, 2, 1)])
    path = tmp_path / "loans.xlsx"
    book.save(path)
    return path


@pytest.mark.parametrize("mixed", [True, False])
def test_a_date_cell_shows_without_a_time_among_the_errors(tmp_path, mixed):
    out = tmp_path / "out.xlsx"
    info = run_batch(Job(_loans_with_date_cells(tmp_path, mixed), out, AS_OF))
    errors = list(openpyxl.load_workbook(out)["错误"].iter_rows(min_row=2, values_only=True))
    assert [(e[2], e[3]) for e in errors] == [("到期日", "2026-01-01"), ("到期日", "2026-02-01")]
    assert [e["value"] for e in info.error_sample] == ["2026-01-01", "2026-02-01"]  # what /batch shows
    run_batch(Job(_loans_with_date_cells(tmp_path, mixed), tmp_path / "csv", AS_OF, "csv"))
    assert pl.read_csv(tmp_path / "csv" / "errors.csv", infer_schema=False)["value"].to_list() == [
        "2026-01-01", "2026-02-01"]


def test_a_workbook_named_csv_is_told_to_be_a_workbook_not_an_unknown_encoding(tmp_path, capsys):
    renamed = tmp_path / "企业.csv"
    renamed.write_bytes(_workbook(tmp_path).read_bytes())
    code = batch_cli.run_batch_command(_args(input=str(renamed), output=str(tmp_path / "o.xlsx")))
    err = capsys.readouterr().err
    assert code == 2 and "企业.csv" in err and "Excel 工作簿" in err and "Excel workbook" in err
    assert ".xlsx" in err and ".zip" in err and "encoding" not in err


@pytest.mark.parametrize("command", [["batch", "run", "in.xlsx", "-o", "out.xlsx"], ["evaluate", "profile.json"]])
def test_an_impossible_day_is_called_not_a_real_date_and_a_malformed_one_not_yyyy_mm_dd(command, capsys):
    from incentives.cli import main

    with pytest.raises(SystemExit) as exit_:
        main([*command, "--as-of", "2026-02-30"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "不是真实存在的日期" in err and "is not a real date" in err
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--as-of", "2026/02/28"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "is not a YYYY-MM-DD date" in err and "real date" not in err


def test_a_parquet_folder_written_again_holds_only_the_new_run(tmp_path):
    """A first run in several chunks leaves several part files; a smaller run into the same folder must not
    leave them to be read back with its own."""
    folder = tmp_path / "csv"
    folder.mkdir()
    ids = [f"E{i}" for i in range(20)]
    pl.DataFrame({"enterprise_id": ids, "name": ids, "province": ["上海市"] * 20, "city": ["上海市"] * 20,
                  "revenue_yuan": ["1000"] * 20}).write_csv(folder / "企业.csv")
    out = tmp_path / "out"
    run_batch(Job(folder, out, AS_OF, "parquet", chunk_size=5))
    assert len(list((out / "summary").glob("*.parquet"))) == 4
    again = run_batch(Job(_workbook(tmp_path), out, AS_OF, "parquet"))
    assert pl.read_parquet(out / "summary").height == again.counts.enterprises_in == 3


@pytest.mark.parametrize("flag_utf8, encoding", [(False, "utf-8"), (False, "gbk"), (True, "utf-8")])
def test_zip_members_with_chinese_names_are_found_however_the_zip_was_made(tmp_path, flag_utf8, encoding):
    """Info-ZIP writes UTF-8 names without the UTF-8 flag, Chinese Windows writes GBK names; Python sets the flag."""
    import zipfile

    ids = ["E1", "E2"]
    csv = pl.DataFrame({"enterprise_id": ids, "name": ids, "province": ["上海市"] * 2, "city": ["上海市"] * 2}
                       ).write_csv().encode("utf-8")
    archive = tmp_path / "clients.zip"
    name = "企业.csv".encode(encoding)
    # zipfile itself flags every non-ASCII name as UTF-8: write an ASCII name as long, then put the bytes in
    placeholder = b"x" * (len(name) - 4) + b".csv"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("企业.csv" if flag_utf8 else placeholder.decode(), csv)
    if not flag_utf8:
        archive.write_bytes(archive.read_bytes().replace(placeholder, name))
        with zipfile.ZipFile(archive) as check:
            assert not check.infolist()[0].flag_bits & 0x800
    info = run_batch(Job(archive, tmp_path / "o.xlsx", AS_OF))
    assert info.counts.evaluated == 2


def test_the_template_command_keeps_an_existing_workbook_and_writes_only_xlsx(tmp_path, capsys):
    filled = _workbook(tmp_path)
    before = filled.read_bytes()
    assert batch_cli.run_batch_command(Namespace(batch_command="template", output=str(filled), force=False)) == 2
    assert filled.read_bytes() == before and "--force" in capsys.readouterr().err
    assert batch_cli.run_batch_command(Namespace(batch_command="template", output=str(filled), force=True)) == 0
    assert filled.read_bytes() != before
    assert batch_cli.run_batch_command(Namespace(batch_command="template", output=str(tmp_path / "t.csv"))) == 2
    assert not (tmp_path / "t.csv").exists() and ".xlsx" in capsys.readouterr().err


def test_the_template_round_trips_through_a_run(tmp_path):
    template = tmp_path / "template.xlsx"
    assert batch_cli.run_batch_command(Namespace(batch_command="template", output=str(template))) == 0
    info = run_batch(Job(template, tmp_path / "out.xlsx", AS_OF))
    assert (info.counts.evaluated, info.counts.errors) == (1, 0)


def test_progress_is_reported_chunk_by_chunk(tmp_path):
    seen = []
    run_batch(Job(_workbook(tmp_path), tmp_path / "o.xlsx", AS_OF, chunk_size=1),
              progress=lambda done, total, stage: seen.append((done, total, stage)))
    evaluated = [done for done, total, stage in seen if stage == "evaluate"]
    assert evaluated == sorted(evaluated) and evaluated[-1] == 3 and len(evaluated) >= 2


def test_long_details_written_as_two_files_read_back_in_order(tmp_path, monkeypatch):
    """Details past the split size go to two files written side by side; the folder reads back as one table,
    rows in the same order as when written whole."""
    from incentives.batch import writers

    folder = tmp_path / "csv"
    folder.mkdir()
    ids = [f"E{i:02d}" for i in range(30)]
    pl.DataFrame({"enterprise_id": ids, "name": ids, "province": ["上海市"] * 30, "city": ["上海市"] * 30,
                  "revenue_yuan": [str(i * 1000) for i in range(30)]}).write_csv(folder / "企业.csv")
    whole = run_batch(Job(folder, tmp_path / "whole", AS_OF, "parquet"))
    monkeypatch.setattr(writers, "ROW_GROUP_ROWS", 64)
    monkeypatch.setattr(writers, "SPLIT_ABOVE_ROWS", 256)
    split = run_batch(Job(folder, tmp_path / "split", AS_OF, "parquet"))
    assert whole.counts.as_dict() == split.counts.as_dict()
    files = sorted(p.name for p in (tmp_path / "split" / "details").iterdir())
    assert files == ["part-00000-0.parquet", "part-00000-1.parquet"]
    assert sorted(p.name for p in (tmp_path / "whole" / "details").iterdir()) == ["part-00000.parquet"]
    a, b = pl.read_parquet(tmp_path / "whole" / "details"), pl.read_parquet(tmp_path / "split" / "details")
    assert a.height > 256 and a.equals(b)  # same rows, same order
    first = pl.read_parquet(tmp_path / "split" / "details" / "part-00000-0.parquet")
    assert first.height % 64 == 0  # cut at a row-group boundary (whole-table path: this evaluator streams none)


def test_a_workbook_without_enterprises_is_refused_not_run_as_nothing_found(tmp_path, capsys):
    from incentives.batch.template import write_template

    book = tmp_path / "clients.xlsx"
    write_template(book)
    workbook = openpyxl.load_workbook(book)
    for sheet in workbook.worksheets:
        if sheet.max_row >= 2 and sheet.title in ("企业", "项目", "贷款", "已获资助"):
            sheet.delete_rows(2, sheet.max_row)  # the example rows, as a user clears them
    workbook.save(book)
    code = batch_cli.run_batch_command(_args(input=str(book), output=str(tmp_path / "o.xlsx")))
    err = capsys.readouterr().err
    assert code == 2 and "没有可评估的企业" in err and "nothing to evaluate" in err
    assert not (tmp_path / "o.xlsx").exists()


def test_the_templates_example_enterprise_left_in_is_evaluated_with_a_warning(tmp_path):
    from incentives.batch.template import write_template

    book = tmp_path / "clients.xlsx"
    write_template(book)
    info = run_batch(Job(book, tmp_path / "o.xlsx", AS_OF, "xlsx"))
    assert info.counts.evaluated == 1 and info.counts.warnings == 1 and info.counts.errors == 0
    rows = list(openpyxl.load_workbook(tmp_path / "o.xlsx")["错误"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[2], r[3]) for r in rows] == [("企业", "企业名称", "示例科技有限公司")]
    assert "模板中的示例企业" in rows[0][4] and "template's example" in rows[0][5]


def test_the_summary_counts_each_enterprises_warnings_beside_its_errors(tmp_path):
    workbook = write_workbook(tmp_path / "rates.xlsx", {
        "企业": [ENTERPRISE_HEADERS, enterprise_row("E1"), enterprise_row("E2")],
        "贷款": [["企业编号", "贷款编号", "本金(元)", "年利率", "发放日", "到期日"],
                 ["E1", "L1", 1_000_000, "45%", "2026-01-05", "2027-01-05"],
                 ["E1", "L2", 1_000_000, "0.5", "2026-01-05", "2027-01-05"],
                 ["E2", "L1", 1_000_000, "3.5%", "2026-01-05", "2027-01-05"]]})
    for fmt, output in (("xlsx", tmp_path / "o.xlsx"), ("parquet", tmp_path / "o")):
        run_batch(Job(workbook, output, AS_OF, fmt))
        if fmt == "xlsx":
            sheet = openpyxl.load_workbook(output)["汇总"]
            rows = [r for r in sheet.iter_rows(values_only=True) if r and r[0] in ("企业编号", "E1", "E2")]
            header = rows[0]
            by_id = {r[0]: r[header.index("提醒数")] for r in rows[1:]}
        else:
            summary = pl.read_parquet(output / "summary")
            by_id = dict(zip(summary["enterprise_id"], summary["n_warnings"]))
        assert by_id == {"E1": 2, "E2": 0}, fmt
