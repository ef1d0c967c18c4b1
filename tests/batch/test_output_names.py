"""Where results go: CSV and Parquet results are a folder of tables, the workbook one .xlsx file; an output name
that says otherwise is refused before any work, with exit code 2 and a message in both languages."""

from __future__ import annotations

from argparse import Namespace

import openpyxl
import polars as pl
import pytest

from incentives.batch import cli as batch_cli
from incentives.batch import runner
from incentives.batch.readers import UnusableInput
from incentives.batch.runner import Job, run_batch

from .conftest import AS_OF, scalar_evaluator
from .helpers import ENTERPRISE_HEADERS, enterprise_row, write_workbook


@pytest.fixture(autouse=True)
def _scalar_engine(monkeypatch):
    monkeypatch.setattr(runner, "default_evaluator", lambda: scalar_evaluator)


@pytest.fixture
def book(tmp_path):
    return write_workbook(tmp_path / "clients.xlsx", {"企业": [ENTERPRISE_HEADERS, enterprise_row("E1"),
                                                               enterprise_row("E2")]})


def _run(book, output, fmt=None):
    return batch_cli.run_batch_command(Namespace(batch_command="run", input=str(book), output=str(output),
                                                 as_of=AS_OF, format=fmt, engine="local", scheduler=None,
                                                 chunk_size=None, force=False))


@pytest.mark.parametrize("name, fmt, folder", [
    ("r.csv", None, "r/ --format csv"),
    ("r.parquet", None, "r/ --format parquet"),
    ("R.CSV", None, "R/ --format csv"),
    ("r.csv", "parquet", "r/ --format parquet"),
    ("r.xlsx", "csv", "r/ --format csv"),
])
def test_csv_or_parquet_results_to_a_file_name_are_refused_and_a_folder_suggested(tmp_path, book, capsys, name,
                                                                                  fmt, folder):
    code = _run(book, tmp_path / "out" / name, fmt)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "是一个文件夹" in err and "a folder of tables (summary, details, to_confirm, errors, sources)" in err
    assert f"-o {tmp_path / 'out' / folder}" in err
    assert not (tmp_path / "out").exists()  # nothing made, not even the parent folder


def test_a_workbook_to_a_folder_is_refused_and_the_folder_formats_named(tmp_path, book, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    for output, fmt in ((f"{tmp_path / 'results'}/", None), (str(empty), None), (str(empty), "xlsx")):
        assert _run(book, output, fmt) == 2, output
        err = capsys.readouterr().err
        assert "是文件夹" in err and "--format csv or --format parquet" in err and "Traceback" not in err
    assert not (tmp_path / "results").exists() and not any(empty.iterdir())


def test_a_workbook_named_as_csv_is_refused(tmp_path, book, capsys):
    assert _run(book, tmp_path / "r.csv", "xlsx") == 2
    err = capsys.readouterr().err
    assert "以 .xlsx 结尾" in err and "name ending in .xlsx (not r.csv)" in err and f"-o {tmp_path / 'r.xlsx'}" in err
    assert not (tmp_path / "r.csv").exists()


def test_the_runner_refuses_a_misnamed_output_too_before_reading_the_input(tmp_path):
    with pytest.raises(UnusableInput) as refused:
        run_batch(Job(tmp_path / "missing.xlsx", tmp_path / "r.parquet", AS_OF))
    assert "r.parquet" in refused.value.en and "folder" in refused.value.en
    assert not (tmp_path / "r.parquet").exists()


def test_folders_for_csv_and_parquet_and_xlsx_files_are_written_as_before(tmp_path, book, capsys):
    assert _run(book, f"{tmp_path / 'results'}/", "csv") == 0
    assert pl.read_csv(tmp_path / "results" / "summary.csv")["enterprise_id"].to_list() == ["E1", "E2"]
    assert _run(book, tmp_path / "tables", "parquet") == 0
    assert pl.read_parquet(tmp_path / "tables" / "summary")["enterprise_id"].to_list() == ["E1", "E2"]
    assert _run(book, tmp_path / "results.xlsx") == 0
    assert openpyxl.load_workbook(tmp_path / "results.xlsx").sheetnames == ["汇总", "明细", "待确认", "错误", "依据"]
    # the web page's run: a workbook with an explicit format, into a job folder
    info = run_batch(Job(book, tmp_path / "job" / "results.xlsx", AS_OF, "xlsx", force=True))
    assert info.counts.enterprises_in == 2 and (tmp_path / "job" / "results.xlsx").is_file()
    capsys.readouterr()
