import openpyxl

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
