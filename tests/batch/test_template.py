import openpyxl

from incentives.batch.readers import SHEETS
from incentives.batch.template import write_template


def test_template_has_headers_comments_dropdowns_and_an_example(tmp_path):
    path = tmp_path / "t.xlsx"
    write_template(path)
    book = openpyxl.load_workbook(path)
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
