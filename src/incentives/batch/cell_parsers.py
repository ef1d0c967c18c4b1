"""The check of one cell of a batch table, written as polars expressions: each parser gives the cell's typed
value and an error code (null when the cell is fine), for a whole column at once.

Amounts in yuan become integer fen exactly (no floats); rates are read as fractions or percentages; regions
are checked in region_cells.py, industry codes against the bundled GB/T 4754-2017 table; the unified social
credit code's check digit uses the same algorithm as stdnum.cn.uscc (tested against it). The codes become
messages in validate.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

import polars as pl
from stdnum.cn import uscc as stdnum_uscc

from .. import industry as industry_table
from .. import regions as region_table
from ..profile import MAX_YUAN
from .region_cells import CITY_COLUMNS, PROVINCE_COLUMNS, REGION_COLUMNS, english_region
from .tables import Column

MAX_EMPLOYEES = 10_000_000
Keep = Callable[[pl.Expr], pl.Expr]


# Chinese labels accepted in place of the codes (and shown in the template's drop-down lists).
ENUM_LABELS_ZH: dict[str, str] = {
    "private": "民营", "state_owned": "国有", "foreign": "外资", "collective": "集体", "mixed": "混合所有制",
    "applied_basic_research": "应用性基础研究", "key_tech_challenge": "揭榜挂帅", "innovation_consortium": "创新联合体",
    "industry_cluster": "产业集群建设", "industrialisation": "产业化", "pilot_platform": "中试平台建设",
    "pilot_services": "购买中试服务", "intl_org": "国际性科技组织", "overseas_incubator": "海外孵化平台",
    "satellite_services": "卫星增值服务", "satellite_licence": "卫星通信经营许可",
    "satellite": "卫星", "scientific_instruments": "科学仪器", "smart_terminal": "智能终端",
    "secure_software_hardware": "商用密码与自主软硬件", "ai": "人工智能", "biopharma": "医药健康",
    "green_low_carbon": "绿色低碳", "robotics": "机器人与智能制造", "new_materials": "新材料", "ic": "集成电路",
    "aerospace": "空天技术", "safety_emergency": "安全应急", "future_industry": "未来产业",
    "next_gen_it": "新一代信息技术", "icv_nev": "智能网联新能源汽车",
    "fixed_asset": "固定资产贷款", "working_capital": "流动资金贷款",
    "build_plant": "建设厂房", "buy_equipment": "购置设备", "tech_upgrade": "技术改造", "daily_operations": "日常经营周转",
    "refinance": "借新还旧", "repay_debt": "偿还债务", "land": "购置土地", "financial_investment": "金融投资",
    "real_estate": "房地产开发",
}
# labels shared by several enums, resolved per enum
_SHARED_LABELS = {"rd": "研发", "6g": "6G", "other": "其他"}
# other words in use for a code, accepted as its label is (not offered in the drop-down lists)
_SYNONYMS_ZH: dict[str, tuple[str, ...]] = {"private": ("私营", "私营企业", "民营企业")}

TRUE_WORDS = ("true", "t", "yes", "y", "1", "1.0", "是", "有", "对", "√", "✓", "已获", "已认定")
FALSE_WORDS = ("false", "f", "no", "n", "0", "0.0", "否", "无", "不是", "没有", "×", "✗", "未获", "未认定")

IDENT = r"^[^\x00-\x20\x7f-\x9f\u3000]{1,64}$"  # as profile.Identifier
TEXT_LIMITS = {"name": 200, "lender": 100, "source": 200, "scheme_id": 100, "enterprise_id": 64}


def enum_label(code: str) -> str:
    return ENUM_LABELS_ZH.get(code) or _SHARED_LABELS.get(code, code)


def _enum_map(values: tuple[str, ...]) -> dict[str, str]:
    """Accepted spellings (code, Chinese label, 'label(code)') -> code."""
    mapping: dict[str, str] = {}
    for code in values:
        label = enum_label(code)
        for spelling in (code, code.upper(), label, f"{label}({code})", f"{label}（{code}）",
                         *_SYNONYMS_ZH.get(code, ())):
            mapping[spelling] = code
    return mapping


# --- column parsers: (value expression, error-code expression) -----------------------------------------------


class Stages:
    """Intermediate columns, materialised level by level.

    A check is a chain of derived values (clean text -> digits -> fen -> error code); written as one nested
    expression the chain is re-evaluated at every use, which made a million rows take minutes. `keep` names a
    step so later steps read a column instead.
    """

    def __init__(self) -> None:
        self.levels: list[dict[str, pl.Expr]] = []
        self.level_of: dict[str, int] = {}

    def keep(self, expr: pl.Expr) -> pl.Expr:
        level = 1 + max((self.level_of.get(name, -1) for name in expr.meta.root_names()), default=-1)
        name = f"__step{len(self.level_of)}"
        while len(self.levels) <= level:
            self.levels.append({})
        self.levels[level][name] = expr
        self.level_of[name] = level
        return pl.col(name)

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        for level in self.levels:
            frame = frame.with_columns(**level)
        return frame


def text_of(raw: pl.Expr) -> pl.Expr:
    stripped = raw.cast(pl.String).str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped)


def no_error() -> pl.Expr:
    return pl.lit(None, dtype=pl.String)


def _decimal_parts(text: pl.Expr, keep: Keep) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(bare text, clean text, integer digits, fraction digits without trailing zeros) of a plain decimal number."""
    bare = keep(text.str.replace_all(r"[_\s¥￥元]", ""))
    # a comma only groups thousands: "1,5" (a decimal comma elsewhere) read as 15 would be ten times off
    grouped = bare.str.contains(r"^\+?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$")
    clean = keep(pl.when(bare.str.contains(",", literal=True) & ~grouped).then(pl.lit("bad,comma"))
                 .otherwise(bare.str.replace_all(",", "", literal=True)).str.replace(r"^\+", ""))
    parts = keep(clean.str.extract_groups(r"^(\d+)(?:\.(\d*))?$"))
    whole = keep(parts.struct.field("1").str.strip_chars_start("0"))
    fraction = keep(parts.struct.field("2").fill_null("").str.strip_chars_end("0"))
    return bare, clean, whole, fraction


# 1200万 or 2亿 (元 is already gone): refused, not multiplied, since every amount of the table is in yuan
_IN_WAN = r"^[+-]?[0-9][0-9,]*(\.[0-9]+)?[万亿]$"
# exponent notation: a float's repr (1e+20), or what a narrow spreadsheet column shows of 12000000 (1.2E+07)
_EXPONENT = r"^([0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+$"
_EXPONENT_PARTS = r"^([0-9]*)(?:\.([0-9]*))?[eE]([+-]?)0*([0-9]+)$"


def _error_for_bad_number(bare: pl.Expr, whole: pl.Expr, in_fen: bool, keep: Keep) -> pl.Expr:
    """Why a cell that is no plain number was refused.

    The tests run on a column holding only those cells (null elsewhere), so a clean column pays next to nothing
    for them."""
    failed = keep(pl.when(whole.is_null()).then(bare))
    unsigned = keep(failed.str.replace(r"^\+", ""))
    return (pl.when(failed.str.contains(_IN_WAN)).then(pl.lit("wan"))
            .when(failed.str.contains(",", literal=True)).then(pl.lit("comma"))
            .when(failed.str.contains(r"(?i)^[+-]?(nan|inf|infinity)$")).then(pl.lit("nan"))
            .when(unsigned.str.contains(r"^-\d*\.?\d+([eE][+-]?\d+)?$")).then(pl.lit("negative"))
            .when(unsigned.str.contains(_EXPONENT)).then(_exponent_error(unsigned, in_fen, keep))
            .otherwise(pl.lit("not_number")))


def _exponent_error(text: pl.Expr, in_fen: bool, keep: Keep) -> pl.Expr:
    """Exponent notation is refused whatever it says: 1.2E+07 may be 12,345,678 rounded by the spreadsheet. But one
    beyond the limit (1e+20) or finer than a fen (1e-07), as a float's repr writes such numbers, is called that."""
    parts = keep(text.str.extract_groups(_EXPONENT_PARTS))
    fraction = parts.struct.field("2").fill_null("")
    sign = pl.when(parts.struct.field("3") == "-").then(-1).otherwise(1)
    shift = parts.struct.field("4")  # a billion places is as good as more, and casts safely
    exponent = sign * pl.when(shift.str.len_chars() > 9).then(10**9).otherwise(shift.cast(pl.Int64, strict=False))
    significant = keep((parts.struct.field("1") + fraction).str.strip_chars_start("0"))
    digits = keep(significant.str.strip_chars_end("0"))
    # the amount in fen is digits * 10**power; with no trailing zero left in digits, a negative power is a fraction
    power = keep(exponent - fraction.str.len_chars()
                 + significant.str.len_chars() - digits.str.len_chars() + (0 if in_fen else 2))
    width = keep(digits.str.len_chars() + power)  # the amount's number of digits
    limit = MAX_YUAN * 100
    widest = len(str(limit))
    fen = digits.str.pad_end(width.clip(0, widest), "0").cast(pl.Int64, strict=False)
    return (pl.when(digits == "").then(pl.lit("scientific"))
            .when(power < 0).then(pl.lit("fen_fraction" if in_fen else "decimals"))
            .when((width > widest) | (fen > limit)).then(pl.lit("too_large"))
            .otherwise(pl.lit("scientific")))


def _money(raw: pl.Expr, dtype: pl.DataType, in_fen: bool, keep: Keep) -> tuple[pl.Expr, pl.Expr]:
    """Yuan (or fen) as written -> integer fen; never through a float."""
    limit = MAX_YUAN * 100
    if dtype.is_integer():
        value = raw.cast(pl.Int64) * (1 if in_fen else 100)
        return value, pl.when(raw < 0).then(pl.lit("negative")).when(value > limit).then(pl.lit("too_large"))
    if isinstance(dtype, pl.Decimal) and dtype.scale <= 2 and not in_fen:
        # exact decimal arithmetic: yuan with at most two decimals is a whole number of fen
        too_large = raw > MAX_YUAN
        value = keep(pl.when(too_large).then(None).otherwise((raw * 100).cast(pl.Int64, strict=False)))
        return value, pl.when(raw < 0).then(pl.lit("negative")).when(too_large).then(pl.lit("too_large"))
    text = keep(text_of(raw))
    bare, _, whole, fraction = _decimal_parts(text, keep)
    why_not_a_number = _error_for_bad_number(bare, whole, in_fen, keep)
    # integer digits beyond 15 cannot be within the limit; checking length first keeps the cast safe
    too_long = keep(whole.str.len_chars() > 15)
    whole_int = keep(pl.when(too_long).then(None).otherwise(pl.when(whole == "").then(pl.lit("0")).otherwise(whole)
                                                             .cast(pl.Int64, strict=False)))
    if in_fen:
        value = whole_int
        code = keep(pl.when(text.is_null()).then(None)
                    .when(whole.is_null()).then(why_not_a_number)
                    .when(fraction != "").then(pl.lit("fen_fraction"))
                    .when(too_long | (value > limit)).then(pl.lit("too_large")))
    else:
        cents = fraction.str.pad_end(2, "0").cast(pl.Int64, strict=False)
        value = keep(whole_int * 100 + cents)
        code = keep(pl.when(text.is_null()).then(None)
                    .when(whole.is_null()).then(why_not_a_number)
                    .when(fraction.str.len_chars() > 2).then(pl.lit("decimals"))
                    .when(too_long | (value > limit)).then(pl.lit("too_large")))
    return pl.when(code.is_null()).then(value), code


def _count(raw: pl.Expr, dtype: pl.DataType, keep: Keep) -> tuple[pl.Expr, pl.Expr]:
    if dtype.is_integer():
        value = raw.cast(pl.Int64)
        return value, pl.when((value < 0) | (value > MAX_EMPLOYEES)).then(pl.lit("count_range"))
    text = keep(text_of(raw))
    _, clean, whole, fraction = _decimal_parts(text, keep)
    value = keep(pl.when(whole == "").then(pl.lit("0")).otherwise(whole).cast(pl.Int64, strict=False))
    code = keep(pl.when(text.is_null()).then(None)
            .when(clean.str.starts_with("-")).then(pl.lit("count_range"))
            .when(whole.is_null()).then(pl.lit("not_integer"))
            .when(fraction != "").then(pl.lit("not_integer"))
            .when(value.is_null() | (value > MAX_EMPLOYEES)).then(pl.lit("count_range")))
    return pl.when(code.is_null()).then(value), code


def _bool(raw: pl.Expr, dtype: pl.DataType, keep: Keep) -> tuple[pl.Expr, pl.Expr]:
    if dtype == pl.Boolean:
        return raw, no_error()
    text = keep(text_of(raw).str.to_lowercase())
    value = keep(pl.when(text.is_in(TRUE_WORDS)).then(pl.lit(True))
             .when(text.is_in(FALSE_WORDS)).then(pl.lit(False)).otherwise(pl.lit(None, dtype=pl.Boolean)))
    return value, pl.when(text.is_not_null() & value.is_null()).then(pl.lit("bool"))


_EXCEL_EPOCH = date(1899, 12, 30)  # serial day 0 of the 1900 date system (Lotus leap-year quirk included)


def _date(raw: pl.Expr, dtype: pl.DataType, keep: Keep) -> tuple[pl.Expr, pl.Expr]:
    if dtype == pl.Date:
        return raw, no_error()
    if dtype == pl.Datetime:
        return raw.dt.date(), no_error()
    text = keep(text_of(raw))
    plain = keep(text.str.replace(r"\s+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "").str.replace(r"日$", "")
             .str.replace_all(r"[/.年月]", "-"))
    compact = plain.str.contains(r"^\d{8}$")
    iso = keep(pl.when(compact).then(plain.str.to_date("%Y%m%d", strict=False))
           .otherwise(plain.str.to_date("%Y-%m-%d", strict=False)))
    # a date cell inside a text column arrives as its Excel serial number
    serial = keep(text.str.extract(r"^(\d{1,6})(?:\.\d+)?$").cast(pl.Int64, strict=False))
    from_serial = pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial)
    value = keep(pl.when(serial.is_not_null()).then(from_serial).otherwise(iso))
    bad = keep(text.is_not_null() & (value.is_null() | (value.dt.year() < 1900) | (value.dt.year() > 2199)))
    no_such_day = _no_such_day(keep(pl.when(bad).then(plain)), keep)
    code = pl.when(no_such_day).then(pl.lit("no_such_day")).otherwise(pl.lit("date"))
    return pl.when(~bad).then(value), pl.when(bad).then(code)


def _no_such_day(failed: pl.Expr, keep: Keep) -> pl.Expr:
    """A date written right whose day its month does not have (2026-02-30): told apart, as --as-of does, so that
    the user looks at the day, not the format. `failed` holds only the refused cells (null elsewhere): a clean
    column pays next to nothing for this."""
    parts = keep(failed.str.extract_groups(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$|^([0-9]{4})([0-9]{2})([0-9]{2})$"))
    year, month, day = (keep(pl.coalesce(parts.struct.field(str(i)), parts.struct.field(str(i + 3)))
                             .cast(pl.Int32)) for i in (1, 2, 3))
    real_month = year.is_between(1900, 2199) & month.is_between(1, 12)
    # null outside real months (so also on every clean cell): pl.date would refuse month 13
    last_day = pl.date(pl.when(real_month).then(year), pl.when(real_month).then(month), 1).dt.month_end().dt.day()
    return (real_month & (day >= 1) & (day > last_day)).fill_null(False)


def _lookup(text: pl.Expr, table: dict[str, str | None], error: str, keep: Keep) -> tuple[pl.Expr, pl.Expr]:
    """Map each distinct value through a Python-built table (None = rejected)."""
    value = keep(text.replace_strict(list(table), list(table.values()), default=None, return_dtype=pl.String))
    return value, pl.when(text.is_not_null() & value.is_null()).then(pl.lit(error))


def _enum(raw: pl.Expr, column: Column, keep: Keep) -> tuple[pl.Expr, pl.Expr]:
    text = keep(text_of(raw))
    mapping = _enum_map(column.enum or ())
    return _lookup(text, mapping, "enum", keep)


def _list(raw: pl.Expr, dtype: pl.DataType, column: Column, keep: Keep) -> tuple[pl.Expr, pl.Expr]:
    mapping = _enum_map(column.enum or ())
    if isinstance(dtype, pl.List):
        items = raw.cast(pl.List(pl.String))
    else:
        items = text_of(raw).str.replace_all(r"[；;，,、|/\s]+", ";").str.strip_chars(";").str.split(";")
    cleaned = keep(items.list.eval(pl.element().str.strip_chars()).list.eval(pl.element().filter(pl.element() != "")))
    codes = keep(cleaned.list.eval(pl.element().replace_strict(list(mapping), list(mapping.values()), default=None,
                                                               return_dtype=pl.String)))
    has_unknown = keep(codes.list.eval(pl.element().is_null()).list.any())
    value = codes.list.unique(maintain_order=True)
    return pl.when(~has_unknown.fill_null(False)).then(value), pl.when(has_unknown).then(pl.lit("enum"))


def _identifier(raw: pl.Expr, keep: Keep) -> tuple[pl.Expr, pl.Expr]:
    text = keep(_integral_text(text_of(raw)))
    return text, pl.when(text.is_not_null() & ~text.str.contains(IDENT)).then(pl.lit("ident"))


def _integral_text(text: pl.Expr) -> pl.Expr:
    # an id typed as a number in a spreadsheet arrives as "123.0"
    return text.str.replace(r"^(\d+)\.0$", "$1")


def enterprise_key(raw: pl.Expr) -> pl.Expr:
    """The enterprise id as validation reads it: partitioning by this keeps an enterprise's rows together."""
    return _integral_text(text_of(raw))


def _free_text(raw: pl.Expr, column: Column, keep: Keep) -> tuple[pl.Expr, pl.Expr]:
    text = text_of(raw)
    if column.name == "enterprise_id":
        text = _integral_text(text)
    if column.name in PROVINCE_COLUMNS:  # 上海 as 上海市, 广西 as 广西壮族自治区, Guangdong as 广东省
        aliases = region_table.province_aliases()
        text = english_region(text.replace(list(aliases), list(aliases.values())), "provinces")
    if column.name in CITY_COLUMNS:  # 广州 as 广州市, Guangzhou as 广州市
        aliases = region_table.city_aliases()
        text = english_region(text.replace(list(aliases), list(aliases.values())), "cities")
    text = keep(text)
    limit = TEXT_LIMITS.get(column.name, 20 if column.name in REGION_COLUMNS else 200)
    return text, pl.when(text.str.len_chars() > limit).then(pl.lit("too_long"))


_USCC_ALPHABET = stdnum_uscc._alphabet  # the same character set stdnum checks against
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # stdnum's weights are 3^i mod 31


def _uscc(raw: pl.Expr, keep: Keep) -> tuple[pl.Expr, pl.Expr]:
    """Length, characters and check digit, as stdnum.cn.uscc.validate (and compacted the same way)."""
    text = keep(text_of(raw))
    code = keep(text.str.replace_all(r"[ \-]", "").str.to_uppercase())
    index = {ch: i for i, ch in enumerate(_USCC_ALPHABET)}
    digits = [keep(code.str.slice(i, 1).replace_strict(list(index), list(index.values()), default=None,
                                                        return_dtype=pl.Int64)) for i in range(18)]
    total = keep(pl.sum_horizontal([d * w for d, w in zip(digits, _USCC_WEIGHTS)]))
    check = ((31 - total % 31) % 31)
    valid = ((code.str.len_chars() == 18) & code.str.slice(0, 8).str.contains(r"^\d{8}$")
             & pl.all_horizontal([d.is_not_null() for d in digits[8:]]) & (digits[17] == check))
    ok = keep(valid.fill_null(False))
    return pl.when(ok).then(code), pl.when(text.is_not_null() & ~ok).then(pl.lit("uscc"))


def _industry(raw: pl.Expr, frame: pl.DataFrame, keep: Keep) -> tuple[pl.Expr, pl.Expr]:
    text = _integral_text(text_of(raw))
    distinct = frame.select(text.alias("v")).get_column("v").drop_nulls().unique().to_list()
    table = {}
    for value in distinct:
        found = industry_table.lookup(value)
        table[value] = found.code if found is not None else None
    return _lookup(keep(text), table, "industry", keep)


def _rate(raw: pl.Expr, frame: pl.DataFrame, keep: Keep) -> tuple[pl.Expr, pl.Expr]:
    """Exact decimal text; '3.5%' reads as 0.035. Parsed per distinct value: rates repeat a lot."""
    text = text_of(raw)
    distinct = frame.select(text.alias("v")).get_column("v").drop_nulls().unique().to_list()
    values: dict[str, str | None] = {}
    codes: dict[str, str] = {}
    for item in distinct:
        parsed = _parse_rate(item)
        if isinstance(parsed, Decimal):
            values[item] = format(parsed, "f")
        else:
            values[item] = None
            codes[item] = parsed
    text = keep(text)
    value = text.replace_strict(list(values), list(values.values()), default=None, return_dtype=pl.String)
    code = text.replace_strict(list(codes), list(codes.values()), default=None, return_dtype=pl.String) \
        if codes else no_error()
    return value, code


def _parse_rate(text: str) -> Decimal | str:
    percent = text.endswith("%") or text.endswith("％")
    body = text.rstrip("%％").strip()
    try:
        rate = Decimal(body)
    except InvalidOperation:
        return "rate"
    if not rate.is_finite():
        return "nan"
    if rate < 0:
        return "negative"
    if percent:
        rate = rate.scaleb(-2)
    if rate > 1:
        return "rate_range"
    return rate.normalize() if rate != 0 else Decimal(0)


def parse_cell(column: Column, raw: pl.Expr, dtype: pl.DataType, frame: pl.DataFrame,
           in_fen: bool, keep: Keep) -> tuple[pl.Expr, pl.Expr]:
    name = column.name
    if column.dtype == pl.Int64 and column.file_name is not None:
        return _money(raw, dtype, in_fen, keep)
    if column.dtype == pl.Int64:
        return _count(raw, dtype, keep)
    if column.dtype == pl.Boolean:
        return _bool(raw, dtype, keep)
    if column.dtype == pl.Date:
        return _date(raw, dtype, keep)
    if isinstance(column.dtype, pl.List):
        return _list(raw, dtype, column, keep)
    if name == "annual_rate":
        return _rate(raw, frame, keep)
    if name in ("project_id", "loan_id", "unit_id"):
        return _identifier(raw, keep)
    if name == "uscc":
        return _uscc(raw, keep)
    if name == "industry_code":
        return _industry(raw, frame, keep)
    if column.enum is not None:
        return _enum(raw, column, keep)
    return _free_text(raw, column, keep)
