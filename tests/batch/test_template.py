import re

import openpyxl
import polars as pl
import pytest

from incentives.batch.readers import SHEETS
from incentives.batch.template import write_template


def _template(tmp_path) -> openpyxl.Workbook:
    path = tmp_path / "t.xlsx"
    write_template(path)
    return openpyxl.load_workbook(path)


def test_template_has_headers_comments_dropdowns_and_an_example(tmp_path):
    book = _template(tmp_path)
    for zh, (_, columns) in SHEETS.items():
        sheet = book[zh]
        headers = [c.value for c in sheet[1]]
        assert headers == [c.header_zh for c in columns]
        assert all(c.comment is not None and c.comment.text for c in sheet[1])
        assert any(v is not None for v in next(sheet.iter_rows(min_row=2, max_row=2, values_only=True)))
    validations = book["企业"].data_validations.dataValidation
    formulas = {str(v.formula1) for v in validations}
    assert len(validations) >= 10 and any("lists!" in f for f in formulas)
    lists = book["lists"]
    assert "上海市" in [c.value for c in lists["A"]] and "是" in [c.value for row in lists.iter_rows() for c in row]


def test_id_and_code_columns_are_text_so_typed_codes_keep_their_leading_zeros(tmp_path):
    """An industry code 0511 typed into a number cell becomes 511, which is another valid code."""
    book = _template(tmp_path)
    for zh, (_, columns) in SHEETS.items():
        sheet = book[zh]
        # openpyxl keeps neighbouring columns of one style as one range
        by_number = {n: d.number_format for d in sheet.column_dimensions.values() for n in range(d.min, d.max + 1)}
        formats = {c.name: by_number.get(i + 1, "General") for i, c in enumerate(columns)}
        for name in ("enterprise_id", "industry_code", "uscc", "project_id", "loan_id", "unit_id"):
            if name in formats:
                assert formats[name] == "@", (zh, name)
        amounts = [name for name in formats if name.endswith("_fen")]
        assert amounts and all(formats[name] != "@" for name in amounts)
    example = book["企业"]["A2"]
    assert example.value == "E001" and example.number_format == "@"


def _validations(book: openpyxl.Workbook) -> dict[tuple[str, str], object]:
    """(sheet, column name) -> the data validation of that column's cells."""
    from openpyxl.utils import column_index_from_string

    found = {}
    for zh, (_, columns) in SHEETS.items():
        for validation in book[zh].data_validations.dataValidation:
            first = str(validation.sqref).split(":")[0]
            letters = first.rstrip("0123456789")
            assert first[len(letters):] == "2", validation.sqref  # from the first data row down
            found[(zh, columns[column_index_from_string(letters) - 1].name)] = validation
    return found


REGION_COLUMNS = ("province", "city", "district", "use_province", "use_city")


def test_region_drop_downs_warn_instead_of_refusing_short_and_english_names(tmp_path):
    """The reader takes 广东 and Guangdong for 广东省; an Excel "stop" list refused them."""
    validations = _validations(_template(tmp_path))
    regions = {key: v for key, v in validations.items() if key[1] in REGION_COLUMNS}
    assert {key[1] for key in regions} == set(REGION_COLUMNS)
    for key, validation in regions.items():
        assert validation.errorStyle in ("warning", "information"), key
        assert validation.showErrorMessage and validation.error, key
        for text in (validation.error, validation.prompt):
            assert "简称" in text or "英文" in text, key
            assert "English" in text, key
    province = validations[("企业", "province")]
    assert "Guangdong" in province.error and "广东" in province.error


def test_only_the_scheme_id_refuses_values_not_listed(tmp_path):
    """A stop list only where the reader takes nothing else: yes / no, enum codes and labels are read too."""
    validations = _validations(_template(tmp_path))
    refusing = {key[1] for key, v in validations.items() if v.errorStyle in (None, "stop")}  # None: the default
    assert refusing == {"scheme_id"}
    for key, validation in validations.items():
        assert validation.error and re.search(r"[一-鿿]", validation.error) and re.search(r"[A-Za-z]{3}",
                                                                                        validation.error), key


def test_every_drop_down_has_a_short_bilingual_prompt(tmp_path):
    validations = _validations(_template(tmp_path))
    expected = {(zh, c.name) for zh, (_, columns) in SHEETS.items() for c in columns
                if c.enum is not None or c.dtype == pl.Boolean or c.name in REGION_COLUMNS or c.name == "scheme_id"}
    assert set(validations) == expected  # none dropped (Excel takes at most 255 characters of prompt)
    for key, validation in validations.items():
        assert validation.showInputMessage and validation.promptTitle, key
        prompt = validation.prompt or ""
        assert 0 < len(prompt) <= 255 and len(validation.error or "") <= 255, key
        chinese, english = prompt.split("\n")
        assert re.search(r"[一-鿿]", chinese) and len(re.findall(r"\b[A-Za-z]{3,}\b", english)) >= 3, key


def _chinese_and_english(line: str) -> bool:
    """"中文 / English": Chinese before a " / ", English words after it."""
    if " / " not in line:
        return False
    chinese, english = line.split(" / ", 1)
    return bool(re.search(r"[一-鿿]", chinese)) and bool(re.search(r"[a-z]{3,}", english))


def test_every_header_note_is_in_chinese_and_english(tmp_path):
    book = _template(tmp_path)
    for zh, (_, columns) in SHEETS.items():
        for cell, column in zip(book[zh][1], columns):
            lines = cell.comment.text.splitlines()
            assert lines and all(_chinese_and_english(line) for line in lines), (zh, column.name, lines)


@pytest.mark.parametrize("line", ["日期，如 2026-03-31", "整数", "是/否（留空 = 不确定）", "GB/T 4754-2017 行业代码，如 C3973 或 3973"])
def test_a_note_line_without_english_is_caught(line):
    assert not _chinese_and_english(line)
