"""Checking raw batch tables cell by cell, column-wise, into typed tables plus a table of errors.

Every bad cell becomes one error row (sheet, row number, column, value, reason in zh and en). An enterprise with
any bad cell, in its own row or in one of its projects, loans or awards, is rejected whole: evaluating it without
the bad row would give a wrong answer that looks right. Its other rows are reported as not evaluated, rows for an
unknown enterprise as dangling, so nothing disappears and enterprise rows in = evaluated + rejected.

The same checks as the profile models, written as polars expressions so a million rows take about a second:
amounts in yuan to integer fen exactly (no floats), regions (region_cells.py) and industry codes against the
bundled tables, and the unified social credit code's check digit (the same algorithm as stdnum.cn.uscc, tested
against it).
Most input is already clean: cells that pass a cheap test (clean_cells.py) keep their value, and only the rows
with a cell that fails one get the full parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from datetime import date
from decimal import Decimal

import polars as pl

from .. import regions as region_table
from ..profile import IMPLAUSIBLE_RATE, MAX_YUAN
from . import clean_cells
from .cell_parsers import (IDENT, MAX_EMPLOYEES, TEXT_LIMITS, Stages, enum_label, no_error, parse_cell,
                           text_of)
from .readers import COLUMNS, ROW, SHEET_ZH, TABLES, RawInput, RawTable
from .region_cells import (CITY_COLUMNS, PROVINCE_COLUMNS, REGION_COLUMNS, REGIONS, chinese_cities,
                           districts_in_chinese, region_errors)
from .tables import TEMPLATE_EXAMPLE_NAME, Column, Tables, schema

ERROR_SCHEMA = {
    "sheet": pl.String, "row": pl.Int64, "column": pl.String, "value": pl.String,
    "reason_zh": pl.String, "reason_en": pl.String, "enterprise_id": pl.String, "kind": pl.String,
}
KIND_ERROR = "error"  # the cell or row itself is wrong
KIND_SKIPPED = "skipped"  # the row is fine but its enterprise was rejected, so it was not evaluated
KIND_WARNING = "warning"  # the row was evaluated as given, but a value looks mistyped (profile.IMPLAUSIBLE_RATE)


# --- messages -----------------------------------------------------------------------------------------------


def _message(code: str, column: Column) -> tuple[str, str]:
    allowed = ", ".join(column.enum or ())
    allowed_zh = "、".join(f"{enum_label(v)}({v})" for v in column.enum or ())
    limit = TEXT_LIMITS.get(column.name, 20)
    messages = {
        "required": ("必填，不能为空", "required; must not be empty"),
        "not_number": ("不是有效的数字", "not a valid number"),
        "comma": ("逗号只能用作千位分隔（如 3,000,000），小数请用小数点", "a comma may only group thousands (3,000,000); "
                  "write decimals with a point"),
        "wan": ("金额以元为单位，写成不带“万”“亿”的数字，如 1200 万元写 12000000",
                "amounts are in yuan, written as plain numbers without 万 or 亿: 12000000 for 1200万元"),
        "scientific": ("科学计数法（如 1.2E+07）可能已被表格软件四舍五入，请把该列设为数字格式、写出完整金额后重新导出",
                       "scientific notation (such as 1.2E+07) may have been rounded by the spreadsheet; format the "
                       "column as a number and export the full amount again"),
        "negative": ("不能为负数", "must not be negative"),
        "decimals": ("金额最多保留两位小数（到分）", "amount has more than two decimal places (finer than a fen)"),
        "fen_fraction": ("以分为单位的金额必须是整数", "an amount in fen must be a whole number"),
        "too_large": (f"金额超过上限 {MAX_YUAN} 元", f"amount exceeds the limit of {MAX_YUAN} yuan"),
        "nan": ("不能是 NaN 或无穷大", "must be finite (NaN and infinity are rejected)"),
        "not_integer": ("必须是整数", "must be a whole number"),
        "count_range": (f"必须在 0 到 {MAX_EMPLOYEES} 之间", f"must be between 0 and {MAX_EMPLOYEES}"),
        "bool": ("必须是 是/否（或 true/false）", "must be yes/no (是/否, true/false)"),
        "date": ("必须是日期，如 2026-03-31", "must be a date such as 2026-03-31"),
        "no_such_day": ("日期不存在（格式正确，但该月没有这一天）",
                        "not a real date (the form is right, but there is no such day in that month)"),
        "rate": ("利率须为小数（0.035）或百分数（3.5%）", "a rate must be a fraction (0.035) or a percentage (3.5%)"),
        "rate_high": ("年利率高于 24%，请核对（如 4.5% 是否写成了 0.45）；已按所填利率评估",
                      "annual rate above 24%: please check (is 4.5% written as 0.45?); evaluated as given"),
        "unit_unknown": ("对象编号不是该企业在本文件中的项目或贷款：已按所填计入，但不会减少任何项目或贷款自身的上限；若是笔误请更正",
                         "the unit id names none of this enterprise's projects or loans in this file: counted as given, "
                         "but it lowers no project's or loan's own cap; correct it if it is a typo"),
        "award_after_as_of": ("资助日期晚于评估日，本次评估未计入该笔资助；若日期有误请更正",
                              "the award is dated after the evaluation date, so this run does not count it; "
                              "correct the date if it is a typo"),
        "template_example": ("这是模板中的示例企业，已按所填评估；若不是客户，请删除该行",
                             "this is the template's example enterprise, evaluated as given: delete the row if it "
                             "is not a client"),
        "rate_range": ("利率是小数（0.035）或百分数（3.5%），不能大于 1（100%）",
                       "a rate is a fraction (0.035) or a percentage (3.5%), at most 1 (100%)"),
        "enum": (f"不是允许的取值，可选：{allowed_zh}", f"not an allowed value; allowed: {allowed}"),
        "ident": ("格式不对（不能含空格，最长 64 个字符）", "must have no spaces, at most 64 characters"),
        "too_long": (f"太长（最多 {limit} 个字符）", f"too long (at most {limit} characters)"),
        "uscc": ("统一社会信用代码无效（长度、字符或校验位错误）",
                 "invalid unified social credit code (length, characters or check digit)"),
        "industry": ("GB/T 4754-2017 中没有这个行业代码", "unknown GB/T 4754-2017 industry code"),
        "province": ("未知的省级行政区", "unknown province"),
        "city": ("该省没有这个城市", "unknown city in this province"),
        "district": ("该城市没有这个区县", "unknown district in this city"),
        "region_without_province": ("填写了城市或区县，但没有填写省份", "a city or district is given without its province"),
        "maturity": ("到期日必须晚于发放日", "maturity date must be after the issue date"),
        "duplicate": ("编号重复", "duplicate id"),
        "unknown_scheme": ("不是方案目录中的方案编号（见模板的下拉列表）；已获资助只用于累计上限，目录外方案的资助不必填写",
                           "not a scheme id of the catalogue (see the template's drop-down list); awards only count "
                           "against cumulative caps, so awards of other schemes need not be listed"),
        "unknown_enterprise": ("企业编号在“企业”表中不存在", "enterprise id not found in the enterprises table"),
        "enterprise_rejected": ("该企业有错误，已整体拒绝，本行未评估", "the enterprise was rejected for errors; row not evaluated"),
    }
    return messages[code]


# --- the checks for one table -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Checked:
    values: pl.DataFrame  # ROW + parsed contract columns
    errors: pl.DataFrame  # ROW, column (contract name), value (as written), code


def _check_table(raw: RawTable, fast_paths: bool = True) -> _Checked:
    frame = raw.frame if isinstance(raw.frame, pl.DataFrame) else raw.frame.collect()
    columns = COLUMNS[raw.table]
    present = [c for c in columns if c.name in frame.columns]
    # blank rows (often trailing rows a spreadsheet kept) are not data
    data_columns = [c.name for c in present]
    if data_columns:
        frame = _without_blank_rows(frame, data_columns)
    fen = raw.fen_columns
    clean = _clean_tests(frame, present, fen) if fast_paths else {}
    checked = _checked_rows(frame, columns, present, fen, clean)
    parts = []
    code_columns = [f"{column.name}__code" for column in present]
    # the few rows with a problem, found in one pass; then column by column among those only
    flagged = checked.filter(pl.any_horizontal([pl.col(c).is_not_null() for c in code_columns])) \
        if code_columns else checked.clear()
    for column in present:
        bad = flagged.filter(pl.col(f"{column.name}__code").is_not_null())
        if bad.height:
            original = frame.join(bad.select(ROW), on=ROW, how="semi").select(
                ROW, _as_written(column.name, frame.schema[column.name]).alias("value"))
            parts.append(bad.select(ROW, pl.lit(column.name).alias("column"), pl.col(f"{column.name}__code")
                                    .alias("code")).join(original, on=ROW, how="left"))
    values_frame = districts_in_chinese(checked.select(ROW, *[c.name for c in columns]), raw.table)
    parts += _cross_checks(raw.table, values_frame, frame)
    errors = (pl.concat(parts, how="diagonal_relaxed") if parts
              else pl.DataFrame(schema={ROW: pl.Int64, "column": pl.String, "code": pl.String, "value": pl.String}))
    return _Checked(values_frame, errors.select(ROW, "column", "value", "code"))


_POSITION = "__position"


def _checked_rows(frame: pl.DataFrame, columns: tuple[Column, ...], present: list[Column], fen: frozenset[str],
                  clean: dict[str, tuple[pl.Expr, pl.Expr]]) -> pl.DataFrame:
    """ROW, each contract column parsed and `<name>__code` per present column, in the frame's row order.

    Cells that pass their clean test keep their raw value; the rows where any test fails get the full check,
    so a file with a few bad cells pays for those rows only.
    """
    if not clean:
        return _parsed(frame, columns, present, fen, {})
    kept = {name: value for name, (_, value) in clean.items()}
    passed = frame.select(pl.all_horizontal([test for test, _ in clean.values()]).alias("passed")).get_column("passed")
    if passed.all():
        return _parsed(frame, columns, present, fen, kept)
    numbered = frame.with_row_index(_POSITION)
    position = pl.col(_POSITION)
    return pl.concat([_parsed(numbered.filter(passed), columns, present, fen, kept, position),
                      _parsed(numbered.filter(~passed), columns, present, fen, {}, position)]
                     ).sort(_POSITION).drop(_POSITION)


def _parsed(frame: pl.DataFrame, columns: tuple[Column, ...], present: list[Column], fen: frozenset[str],
            kept: dict[str, pl.Expr], *extra: pl.Expr) -> pl.DataFrame:
    """The full check of each present column, except those in `kept` (value as is), whose every cell passed."""
    values, codes = [], []
    stages = Stages()
    for column in present:
        if column.name in kept:
            value, code = kept[column.name], no_error()
        else:
            value, code = parse_cell(column, pl.col(column.name), frame.schema[column.name], frame,
                                 column.name in fen, stages.keep)
        if column.required:
            code = pl.when(value.is_null() & code.is_null()).then(pl.lit("required")).otherwise(code)
        values.append(value.cast(column.dtype).alias(column.name))
        codes.append(code.cast(pl.String).alias(f"{column.name}__code"))
    missing = [pl.lit(None, dtype=c.dtype).alias(c.name) for c in columns if c.name not in frame.columns]
    return stages.apply(frame.lazy()).select(pl.col(ROW), *extra, *values, *codes, *missing).collect()


def _clean_tests(frame: pl.DataFrame, present: list[Column],
                 fen: frozenset[str]) -> dict[str, tuple[pl.Expr, pl.Expr]]:
    """Column name -> (row test, value of a cell that passes), for the columns with a cheap test (clean_cells.py)."""
    tests = {}
    for column in present:
        raw = pl.col(column.name)
        dtype = frame.schema[column.name]
        if frame.get_column(column.name).null_count() == frame.height:
            # an empty column: every parser gives null and no error
            tests[column.name] = (raw.is_null(), pl.lit(None, dtype=column.dtype))
        elif dtype == pl.String or (isinstance(dtype, pl.List) and dtype.inner == pl.String):
            found = _clean_test(column, raw, dtype, frame, column.name in fen)
            if found is not None:
                tests[column.name] = ((raw.is_null() | found).fill_null(False), raw)
    return tests


def _clean_test(column: Column, raw: pl.Expr, dtype: pl.DataType, frame: pl.DataFrame,
                in_fen: bool) -> pl.Expr | None:
    """The clean test for text (or list-of-text) cells of one column, mirroring parse_cell; None for no cheap test."""
    name = column.name
    if isinstance(column.dtype, pl.List):
        return clean_cells.list_of(raw, column.enum or ()) if isinstance(dtype, pl.List) else None
    if column.dtype != pl.String or name == "uscc":
        return None  # amounts, counts, yes/no and dates written as text need their parse; so does the check digit
    if name in ("annual_rate", "industry_code"):
        def check(distinct: pl.DataFrame) -> pl.DataFrame:
            # the full check, as _parsed runs it on the table, on each distinct value
            cells = distinct.with_row_index(ROW).with_columns(pl.col("raw").alias(name))
            parsed = _parsed(cells, (column,), [column], frozenset({name} if in_fen else ()), {}, pl.col("raw"))
            return parsed.select("raw", pl.col(name).alias("value"), pl.col(f"{name}__code").alias("code"))

        return clean_cells.unchanged_distinct(raw, frame, check)
    if name in ("project_id", "loan_id", "unit_id"):
        return clean_cells.unchanged_identifier(raw, IDENT)
    if column.enum is not None:
        return clean_cells.one_of(raw, column.enum)
    if name in PROVINCE_COLUMNS:  # a short name needs the full check, which writes it out
        return clean_cells.one_of(raw, tuple(region_table.provinces()))
    if name in CITY_COLUMNS:  # so does a short or English one (广州, Guangzhou), whatever the province cell says
        return clean_cells.one_of(raw, chinese_cities())
    limit = TEXT_LIMITS.get(name, 20 if name in REGION_COLUMNS else 200)
    return clean_cells.unchanged_text(raw, limit, integral=name == "enterprise_id")


def _as_written(name: str, dtype: pl.DataType) -> pl.Expr:
    """A cell as the report shows it: text, and a list (from Parquet) as its items joined the way files write them."""
    if isinstance(dtype, pl.List):
        return pl.col(name).cast(pl.List(pl.String)).list.join(";")
    return pl.col(name).cast(pl.String)


def _without_blank_rows(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The frame without rows whose every data cell is empty.

    A blank row has a blank first cell, so only rows with one are checked cell by cell: the usual input, with
    no blank row, costs one pass over one column and no copy.
    """
    def blank(column: str) -> pl.Expr:
        return text_of(pl.col(column)).is_null() if frame.schema[column] == pl.String else pl.col(column).is_null()

    candidates = frame.filter(blank(columns[0]))
    if not candidates.height:
        return frame
    if len(columns) > 1:
        candidates = candidates.filter(pl.all_horizontal([blank(c) for c in columns[1:]]))
    rows = candidates.get_column(ROW)
    return frame.filter(~pl.col(ROW).is_in(rows.implode())) if rows.len() else frame


def _cross_checks(table: str, values: pl.DataFrame, original: pl.DataFrame) -> list[pl.DataFrame]:
    parts = []
    if table in REGIONS:
        found = region_errors(values, REGIONS[table])
        if found.height:
            parts.append(_with_original(found.rename({"_column": "column", "_code": "code"}), original))
    if table == "loans":
        late = values.filter(pl.col("maturity_date") <= pl.col("issue_date")).select(
            ROW, pl.lit("maturity_date").alias("column"), pl.lit("maturity").alias("code"))
        if late.height:
            parts.append(_with_original(late, original))
    if table == "awards":
        # a mistyped scheme would count against no cap, and the headroom shown would be too large
        unknown = values.filter(pl.col("scheme_id").is_not_null()
                                & ~pl.col("scheme_id").is_in(sorted(_catalogue_scheme_ids()))).select(
            ROW, pl.lit("scheme_id").alias("column"), pl.lit("unknown_scheme").alias("code"))
        if unknown.height:
            parts.append(_with_original(unknown, original))
    keys = {"enterprises": ["enterprise_id"], "projects": ["enterprise_id", "project_id"],
            "loans": ["enterprise_id", "loan_id"]}.get(table)
    if keys and not _keys_distinct(values, keys):
        duplicated = values.filter(pl.all_horizontal([pl.col(k).is_not_null() for k in keys])
                                   & pl.struct(keys).is_duplicated())
        if duplicated.height:
            parts.append(_with_original(duplicated.select(ROW, pl.lit(keys[-1]).alias("column"),
                                                          pl.lit("duplicate").alias("code")), original))
    return parts


def _keys_distinct(values: pl.DataFrame, keys: list[str]) -> bool:
    """True when no two rows share their keys, proven cheaply; False sends the table to the full check.

    Rows in strictly increasing key order (as generated or exported inputs usually are) are distinct by one
    comparison with the row before; otherwise as many distinct key hashes as rows proves it (a collision only
    costs the full check)."""
    if values.height < 2:
        return True
    if not any(values.get_column(k).null_count() for k in keys):
        after = pl.lit(False)  # whether each row's keys come after the previous row's, compared key by key
        for key in reversed(keys):
            column, previous = pl.col(key), pl.col(key).shift(1)
            after = (column > previous) | ((column == previous) & after)
        if values.select(after.slice(1).all()).item():
            return True
    return values.select(pl.struct(keys).hash().n_unique()).item() == values.height


@cache
def _catalogue_scheme_ids() -> frozenset[str]:
    from ..schemes import catalogue

    return frozenset(scheme.id for scheme in catalogue().schemes)


def _with_original(found: pl.DataFrame, original: pl.DataFrame) -> pl.DataFrame:
    """Attach the value as written in the file for each (row, column) problem."""
    out = []
    for column, group in found.group_by("column", maintain_order=True):
        name = column[0]
        source = original.select(ROW, pl.col(name).cast(pl.String).alias("value")) if name in original.columns \
            else original.select(ROW, pl.lit(None, dtype=pl.String).alias("value"))
        out.append(group.join(source, on=ROW, how="left"))
    return pl.concat(out)


# --- the whole input ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Counts:
    enterprises_in: int = 0
    evaluated: int = 0
    rejected: int = 0
    rows_in: dict[str, int] = field(default_factory=dict)
    rows_accepted: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    skipped: int = 0  # faultless rows of rejected enterprises, listed in the report but not errors
    warnings: int = 0  # rows evaluated as given whose values look mistyped (KIND_WARNING)

    def add(self, other: Counts) -> None:
        self.enterprises_in += other.enterprises_in
        self.evaluated += other.evaluated
        self.rejected += other.rejected
        self.errors += other.errors
        self.skipped += other.skipped
        self.warnings += other.warnings
        for target, source in ((self.rows_in, other.rows_in), (self.rows_accepted, other.rows_accepted)):
            for key, value in source.items():
                target[key] = target.get(key, 0) + value

    @property
    def reconciles(self) -> bool:
        return self.enterprises_in == self.evaluated + self.rejected

    def as_dict(self) -> dict[str, object]:
        return {"enterprises_in": self.enterprises_in, "evaluated": self.evaluated, "rejected": self.rejected,
                "rows_in": dict(self.rows_in), "rows_accepted": dict(self.rows_accepted), "errors": self.errors,
                "skipped": self.skipped, "warnings": self.warnings}


@dataclass(slots=True)
class Validated:
    tables: Tables  # accepted enterprises and their rows only, typed as the contract says
    errors: pl.DataFrame  # ERROR_SCHEMA
    counts: Counts
    rejected: pl.DataFrame  # enterprise rows rejected: ROW, enterprise_id, name, n_errors


def empty_errors() -> pl.DataFrame:
    return pl.DataFrame(schema=ERROR_SCHEMA)


def _known_enterprises(checked: dict[str, _Checked],
                       enterprises: pl.DataFrame) -> tuple[dict[str, pl.Series], dict[str, pl.Series] | None]:
    """Per table, whether each row's enterprise is in the enterprise table, looked up once and reused by
    validate; and, when the ids are sorted, each row's enterprise row number (for the engine, which would
    otherwise look them up again).

    Sorted ids (as generated or exported, usually) are found by one linear merge (unit_frames.sorted_rows).
    Otherwise the other tables' ids are looked up in one go, so the enterprise ids are hashed once (duplicate
    ids need not be removed first: the look-up only asks whether an id is there).
    """
    from .unit_frames import sorted_rows, split_like

    others = [name for name in TABLES if name != "enterprises"]
    ids = [checked[name].values.get_column("enterprise_id") for name in others]
    rows = sorted_rows(enterprises.get_column("enterprise_id"), ids)
    if rows is not None:
        found = [r.is_not_null() for r in rows]
    else:
        known_ids = enterprises.get_column("enterprise_id").drop_nulls().implode()
        found = split_like(pl.concat(ids).is_in(known_ids).fill_null(False), ids)
    known = {"enterprises": pl.repeat(True, enterprises.height, eager=True), **dict(zip(others, found))}
    return known, None if rows is None else dict(zip(others, rows))


def _renumbered(rows: dict[str, pl.Series] | None, kept: dict[str, pl.Series]) -> tuple[pl.Series, ...] | None:
    """The accepted rows' enterprise row numbers among the accepted enterprises (kept: each table's mask)."""
    if rows is None:
        return None
    accepted = kept["enterprises"]
    others = [name for name in TABLES if name != "enterprises"]
    if bool(accepted.all()):
        return tuple(rows[name].filter(kept[name]) for name in others)
    # an enterprise's new row number: how many accepted enterprises come before it
    new_row = (accepted.cast(pl.UInt32).cum_sum() - 1).cast(pl.UInt32)
    return tuple(new_row.gather(rows[name].filter(kept[name])) for name in others)


def validate(raw: RawInput, fast_paths: bool = True, as_of: date | None = None) -> Validated:
    """Check every table; reject enterprises with any error, report everything, keep the rest typed.

    `fast_paths=False` checks every cell in full: the reference the clean-cell tests are tested against. With
    the evaluation date, awards dated after it (not counted then) are listed as warnings.
    """
    checked = {name: _check_table(table, fast_paths) for name, table in raw.tables.items()}
    for name in TABLES:
        if name not in checked:
            checked[name] = _Checked(pl.DataFrame(schema={ROW: pl.Int64, **schema(COLUMNS[name])}),
                                     pl.DataFrame(schema={ROW: pl.Int64, "column": pl.String, "value": pl.String,
                                                          "code": pl.String}))
    enterprises = checked["enterprises"].values
    errors: dict[str, pl.DataFrame] = {}
    bad_ids: list[pl.Series] = []
    known, rows = _known_enterprises(checked, enterprises)
    for name in TABLES:
        table = checked[name]
        found = table.errors
        if name != "enterprises":
            dangling = table.values.filter(pl.col("enterprise_id").is_not_null() & ~known[name])
            if dangling.height:
                found = pl.concat([found, dangling.select(
                    ROW, pl.lit("enterprise_id").alias("column"), pl.col("enterprise_id").alias("value"),
                    pl.lit("unknown_enterprise").alias("code"))])
        found = found.join(table.values.select(ROW, "enterprise_id"), on=ROW, how="left")
        errors[name] = found
        bad_ids.append(found.filter(pl.col("code") != "unknown_enterprise").get_column("enterprise_id").drop_nulls())
    rejected_ids = pl.concat(bad_ids).unique() if bad_ids else pl.Series("enterprise_id", [], pl.String)
    rejected_rows = enterprises.filter(pl.col("enterprise_id").is_null()
                                       | pl.col("enterprise_id").is_in(rejected_ids.implode())
                                       | pl.col(ROW).is_in(errors["enterprises"].get_column(ROW).implode()))
    accepted: dict[str, pl.DataFrame] = {}
    kept: dict[str, pl.Series] = {}
    counts = Counts(enterprises_in=enterprises.height, rejected=rejected_rows.height)
    report_parts = []
    for name in TABLES:
        table = checked[name]
        own_errors = errors[name]
        # with no rejected enterprise and no bad row (the usual case) the id and row look-ups can be skipped
        rejected_here = (table.values.get_column("enterprise_id").is_in(rejected_ids.implode()).fill_null(False)
                         if rejected_ids.len() else pl.repeat(False, table.values.height, eager=True))
        bad_row = (pl.col(ROW).is_in(own_errors.get_column(ROW).implode()) if own_errors.height
                   else pl.lit(False))
        kept[name] = table.values.select(pl.col("enterprise_id").is_not_null() & known[name] & ~rejected_here
                                         & ~bad_row).to_series()
        keep = table.values.filter(kept[name])
        if name != "enterprises" and rejected_ids.len():
            skipped = table.values.filter(rejected_here & ~bad_row)
            if skipped.height:
                own_errors = pl.concat([own_errors, skipped.select(
                    ROW, pl.lit("enterprise_id").alias("column"), pl.col("enterprise_id").alias("value"),
                    pl.lit("enterprise_rejected").alias("code"), "enterprise_id")])
        if name == "loans":
            own_errors = pl.concat([own_errors, _implausible_rates(keep)])
        if name == "enterprises":
            own_errors = pl.concat([own_errors, _template_examples(keep)])
        if name == "awards":
            own_errors = pl.concat([own_errors, _awards_naming_no_unit(keep, accepted["projects"], accepted["loans"]),
                                    _awards_after(keep, as_of)])
        accepted[name] = keep.drop(ROW)
        counts.rows_in[name] = table.values.height
        counts.rows_accepted[name] = keep.height
        report_parts.append(_explain(name, raw.tables.get(name), own_errors))
    counts.evaluated = accepted["enterprises"].height
    report = pl.concat(report_parts) if report_parts else empty_errors()
    report = report.sort("sheet_order", "row", "column_order").drop("sheet_order", "column_order")
    kinds = report.get_column("kind")
    counts.errors, counts.skipped, counts.warnings = (int((kinds == kind).sum())
                                                      for kind in (KIND_ERROR, KIND_SKIPPED, KIND_WARNING))
    tables = Tables(*(accepted[name] for name in TABLES), enterprise_rows=_renumbered(rows, kept))
    return Validated(tables, report, counts, _with_error_counts(rejected_rows.select(ROW, "enterprise_id", "name"),
                                                               errors))


def _with_error_counts(rejected: pl.DataFrame, errors: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Each rejected enterprise's errors in every table (by its id), or, for a row without an id, its own row's."""
    by_id = (pl.concat([found.select("enterprise_id") for found in errors.values()]).drop_nulls()
             .group_by("enterprise_id").agg(pl.len().cast(pl.Int64).alias("_by_id")))
    by_row = (errors["enterprises"].filter(pl.col("enterprise_id").is_null())
              .group_by(ROW).agg(pl.len().cast(pl.Int64).alias("_by_row")))
    return (rejected.join(by_id, on="enterprise_id", how="left", maintain_order="left")
            .join(by_row, on=ROW, how="left", maintain_order="left")
            .select(ROW, "enterprise_id", "name",
                    pl.coalesce("_by_id", "_by_row", pl.lit(0, dtype=pl.Int64)).alias("n_errors")))


_KIND_OF_CODE = {"enterprise_rejected": KIND_SKIPPED, "rate_high": KIND_WARNING, "template_example": KIND_WARNING,
                 "unit_unknown": KIND_WARNING, "award_after_as_of": KIND_WARNING}


def _report_rows(found: pl.DataFrame, column: str, code: str) -> pl.DataFrame:
    """Rows found by a check of accepted rows, as report rows naming `column` and its value (_explain adds why)."""
    return found.select(ROW, pl.lit(column).alias("column"), pl.col(column).alias("value"), pl.lit(code).alias("code"),
                        "enterprise_id")


def _awards_naming_no_unit(awards: pl.DataFrame, projects: pl.DataFrame, loans: pl.DataFrame) -> pl.DataFrame:
    """Accepted awards whose unit id is none of their enterprise's projects or loans: an earlier loan's award is
    fine, a typo silently leaves a cap too high, so they are listed (evaluated as given)."""
    named = awards.filter(pl.col("unit_id").is_not_null())
    if not named.height:  # the usual case: no award names a unit, so millions of units need not be gathered
        return _report_rows(named, "unit_id", "unit_unknown")
    owners = pl.col("enterprise_id").is_in(named.get_column("enterprise_id").unique().implode())
    units = pl.concat([projects.filter(owners).select("enterprise_id", pl.col("project_id").alias("unit_id")),
                       loans.filter(owners).select("enterprise_id", pl.col("loan_id").alias("unit_id"))])
    return _report_rows(named.join(units, on=["enterprise_id", "unit_id"], how="anti"), "unit_id", "unit_unknown")


def _awards_after(awards: pl.DataFrame, as_of: date | None) -> pl.DataFrame:
    """Accepted awards dated after the evaluation date: not received yet on that date, so not counted; listed,
    as a mistyped date would otherwise leave a cap too high without a sign."""
    found = awards.filter(pl.col("date") > as_of) if as_of is not None else awards.clear()
    return found.select(ROW, pl.lit("date").alias("column"), pl.col("date").cast(pl.String).alias("value"),
                        pl.lit("award_after_as_of").alias("code"), "enterprise_id")


def _template_examples(enterprises: pl.DataFrame) -> pl.DataFrame:
    """Accepted enterprises named as the template's example row: likely left in by mistake, evaluated anyway."""
    return _report_rows(enterprises.filter(pl.col("name") == TEMPLATE_EXAMPLE_NAME), "name", "template_example")


def _implausible_rates(loans: pl.DataFrame) -> pl.DataFrame:
    """Accepted loans whose rate is above IMPLAUSIBLE_RATE, as report rows: evaluated all the same."""
    rates = loans.get_column("annual_rate")
    high = {text for text in rates.drop_nulls().unique().to_list() if Decimal(text) > IMPLAUSIBLE_RATE}
    found = loans.filter(rates.is_in(sorted(high))) if high else loans.clear()
    return _report_rows(found, "annual_rate", "rate_high")


def _explain(table: str, raw: RawTable | None, found: pl.DataFrame) -> pl.DataFrame:
    """Turn (row, column, code) into the report: sheet, header as written, reason in zh and en."""
    columns = {c.name: c for c in COLUMNS[table]}
    order = {c.name: i for i, c in enumerate(COLUMNS[table])}
    headers = raw.headers if raw is not None else {}
    sheet = raw.sheet if raw is not None else SHEET_ZH[table]
    combos = found.select("column", "code").unique().iter_rows()
    lookup = []
    for column, code in combos:
        zh, en = _message(code, columns[column])
        lookup.append({"column": column, "code": code, "reason_zh": zh, "reason_en": en,
                       "header": headers.get(column, columns[column].header_zh),
                       "kind": _KIND_OF_CODE.get(code, KIND_ERROR),
                       "column_order": order[column]})
    if not lookup:
        return pl.DataFrame(schema={**ERROR_SCHEMA, "sheet_order": pl.Int64, "column_order": pl.Int64})
    reasons = pl.DataFrame(lookup, schema_overrides={"column_order": pl.Int64})
    return (found.join(reasons, on=["column", "code"], how="left")
            .select(pl.lit(sheet).alias("sheet"), pl.col(ROW).alias("row"), pl.col("header").alias("column"),
                    "value", "reason_zh", "reason_en", "enterprise_id", "kind",
                    pl.lit(TABLES.index(table), dtype=pl.Int64).alias("sheet_order"), "column_order"))
