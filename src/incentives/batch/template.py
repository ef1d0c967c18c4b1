"""The blank input workbook: the four sheets with Chinese headers, a comment on each header (in Chinese and English),
drop-down lists for every enumeration, each with a prompt, and one example row per sheet.

A drop-down refuses a value (Excel's "stop") only where the reader takes nothing but the listed values (scheme
ids); elsewhere the reader also takes other spellings (广东 / Guangdong for 广东省, private for 民营(private),
yes / 1 for 是), so a value not in the list only draws a warning that says so."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from io import BytesIO
from pathlib import Path

import polars as pl

from .. import regions as region_table
from .readers import SHEETS
from .tables import TEMPLATE_EXAMPLE_NAME, Column
from .cell_parsers import ENUM_LABELS_ZH, enum_label
from .region_cells import CITY_COLUMNS, PROVINCE_COLUMNS

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


_KIND_NOTES = {
    pl.Boolean: "是或否，留空 = 不确定 / yes or no, empty = unknown",
    pl.Int64: "整数 / whole number",
    pl.Date: "日期，如 2026-03-31 / date, e.g. 2026-03-31",
}
_REGION_NOTES = {
    "province": "也可填简称或英文，如 广东、Guangdong / short and English names are accepted too, e.g. 广东, Guangdong",
    "city": "列表外的城市直接填写；也可填简称或英文，如 广州、Guangzhou / cities not listed may be typed in; short and "
            "English names are accepted too, e.g. 广州, Guangzhou",
    "district": "列表外的区县直接填写；也可填英文，如 Tianhe District 或 tianhe / districts not listed may be typed in; "
                "English names are accepted too, e.g. Tianhe District or tianhe",
}


def _region_level(column: Column) -> str | None:
    """"province", "city" or "district" for a region column, else None."""
    if column.name in PROVINCE_COLUMNS:
        return "province"
    if column.name in CITY_COLUMNS:
        return "city"
    return "district" if column.name == "district" else None


def _comment(column: Column) -> str:
    """The header's note: every line in Chinese, then " / ", then in English."""
    lines = [f"{column.header_zh} / {column.header_en}"]
    if column.file_name is not None:
        lines.append("金额，单位：元，最多两位小数 / amount in yuan, at most 2 decimals")
    elif column.name == "annual_rate":
        lines.append("年利率：小数 0.035 或百分数 3.5% / annual rate: 0.035 or 3.5%")
    elif isinstance(column.dtype, pl.List):
        lines.append("可填多个，用分号 ; 分隔 / several allowed, separated by ;")
    elif column.dtype in _KIND_NOTES:
        lines.append(_KIND_NOTES[column.dtype])
    if column.required:
        lines.append("必填 / required")
    elif column.dtype != pl.Boolean:  # a yes / no column's note already says so
        lines.append("留空表示未知 / empty = unknown")
    if column.enum:
        lines.append("可选 / allowed: " + "、".join(_choice(v) for v in column.enum))
        lines.append("也可只填中文名或括号内的代码 / the Chinese label or the code in brackets alone is accepted too")
    if (level := _region_level(column)) is not None:
        lines.append(_REGION_NOTES[level])
    if column.name == "industry_code":
        lines.append("GB/T 4754-2017 行业代码，如 C3973 或 3973 / GB/T 4754-2017 industry code, e.g. C3973 or 3973")
    if column.name == "uscc":
        lines.append("18 位，含校验位 / 18 characters with check digit")
    if column.name == "scheme_id":
        lines.append("政策目录中的方案编号（incentives schemes list） / a scheme id of the catalogue "
                     "(incentives schemes list)")
    return "\n".join(lines)


def _note_height(note: str) -> float:
    """How tall a header's note box is (a scale of the default box), so that its wrapped lines all show: the box
    (2.2 times the default width) holds about 50 narrow characters a line, a Chinese one counting as two, and the
    default height about 6 lines."""
    import unicodedata

    lines = sum(max(1, -(-sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line) // 50))
                for line in note.splitlines())
    # to a tenth, with Decimal as everywhere in src (a box scale, not money: never a tie at the hundredths)
    return max(2.5, float((Decimal(lines) / 6 + Decimal("0.5")).quantize(Decimal("0.1"), ROUND_HALF_EVEN)))


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
            note = _comment(column)
            sheet.write_comment(0, index, note, {"x_scale": 2.2, "y_scale": _note_height(note)})
            as_text = text if column.dtype == pl.String else None
            sheet.set_column(index, index, max(12, len(column.header_zh) * 2 + 2), as_text)
            _validation(sheet, index, column, ranges)
            _example_cell(sheet, index, column, example.get(column.name), money, day, as_text)
    _guide(guide)
    sheets["企业"].activate()
    workbook.close()


_ROWS = 100_000  # rows the drop-down lists cover


@dataclass(frozen=True, slots=True)
class _Check:
    """A drop-down: its list, how a value not in it is met, and the texts Excel shows (at most 255 characters)."""

    source: str  # key of the list in the hidden "lists" sheet
    error_type: str  # "stop" only where no other value is valid; "warning" asks, "information" just says
    prompt: str  # shown when the cell is selected ({label}, {code}...: an example from the column's list)
    error: str  # shown for a value not in the list


_NOT_LISTED = "不在列表中 / Not in the list"
_CHECKS = {
    "bool": _Check("bool", "warning",
                   "选 是 或 否；留空 = 不确定。\nPick 是 (yes) or 否 (no); empty = unknown.",
                   "通常填 是 或 否；yes / no、1 / 0 也可以。\nUsually 是 or 否; yes / no and 1 / 0 are accepted too."),
    "enum": _Check("", "warning",
                   "从列表选择；也可只填中文名或括号内的代码，如 {label} 或 {code}。\nPick from the list; the Chinese "
                   "label or the code in brackets alone ({label}, {code}) is accepted too.",
                   "不在列表中：只填中文名或括号内的代码也可以，否则请从列表选择。\nNot in the list: the Chinese label or "
                   "the code alone is fine; otherwise pick from the list."),
    "several": _Check("", "information",
                      "选一项，或填多个，用 ; 分隔，如 {labels}。\nPick one, or type several separated by ;, "
                      "e.g. {codes}.",
                      "多个值用 ; 分隔，每个都须是列表中的一项（中文名或代码）。\nSeveral values separated by ;, each one "
                      "of the list (the label or the code)."),
    "province": _Check("province", "warning",
                       "从列表选择；也可填简称或英文，如 广东、Guangdong。\nPick from the list; short and English names "
                       "(广东, Guangdong) are accepted too.",
                       "不在列表中。简称和英文名也可以（广东、Guangdong）：请核对后继续。\nNot in the list. Short and "
                       "English names (广东, Guangdong) are accepted: check it and go on."),
    "city": _Check("city", "warning",
                   "列表只含政策涉及的城市，其他城市直接填写；也可填简称或英文，如 广州、Guangzhou。\nOnly cities that "
                   "schemes name are listed: type any other; short and English names (广州, Guangzhou) are accepted.",
                   "不在列表中。其他城市、简称和英文名也可以（广州、Guangzhou）：请核对后继续。\nNot in the list. Other "
                   "cities, short and English names (广州, Guangzhou) are accepted: check it and go on."),
    "district": _Check("district", "warning",
                       "列表只含政策涉及的区县，其他区县直接填写；也可填英文，如 Tianhe District、tianhe。\nOnly districts "
                       "that schemes name are listed: type any other; English names (Tianhe District, tianhe) are "
                       "accepted.",
                       "不在列表中。其他区县和英文名也可以（Tianhe District、tianhe）：请核对后继续。\nNot in the list. "
                       "Other districts and English names (Tianhe District, tianhe) are accepted: check it and go on."),
    "scheme_id": _Check("scheme_id", "stop",
                        "从列表选择政策目录中的方案编号。\nPick a scheme id of the catalogue.",
                        "只能填政策目录中的方案编号（incentives schemes list）：已获资助计入该方案的上限。\nOnly a scheme "
                        "id of the catalogue (incentives schemes list): an award counts against that scheme's caps."),
}


def _check(column: Column) -> _Check | None:
    if column.dtype == pl.Boolean:
        return _CHECKS["bool"]
    if column.enum is not None:
        # the reader takes the label, the code or "label(code)"; several values go in one cell
        # ("rd;pilot_platform"), which a list check would refuse
        kind = _CHECKS["several" if isinstance(column.dtype, pl.List) else "enum"]
        first = column.enum[:2]
        example = {"label": enum_label(first[0]), "code": first[0], "labels": ";".join(map(enum_label, first)),
                   "codes": ";".join(first)}
        return replace(kind, source=column.name, prompt=kind.prompt.format(**example))
    if (level := _region_level(column)) is not None:
        return _CHECKS[level]  # cities and districts are listed only where a scheme names them
    if column.name == "scheme_id":
        return _CHECKS["scheme_id"]  # only the catalogue's schemes count (validate)
    return None


def _validation(sheet, index: int, column: Column, ranges: dict[str, str]) -> None:
    check = _check(column)
    if check is None:
        return
    sheet.data_validation(1, index, _ROWS, index, {
        "validate": "list", "source": ranges[check.source], "error_type": check.error_type,
        "input_title": column.header_zh[:32], "input_message": check.prompt,
        "error_title": _NOT_LISTED, "error_message": check.error,
    })


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
