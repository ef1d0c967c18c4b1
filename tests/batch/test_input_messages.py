"""Messages for cells users really write: amounts in exponent notation or in 万 / 亿, days a month does not have,
other words for an ownership; and the command line's refusals of an output name or a folder it cannot write."""

from __future__ import annotations

import errno
from argparse import Namespace

import polars as pl
import pytest

from incentives.batch import cli as batch_cli
from incentives.batch import runner
from incentives.batch.cell_parsers import Stages, _money
from incentives.batch.readers import UnusableInput
from incentives.batch.runner import Job, run_batch
from incentives.batch.validate import validate

from .conftest import AS_OF, scalar_evaluator
from .helpers import ENTERPRISE_HEADERS, enterprise_row, raw_input, write_workbook


def _codes(texts, in_fen=False):
    frame = pl.DataFrame({"v": texts}, schema={"v": pl.String})
    stages = Stages()
    value, code = _money(pl.col("v"), pl.String, in_fen, stages.keep)
    return stages.apply(frame.lazy()).select(value.alias("fen"), code.alias("code")).collect().rows()


def _revenue_reasons(*revenues: str) -> list[tuple[str, str, str]]:
    ids = [f"E{i}" for i in range(len(revenues))]
    raw = raw_input(enterprises={"enterprise_id": ids, "name": ids, "province": ["上海市"] * len(ids),
                            "revenue_yuan": list(revenues)})
    for fast_paths in (True, False):  # the clean-cell shortcut must not change a message
        errors = validate(raw, fast_paths=fast_paths).errors
        assert errors["column"].unique().to_list() == ["revenue_yuan"]  # the header as written
    return errors.select("value", "reason_zh", "reason_en").rows()


# --- amounts in exponent notation --------------------------------------------------------------------------


def test_an_amount_in_exponent_notation_is_refused_as_possibly_rounded_not_as_too_large():
    reasons = _revenue_reasons("1.2e7", "1.20E+07", "+1.2E7", "9.99E+12")
    assert [value for value, _, _ in reasons] == ["1.2e7", "1.20E+07", "+1.2E7", "9.99E+12"]
    for _, zh, en in reasons:
        assert "科学计数法" in zh and "四舍五入" in zh and "完整金额" in zh and "上限" not in zh
        assert "scientific notation" in en and "rounded" in en and "full amount" in en and "limit" not in en


def test_exponent_notation_beyond_the_limit_or_finer_than_a_fen_keeps_its_own_reason():
    # 1e13 yuan is the limit itself; 1e+20 and 1e-07 are how a float's repr writes what no amount can be
    assert [code for _, code in _codes(["1e13", "1.0000001e13", "1E+14", "1e+20", "1e999999999999", "1e-07",
                                        "1.5e-1", "1.234e-1", "0e0"])] == [
        "scientific", "too_large", "too_large", "too_large", "too_large", "decimals", "scientific", "decimals",
        "scientific"]
    # in fen the limit is the same amount and no fraction is allowed
    assert [code for _, code in _codes(["1e15", "1.1e15", "1.5e1", "1.5e-1"], in_fen=True)] == [
        "scientific", "too_large", "scientific", "fen_fraction"]
    (_, zh, en), = _revenue_reasons("1e+20")
    assert "超过上限" in zh and "exceeds the limit" in en


# --- amounts in 万 / 亿 ---------------------------------------------------------------------------------------


def test_an_amount_in_wan_or_yi_is_refused_with_the_yuan_it_should_be_written_in():
    written = ["1200万元", "1,200万元", "2亿", "1万元", "1.5 万", "¥300万"]
    assert _codes(written) == [(None, "wan")] * len(written)  # refused, never multiplied out
    for _, zh, en in _revenue_reasons(*written):
        assert "万" in zh and "亿" in zh and "元" in zh and "12000000" in zh and "逗号" not in zh
        assert "yuan" in en and "plain numbers" in en and "12000000" in en and "comma" not in en


def test_plain_amounts_and_other_mistakes_keep_their_reasons():
    assert _codes(["12000000", "12,000,000元", "1,5", "-5", "NaN", "abc", "万元"]) == [
        (1_200_000_000, None), (1_200_000_000, None), (None, "comma"), (None, "negative"), (None, "nan"),
        (None, "not_number"), (None, "not_number")]


# --- days that do not exist ---------------------------------------------------------------------------------


def test_a_day_the_month_does_not_have_is_called_so_and_a_malformed_date_is_not():
    dates = ["2026-02-30", "2026-02-29", "2026/4/31", "2026年6月31日", "20260230", "2026-02-30 10:00",
             "2024-02-29", "2026-13-01", "2026-01-00", "1800-02-30", "31/02/2026", "soon"]
    raw = raw_input(enterprises={"enterprise_id": ["E1"], "name": ["甲"], "province": ["上海市"]},
               awards={"enterprise_id": ["E1"] * len(dates), "scheme_id": ["gd/loan-interest-subsidy"] * len(dates),
                       "amount_yuan": ["100"] * len(dates), "date": dates})
    for fast_paths in (True, False):
        errors = validate(raw, fast_paths=fast_paths).errors.filter(pl.col("column") == "date")
        reasons = dict(zip(errors["value"], errors.select("reason_zh", "reason_en").rows()))
        assert set(reasons) == set(dates) - {"2024-02-29"}  # a leap year's 29 February is a day
        for value in dates[:6]:
            zh, en = reasons[value]
            assert "没有这一天" in zh and "there is no such day" in en, value
        for value in dates[7:]:
            assert reasons[value] == ("必须是日期，如 2026-03-31", "must be a date such as 2026-03-31"), value


# --- ownership ----------------------------------------------------------------------------------------------


def test_private_ownership_is_read_under_its_other_names():
    names = ["私营", "私营企业", "民营企业", "民营", "private"]
    ids = [f"E{i}" for i in range(len(names))]
    checked = validate(raw_input(enterprises={"enterprise_id": ids, "name": ids, "province": ["上海市"] * len(ids),
                                         "ownership": names}))
    assert checked.errors.height == 0
    assert checked.tables.enterprises["ownership"].to_list() == ["private"] * len(names)


# --- the command line ---------------------------------------------------------------------------------------


@pytest.fixture
def book(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "default_evaluator", lambda: scalar_evaluator)
    return write_workbook(tmp_path / "clients.xlsx", {"企业": [ENTERPRISE_HEADERS, enterprise_row("E1")]})


def _run(book, output, fmt=None):
    return batch_cli.run_batch_command(Namespace(batch_command="run", input=str(book), output=str(output),
                                                 as_of=AS_OF, format=fmt, engine="local", scheduler=None,
                                                 chunk_size=None, force=False))


@pytest.mark.parametrize("name, fmt", [("r.pdf", None), ("results_noext", None), ("r.pdf", "xlsx"),
                                       ("R.TXT", None)])
def test_a_workbook_to_a_name_without_xlsx_is_refused_before_any_work(tmp_path, book, capsys, name, fmt):
    output = tmp_path / "out" / name
    assert _run(book, output, fmt) == 2
    err = capsys.readouterr().err
    assert f"以 .xlsx 结尾的文件名（而不是 {name}）" in err and "--format csv" in err and "Traceback" not in err
    assert f"name ending in .xlsx (not {name})" in err and f"-o {output.with_suffix('.xlsx')}" in err
    assert not (tmp_path / "out").exists()


def test_the_runner_refuses_a_workbook_without_xlsx_too(tmp_path):
    with pytest.raises(UnusableInput) as refused:
        run_batch(Job(tmp_path / "missing.xlsx", tmp_path / "r.pdf", AS_OF))
    assert "r.pdf" in refused.value.zh and ".xlsx" in refused.value.en
    assert not (tmp_path / "r.pdf").exists()


def test_a_template_to_a_missing_folder_says_so_in_both_languages(tmp_path, capsys):
    output = tmp_path / "nodir" / "t.xlsx"
    assert batch_cli.run_batch_command(Namespace(batch_command="template", output=str(output), force=False)) == 2
    err = capsys.readouterr().err
    assert f"无法写入 {output}：文件夹不存在" in err and f"cannot write {output}: the folder does not exist" in err
    assert "No such file" not in err


def _failing_write(number: int, text: str):
    def write(path, *args, **kwargs):
        raise OSError(number, text, str(path))

    return write


@pytest.mark.parametrize("number, zh, en", [
    (errno.EACCES, "没有权限", "permission denied"),
    (errno.ENOSPC, "磁盘空间已满", "the disk is full"),
    (errno.EROFS, "文件系统是只读的", "the file system is read-only"),
])
def test_a_write_error_is_explained_in_both_languages(tmp_path, capsys, monkeypatch, number, zh, en):
    from incentives.batch import template

    monkeypatch.setattr(template, "write_template", _failing_write(number, "System words"))
    output = tmp_path / "t.xlsx"
    assert batch_cli.run_batch_command(Namespace(batch_command="template", output=str(output), force=False)) == 2
    err = capsys.readouterr().err
    assert f"无法写入 {output}：{zh}" in err and f"cannot write {output}: {en}" in err and "System words" not in err


def test_an_unusual_os_error_falls_back_to_the_systems_words(tmp_path, capsys, monkeypatch):
    from incentives.batch import template

    monkeypatch.setattr(template, "write_template", _failing_write(errno.EIO, "Input/output error"))
    assert batch_cli.run_batch_command(Namespace(batch_command="template", output=str(tmp_path / "t.xlsx"),
                                                 force=False)) == 2
    err = capsys.readouterr().err
    assert "无法写入" in err and "系统提示：Input/output error" in err and "cannot write" in err


def test_a_run_that_cannot_write_its_results_says_why_in_both_languages(tmp_path, book, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    assert _run(book, blocker / "r", "csv") == 2
    err = capsys.readouterr().err
    assert "无法写入" in err and "不是文件夹" in err and "cannot write" in err and "not a folder" in err
    assert "Not a directory" not in err and "无法读写" not in err


def test_a_run_that_cannot_read_an_input_file_says_reading(tmp_path, book, capsys, monkeypatch):
    def unreadable(path, workdir):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(runner, "open_input", unreadable)
    assert _run(book, tmp_path / "o.xlsx") == 2
    err = capsys.readouterr().err
    assert f"无法读取 {book}：没有权限" in err and f"cannot read {book}: permission denied" in err
