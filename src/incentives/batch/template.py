"""The blank input workbook: the four sheets with Chinese headers, a comment on each header, drop-down lists for
every enumeration and one example row per sheet."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path

import polars as pl

from .. import regions as region_table
from .readers import SHEETS
from .tables import TEMPLATE_EXAMPLE_NAME, Column
from .cell_parsers import ENUM_LABELS_ZH, enum_label

_EXAMPLES: dict[str, dict[str, object]] = {
    "enterprises": {
        "enterprise_id": "E001", "name": TEMPLATE_EXAMPLE_NAME, "uscc": "91310117MA1J3XXXXJ", "province": "上海市",
        "city": "上海市", "district": "松江区", "industry_code": "3973", "ownership": "private", "employees": 120,
        "revenue_fen": 80_000_000, "total_assets_fen": 120_000_000, "rd_spend_fen": 9_000_000, "hnte": True,
        "tech_sme": True, "specialized_sme": None, "on_dishonesty_list": False,
    },
    "projects": {
        "enterprise_id": "E001", "project_id": "P001", "name": "卫星通信终端研发", "activities": ["rd"],
        "fields": ["satellite"], "province": "上海市", "city": "上海市", "district": "松江区",
        "total_input_fen": 20_000_000, "rd_input_fen": 15_000_000, "is_new": True,
    },
    "loans": {
        "enterprise_id": "E001", "loan_id": "L001", "principal_fen": 10_000_000, "annual_rate": "0.032",
        "issue_date": date(2026, 3, 15), "maturity_date": date(2028, 3, 15), "loan_type": "fixed_asset",
        "purpose": "buy_equipment", "use_province": "广东省", "use_city": "广州市", "lender": "示例银行",
        "claimed_under_other_policy": False,
    },
    "awards": {
        "enterprise_id": "E001", "scheme_id": "", "amount_fen": 500_000, "date": date(2025, 11, 20),
        "unit_id": "P001", "source": "区科委",
    },
}
_BOOL_CHOICES = ["是", "否"]


def _choice(code: str) -> str:
    label = enum_label(code)
    return code if label == code else f"{label}({code})"


def _comment(column: Column) -> str:
    kind = {pl.Boolean: "是/否（留空 = 不确定）", pl.Int64: "整数", pl.Date: "日期，如 2026-03-31"}
    lines = [f"{column.header_zh} / {column.header_en}"]
    if column.file_name is not None:
        lines.append("金额，单位：元，最多两位小数 / amount in yuan, at most 2 decimals")
    elif column.name == "annual_rate":
        lines.append("年利率：小数 0.035 或百分数 3.5% / annual rate: 0.035 or 3.5%")
    elif isinstance(column.dtype, pl.List):
        lines.append("可填多个，用分号 ; 分隔 / several allowed, separated by ;")
    else:
        for dtype, text in kind.items():
            if column.dtype == dtype:
                lines.append(text)
    if column.required:
        lines.append("必填 / required")
    else:
        lines.append("留空表示未知 / empty = unknown")
    if column.enum:
        lines.append("可选 / allowed: " + "、".join(_choice(v) for v in column.enum))
    if column.name == "industry_code":
        lines.append("GB/T 4754-2017 行业代码，如 C3973 或 3973")
    if column.name == "uscc":
        lines.append("18 位，含校验位 / 18 characters with check digit")
    return "\n".join(lines)


def _lists(cat_scheme_ids: list[str]) -> dict[str, list[str]]:
    provinces = region_table.provinces()
    cities = [c for p in provinces for c in region_table.cities(p)]
    districts = [d for p in provinces for c in region_table.cities(p) for d in region_table.districts(p, c)]
    lists = {"province": provinces, "city": list(dict.fromkeys(cities)), "district": list(dict.fromkeys(districts)),
             "scheme_id": cat_scheme_ids, "bool": _BOOL_CHOICES}
    for _, columns in SHEETS.values():
        for column in columns:
            if column.enum is not None:
                lists[column.name] = [_choice(v) for v in column.enum]
    return lists


def template_bytes() -> bytes:
    buffer = BytesIO()
    _write(buffer)
    return buffer.getvalue()


def write_template(path: Path) -> None:
    with open(path, "wb") as handle:
        handle.write(template_bytes())


def _write(target: object) -> None:
    import xlsxwriter

    from ..schemes import catalogue

    scheme_ids = [s.id for s in catalogue().schemes]
    workbook = xlsxwriter.Workbook(target, {"in_memory": True})
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    required = workbook.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    money = workbook.add_format({"num_format": "#,##0.00"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    # ids and codes typed into a text column stay as typed: as numbers, 0511 (an industry code) would become 511
    # (another valid code) and an 18-digit code would lose its last digits
    text = workbook.add_format({"num_format": "@"})
    sheets = {zh: workbook.add_worksheet(zh) for zh in SHEETS}
    guide = workbook.add_worksheet("说明")
    lists_sheet = workbook.add_worksheet("lists")
    ranges: dict[str, str] = {}
    column_index = 0
    all_lists = _lists(scheme_ids)
    for key, values in all_lists.items():
        lists_sheet.write_column(0, column_index, values)
        letter = xlsxwriter.utility.xl_col_to_name(column_index)
        ranges[key] = f"=lists!${letter}$1:${letter}${max(1, len(values))}"
        column_index += 1
    lists_sheet.hide()
    for zh, (table, columns) in SHEETS.items():
        sheet = sheets[zh]
        sheet.freeze_panes(1, 0)
        example = dict(_EXAMPLES[table])
        if table == "awards":  # an award the example enterprise (in Songjiang, Shanghai) could have had
            example["scheme_id"] = next((i for i in scheme_ids if i.startswith("sh-g60/")), scheme_ids[0])
        for index, column in enumerate(columns):
            sheet.write_string(0, index, column.header_zh, required if column.required else header)
            sheet.write_comment(0, index, _comment(column), {"x_scale": 2.2, "y_scale": 2.5})
            as_text = text if column.dtype == pl.String else None
            sheet.set_column(index, index, max(12, len(column.header_zh) * 2 + 2), as_text)
            _validation(sheet, index, column, ranges)
            _example_cell(sheet, index, column, example.get(column.name), money, day, as_text)
    _guide(guide)
    sheets["企业"].activate()
    workbook.close()


_ROWS = 100_000  # rows the drop-down lists cover


def _validation(sheet, index: int, column: Column, ranges: dict[str, str]) -> None:
    base = {"validate": "list", "error_type": "stop"}
    if column.dtype == pl.Boolean:
        options = {**base, "source": ranges["bool"]}
    elif column.enum is not None:
        options = {**base, "source": ranges[column.name]}
        if isinstance(column.dtype, pl.List):
            # several values go in one cell ("rd;pilot_platform"), which a list check would refuse
            options["error_type"] = "information"
    elif column.name in ("province", "use_province"):
        options = {**base, "source": ranges["province"]}
    elif column.name in ("city", "use_city"):
        # cities are listed only where a scheme names them; other cities are typed in
        options = {**base, "source": ranges["city"], "error_type": "warning"}
    elif column.name == "district":
        options = {**base, "source": ranges["district"], "error_type": "warning"}
    elif column.name == "scheme_id":
        options = {**base, "source": ranges["scheme_id"]}  # only the catalogue's schemes count (validate)
    else:
        return
    options["input_title"] = column.header_zh[:32]
    sheet.data_validation(1, index, _ROWS, index, options)


def _example_cell(sheet, index: int, column: Column, value: object, money, day, text) -> None:
    if value is None or value == "":
        return
    if column.file_name is not None:
        # the example amount is in fen here; the sheet takes yuan
        sheet.write_number(1, index, int(value) / 100, money)  # display only: an exact two-decimal amount
    elif isinstance(value, bool):
        sheet.write_string(1, index, "是" if value else "否")
    elif isinstance(value, date):
        sheet.write_datetime(1, index, value, day)
    elif isinstance(value, list):
        sheet.write_string(1, index, ";".join(_choice(v) for v in value))
    elif column.enum is not None:
        sheet.write_string(1, index, _choice(str(value)), text)
    elif isinstance(value, int):
        sheet.write_number(1, index, value)
    else:
        sheet.write_string(1, index, str(value), text)


def _guide(sheet) -> None:
    lines = [
        "填写说明 / How to fill in",
        "1. 每家企业在“企业”表占一行，企业编号唯一；项目、贷款、已获资助通过企业编号关联。",
        "   One row per enterprise on 企业 with a unique id; projects, loans and awards refer to it by 企业编号.",
        "2. 金额单位为元，最多两位小数；年利率填 0.035 或 3.5%。",
        "   Amounts in yuan with at most 2 decimals; annual rates as 0.035 or 3.5%.",
        "3. 是/否 列留空表示“不确定”，结果会列为待确认，而不会当作“否”。",
        "   An empty yes/no cell means 'unknown': the result asks to confirm instead of assuming 'no'.",
        "4. 第 2 行是示例，请替换或删除。 Row 2 of each sheet is an example: replace or delete it.",
        "5. 有错误的企业整体不评估，错误逐格列在结果的“错误”表中。",
        "   An enterprise with any error is not evaluated; every bad cell is listed on the results' 错误 sheet.",
    ]
    sheet.set_column(0, 0, 110)
    for row, text in enumerate(lines):
        sheet.write_string(row, 0, text)


__all__ = ["write_template", "template_bytes", "ENUM_LABELS_ZH"]
