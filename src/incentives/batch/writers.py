"""Batch output: the explained workbook (汇总 / 明细 / 待确认 / 错误), or the same four tables as CSV or Parquet.

Writers take results chunk by chunk, so a run over millions of enterprises never holds all the detail rows.
XLSX and CSV are for people: text that a spreadsheet could take for a formula is neutralised, and amounts are
yuan (numbers with a yuan format in XLSX, exact decimal text in CSV). In XLSX the text stays as it is, in a text
cell marked quotePrefix (see xlsx.py), so "=E3" still matches a lookup on "=E3"; CSV has no cell types, so there
such text gets a leading apostrophe. Parquet is for machines: integer fen, text as given.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ..results import STATUS_LABELS, Status
from .sources import SOURCES_SCHEMA, sources_sheet
from .validate import ERROR_SCHEMA, KIND_SKIPPED, KIND_WARNING, Counts
from .xlsx import INT, MONEY, TEXT, Col, XlsxBook, Yuan, neutralise, yuan_text

if TYPE_CHECKING:
    from .streamed_details import StreamedDetails

FORMATS = ("xlsx", "csv", "parquet")
RESULT_TABLES = ("summary", "details", "to_confirm", "errors", "sources")  # the folder formats' files or datasets
SUMMARY_SCHEMA = {
    "enterprise_id": pl.String, "name": pl.String, "size_class": pl.String, "outcome": pl.String, "total_fen": pl.Int64,
    "potential_total_fen": pl.Int64, "n_eligible": pl.Int64, "n_to_confirm": pl.Int64, "top_schemes": pl.String,
    "n_errors": pl.Int64, "n_warnings": pl.Int64,
}
DETAIL_SCHEMA = {  # the evaluator's contract: what machines get (Parquet)
    "enterprise_id": pl.String, "scheme_id": pl.String, "unit_kind": pl.String, "unit_id": pl.String, "status": pl.String, "amount_fen": pl.Int64, "cap_fen": pl.Int64,
    "binding_cap": pl.Boolean, "headroom_fen": pl.Int64, "superseded_by": pl.String, "reasons_zh": pl.String,
    "reasons_en": pl.String, "to_confirm_zh": pl.String, "to_confirm_en": pl.String, "notes_zh": pl.String,
    "notes_en": pl.String,
}
# what people get (XLSX, CSV): the enterprise's name and the scheme's title next to the ids
PEOPLE_DETAIL_SCHEMA = {"enterprise_id": pl.String, "name": pl.String, "scheme_id": pl.String,
                        "scheme_title": pl.String, **{k: v for k, v in DETAIL_SCHEMA.items()
                                                      if k not in ("enterprise_id", "scheme_id")}}
TO_CONFIRM_COLUMNS = ("enterprise_id", "scheme_id", "unit_kind", "unit_id", "amount_fen", "to_confirm_zh",
                      "to_confirm_en")
TO_CONFIRM_SCHEMA = {name: DETAIL_SCHEMA[name] for name in TO_CONFIRM_COLUMNS}
PEOPLE_TO_CONFIRM_COLUMNS = ("enterprise_id", "name", "scheme_id", "scheme_title", "unit_kind", "unit_id",
                             "amount_fen", "to_confirm_zh", "to_confirm_en")
PEOPLE_TO_CONFIRM_SCHEMA = {name: PEOPLE_DETAIL_SCHEMA[name] for name in PEOPLE_TO_CONFIRM_COLUMNS}
OUTCOME_EVALUATED = "evaluated"
OUTCOME_REJECTED = "rejected"

_STATUS_ZH = {status.value: labels[0] for status, labels in STATUS_LABELS.items()}
_UNIT_ZH = {"enterprise": "企业", "project": "项目", "loan": "贷款", "fund": "基金", "fund_investment": "基金投资"}
_OUTCOME_ZH = {OUTCOME_EVALUATED: "已评估", OUTCOME_REJECTED: "已拒绝（见“错误”）"}
_KIND_ZH = {"error": "错误", KIND_SKIPPED: "未评估（企业已拒绝）", KIND_WARNING: "提醒（已评估，请核对）"}
# 工信部联企业〔2011〕300号 classes; an evaluated enterprise whose figures cannot decide has none
_SIZE_ZH = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}


@dataclass(slots=True)
class Part:
    """The results of one chunk, ready to write."""

    summary: pl.DataFrame  # SUMMARY_SCHEMA
    details_of: pl.DataFrame | Callable[[], pl.DataFrame]  # DETAIL_SCHEMA, or what builds it when first asked
    errors: pl.DataFrame  # ERROR_SCHEMA
    titles: dict[str, str] = field(default_factory=dict)  # scheme id -> title (zh), for people
    # the same details block by block, for a writer that streams them (None: only the whole table)
    streamed: Callable[[], StreamedDetails | None] | None = None
    totals_of: pl.DataFrame | None = None  # totals.SCHEME_TOTALS_SCHEMA; None: summed from the details when asked

    @property
    def scheme_totals(self) -> pl.DataFrame:
        if self.totals_of is None:
            from .totals import scheme_totals

            self.totals_of = scheme_totals(self.details)
        return self.totals_of

    @property
    def details(self) -> pl.DataFrame:
        if callable(self.details_of):
            self.details_of = self.details_of()
        return self.details_of

    @property
    def to_confirm(self) -> pl.DataFrame:
        return self.details.filter(pl.col("status") == Status.needs_confirmation.value).select(TO_CONFIRM_COLUMNS)

    def people_details(self) -> pl.DataFrame:
        """The details with each enterprise's name and each scheme's title (PEOPLE_DETAIL_SCHEMA)."""
        names = self.summary.select("enterprise_id", "name").unique("enterprise_id", keep="first")
        details = self.details
        if details.schema["enterprise_id"] != pl.String:  # dictionary-encoded ids: decode before joining on text
            details = details.with_columns(pl.col("enterprise_id").cast(pl.String))
        labelled = details.join(names, on="enterprise_id", how="left", maintain_order="left").with_columns(
            pl.col("scheme_id").replace_strict(self.titles, default=None, return_dtype=pl.String).alias("scheme_title"))
        # the text columns stay dictionary-encoded: the workbook indexes their few distinct values, not each row
        return conform_coded(labelled, PEOPLE_DETAIL_SCHEMA)


@dataclass(slots=True)
class RunInfo:
    input_name: str
    input_format: str
    as_of: date
    rules_version: str
    counts: Counts
    notes: list[tuple[str, str]] = field(default_factory=list)
    engine: str = "local"
    seconds: float | None = None
    error_sample: list[dict[str, Any]] = field(default_factory=list)  # the first errors, for a screen
    money: dict[str, Any] = field(default_factory=dict)  # totals.Totals.as_dict: the batch's totals, per scheme
    sources: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SOURCES_SCHEMA))  # sources.py

    def as_dict(self) -> dict[str, Any]:
        return {"input": self.input_name, "input_format": self.input_format, "as_of": self.as_of.isoformat(),
                "rules_version": self.rules_version, "engine": self.engine, "counts": self.counts.as_dict(),
                "reconciles": self.counts.reconciles, "notes": [{"zh": zh, "en": en} for zh, en in self.notes],
                "money": self.money}


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Exactly these columns, in this order, with these dtypes (missing ones null)."""
    return frame.select([(pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
                         for name, dtype in schema.items()])


def _coded(dtype: pl.DataType) -> bool:
    return isinstance(dtype, (pl.Categorical, pl.Enum))


def conform_coded(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """conform(), except that text columns already dictionary-encoded stay so (same values, no text copies)."""
    have = frame.schema  # once: the schema of an Enum of a million ids is costly to build
    return frame.select([pl.col(name) if dtype == pl.String and _coded(have.get(name, pl.Null()))
                         else (pl.col(name) if name in have else pl.lit(None)).cast(dtype).alias(name)
                         for name, dtype in schema.items()])


# --- XLSX ---------------------------------------------------------------------------------------------------

SUMMARY_COLUMNS = [
    Col("enterprise_id", "企业编号", TEXT, 14), Col("name", "企业名称", TEXT, 28), Col("size_zh", "企业规模", TEXT, 10),
    Col("outcome_zh", "评估情况", TEXT, 18),
    Col("total_fen", "确定可获合计(元)", MONEY, 18), Col("potential_total_fen", "含待确认合计(元)", MONEY, 18),
    Col("n_eligible", "符合条件项数", INT, 12), Col("n_to_confirm", "待确认项数", INT, 12),
    Col("top_schemes", "主要方案", TEXT, 48), Col("n_errors", "错误数", INT, 8), Col("n_warnings", "提醒数", INT, 8),
]
DETAIL_COLUMNS = [
    Col("enterprise_id", "企业编号", TEXT, 14), Col("name", "企业名称", TEXT, 24), Col("scheme_id", "方案编号", TEXT, 30),
    Col("scheme_title", "方案名称", TEXT, 36), Col("unit_zh", "对象类型", TEXT, 8), Col("unit_id", "对象编号", TEXT, 12),
    Col("status_zh", "状态", TEXT, 14), Col("amount_fen", "金额(元)", MONEY, 16), Col("cap_fen", "上限(元)", MONEY, 16),
    Col("binding_zh", "达到上限", TEXT, 8), Col("headroom_fen", "上限剩余额度(元)", MONEY, 16),
    Col("superseded_by", "被替代（从优不重复）", TEXT, 24), Col("reasons_zh", "未满足的条件", TEXT, 48),
    Col("reasons_en", "Conditions not met", TEXT, 48), Col("to_confirm_zh", "待确认事项", TEXT, 48),
    Col("to_confirm_en", "To confirm", TEXT, 48), Col("notes_zh", "请核对", TEXT, 48),
    Col("notes_en", "To check", TEXT, 48),
]
TO_CONFIRM_SHEET_COLUMNS = [
    Col("enterprise_id", "企业编号", TEXT, 14), Col("name", "企业名称", TEXT, 24), Col("scheme_id", "方案编号", TEXT, 30),
    Col("scheme_title", "方案名称", TEXT, 36), Col("unit_zh", "对象类型", TEXT, 8), Col("unit_id", "对象编号", TEXT, 12),
    Col("amount_fen", "可能金额(元)", MONEY, 16), Col("to_confirm_zh", "待确认事项", TEXT, 60),
    Col("to_confirm_en", "To confirm", TEXT, 60),
]
ERROR_COLUMNS = [
    Col("sheet", "工作表", TEXT, 10), Col("row", "行号", INT, 8), Col("column", "列", TEXT, 18), Col("value", "值", TEXT, 24),
    Col("reason_zh", "原因", TEXT, 48), Col("reason_en", "Reason", TEXT, 48), Col("enterprise_id", "企业编号", TEXT, 14),
    Col("kind_zh", "类型", TEXT, 18),
]
SOURCES_COLUMNS = [
    Col("scheme_id", "方案编号", TEXT, 30), Col("scheme_title_zh", "方案名称", TEXT, 32), Col("kind_zh", "类别", TEXT, 9),
    Col("item_zh", "事项", TEXT, 40), Col("item_en", "Item", TEXT, 40), Col("value", "数值", TEXT, 22),
    Col("version_from", "版本起始日", TEXT, 12), Col("version_until", "版本终止日", TEXT, 12),
    Col("in_force_zh", "评估日有效", TEXT, 10), Col("document", "文件", TEXT, 30), Col("clause", "条款", TEXT, 26),
    Col("quote_zh", "原文", TEXT, 60), Col("quote_wording", "原文或转述", TEXT, 18), Col("confidence", "可信度", TEXT, 11),
    Col("source", "出处", TEXT, 30),
    Col("note_zh", "备注", TEXT, 40), Col("note_en", "Note", TEXT, 40),
]
SHEET_ORDER = ["汇总", "明细", "待确认", "错误", "依据"]


def _labelled(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the Chinese labels the workbook shows next to codes."""
    columns = frame.columns
    extra = []
    if "status" in columns:
        extra.append(pl.col("status").replace_strict(_STATUS_ZH, default=pl.col("status")).alias("status_zh"))
    if "unit_kind" in columns:
        extra.append(pl.col("unit_kind").replace_strict(_UNIT_ZH, default=pl.col("unit_kind")).alias("unit_zh"))
    if "binding_cap" in columns:
        # blank where there is no amount, so no cap to reach
        extra.append(pl.when(pl.col("amount_fen").is_not_null())
                     .then(pl.col("binding_cap").replace_strict({True: "是", False: "否"}, return_dtype=pl.String))
                     .alias("binding_zh"))
    if "outcome" in columns:
        extra.append(pl.col("outcome").replace_strict(_OUTCOME_ZH, default=pl.col("outcome")).alias("outcome_zh"))
    if "size_class" in columns:
        unknown = pl.when(pl.col("outcome") == OUTCOME_EVALUATED).then(pl.lit("未知（规模数据不全）"))
        extra.append(pl.col("size_class").replace_strict(_SIZE_ZH, default=None).fill_null(unknown).alias("size_zh"))
    if "kind" in columns:
        extra.append(pl.col("kind").replace_strict(_KIND_ZH, default=pl.col("kind")).alias("kind_zh"))
    return frame.with_columns(extra) if extra else frame


class XlsxSink:
    """明细 streams straight into the workbook; 汇总, 待确认 and 错误 are kept and written at the end."""

    def __init__(self, path: Path):
        self.book = XlsxBook(path)
        self.book.order = SHEET_ORDER
        self.details = self.book.sheet("明细", DETAIL_COLUMNS)
        self.summary: list[pl.DataFrame] = []
        self.to_confirm: list[pl.DataFrame] = []
        self.errors: list[pl.DataFrame] = []

    def write(self, part: Part) -> None:
        details = part.people_details()
        self.details.append(_labelled(details))
        self.summary.append(part.summary)
        self.to_confirm.append(details.filter(pl.col("status") == Status.needs_confirmation.value)
                               .select(PEOPLE_TO_CONFIRM_COLUMNS))
        self.errors.append(part.errors)

    def close(self, info: RunInfo) -> None:
        self.details.finish()
        counts = info.counts
        titles = [
            ["批量评估结果", "Batch evaluation results"],
            ["评估日 / as of", info.as_of.isoformat(), "规则版本 / rules", info.rules_version],
            ["输入 / input", info.input_name, "格式 / format", info.input_format],
            ["企业（输入）/ enterprises in", counts.enterprises_in, "已评估 / evaluated", counts.evaluated,
             "已拒绝 / rejected", counts.rejected],
            ["核对 / reconciles", "是 / yes" if counts.reconciles else "否 / NO", "错误 / errors", counts.errors,
             "未评估的行（企业已拒绝）/ rows of rejected enterprises", counts.skipped,
             "提醒（已评估，请核对）/ warnings (evaluated, please check)", counts.warnings],
            ["确定可获合计(元) / confirmed total", Yuan(info.money.get("confirmed_fen", 0)),
             "含待确认合计(元) / incl. to confirm", Yuan(info.money.get("potential_fen", 0))],
        ]
        titles += [["说明 / note", zh, en] for zh, en in info.notes]
        self.book.write_sheet("汇总", SUMMARY_COLUMNS, _labelled(_concat(self.summary, SUMMARY_SCHEMA)), titles)
        self.book.write_sheet("待确认", TO_CONFIRM_SHEET_COLUMNS,
                              _labelled(_concat(self.to_confirm, PEOPLE_TO_CONFIRM_SCHEMA)))
        self.book.write_sheet("错误", ERROR_COLUMNS, _labelled(_concat(self.errors, ERROR_SCHEMA)))
        self.book.write_sheet("依据", SOURCES_COLUMNS, sources_sheet(info.sources),
                              [["依据：每个方案的数额、条件与假设的出处（文件、条款、原文）和施行期间；明细按方案编号对照",
                                "Sources: where each scheme's amounts, conditions and assumptions come from (document, "
                                "clause, quoted text) and the dates in force; match the details by scheme id"]])
        self.book.close()


def _concat(frames: list[pl.DataFrame], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.concat([conform(f, schema) for f in frames]) if frames else pl.DataFrame(schema=schema)


# --- CSV ----------------------------------------------------------------------------------------------------


def _for_people(frame: pl.DataFrame) -> pl.DataFrame:
    """Amounts as yuan text, formula triggers neutralised with an apostrophe: the form a CSV opened in a
    spreadsheet needs (a CSV cell has no type, so "=E3" would be read as a formula)."""
    exprs = []
    for name, dtype in frame.schema.items():
        if name.endswith("_fen"):
            exprs.append(yuan_text(pl.col(name)).alias(name.removesuffix("_fen") + "_yuan"))
        elif dtype == pl.String:
            exprs.append(neutralise(pl.col(name)).alias(name))
        else:
            exprs.append(pl.col(name))
    return frame.select(exprs)


class CsvSink:
    """A folder of UTF-8 (with BOM, so spreadsheets read the Chinese) CSV files, appended chunk by chunk."""

    NAMES = RESULT_TABLES

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.started: set[str] = set()

    def _append(self, name: str, frame: pl.DataFrame) -> None:
        path = self.folder / f"{name}.csv"
        first = name not in self.started
        with open(path, "wb" if first else "ab") as handle:
            if first:
                handle.write(b"\xef\xbb\xbf")
            _for_people(frame).write_csv(handle, include_header=first)
        self.started.add(name)

    def write(self, part: Part) -> None:
        details = part.people_details()
        self._append("summary", conform(part.summary, SUMMARY_SCHEMA))
        self._append("details", details)
        self._append("to_confirm", details.filter(pl.col("status") == Status.needs_confirmation.value)
                     .select(PEOPLE_TO_CONFIRM_COLUMNS))
        self._append("errors", conform(part.errors, ERROR_SCHEMA))

    def close(self, info: RunInfo) -> None:
        self._append("sources", info.sources)
        for name, schema in zip(self.NAMES, (SUMMARY_SCHEMA, PEOPLE_DETAIL_SCHEMA, PEOPLE_TO_CONFIRM_SCHEMA,
                                             ERROR_SCHEMA)):
            if name not in self.started:
                self._append(name, pl.DataFrame(schema=schema))
        (self.folder / "run.json").write_text(json.dumps(info.as_dict(), ensure_ascii=False, indent=2) + "\n",
                                              encoding="utf-8")


# --- Parquet ------------------------------------------------------------------------------------------------


class ParquetSink:
    """A folder with one Parquet dataset per table (summary/, details/, to_confirm/, errors/), one file per chunk.

    Integer fen and text as given; read a table back with pl.read_parquet(folder / "details"). The details of
    the columnar engine are streamed a block of enterprises at a time (streamed_details), never built whole.
    """

    NAMES = RESULT_TABLES

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.parts = 0
        self.schemas = {"summary": SUMMARY_SCHEMA, "details": DETAIL_SCHEMA, "to_confirm": TO_CONFIRM_SCHEMA,
                        "errors": ERROR_SCHEMA, "sources": SOURCES_SCHEMA}
        for name in self.NAMES:
            (self.folder / name).mkdir(exist_ok=True)

    def _file(self, piece: int | None) -> str:
        """This chunk's file name (part-NNNNN, or part-NNNNN-0 and -1 for a table written as two files)."""
        return f"part-{self.parts:05d}{'' if piece is None else f'-{piece}'}.parquet"

    def _write(self, name: str, frame: pl.DataFrame, piece: int | None = None) -> None:
        self._write_to(self.folder / name / self._file(piece), name, frame)

    def _write_to(self, path: Path, name: str, frame: pl.DataFrame) -> None:
        frame = conform_coded(frame, self.schemas[name])
        schema = frame.schema
        coded = [column for column, dtype in schema.items() if _coded(dtype)]
        if not coded:
            frame.write_parquet(path)
            return
        write_coded_parquet(frame, path, coded, schema=schema)

    def write(self, part: Part) -> None:
        streamed = part.streamed() if part.streamed is not None else None
        if streamed is not None and streamed.height:
            self._write_streamed(part, streamed)
            return
        # pyarrow encodes a file's columns one after another on one thread, so long details are written as two
        # files side by side (part-NNNNN-0, -1: a reader of the folder takes them in name order, so the rows
        # keep their order); the three small tables go meanwhile. Every writer releases the GIL.
        details = part.details
        halves = [details] if details.height <= SPLIT_ABOVE_ROWS else [
            details.slice(0, _half(details.height)), details.slice(_half(details.height))]
        with ThreadPoolExecutor(max_workers=len(halves)) as pool:
            written = [pool.submit(self._write, "details", half, None if len(halves) == 1 else i)
                       for i, half in enumerate(halves)]
            self._write("summary", part.summary)
            self._write("to_confirm", part.to_confirm)
            self._write("errors", part.errors)
            for future in written:
                future.result()
        self.parts += 1

    def _write_streamed(self, part: Part, details: StreamedDetails) -> None:
        """The details block by block: two files side by side (each half of the enterprises, built and written
        on its own core) when long, as above. What to confirm is taken from each block as it goes, into a file
        beside each details file."""
        cuts = details.halves() if details.height > SPLIT_ABOVE_ROWS else [0, details.per_enterprise.size]
        halves = list(zip(cuts, cuts[1:]))
        with ThreadPoolExecutor(max_workers=len(halves)) as pool:
            written = [pool.submit(self._write_blocks, details, first, last, None if len(halves) == 1 else i)
                       for i, (first, last) in enumerate(halves)]
            self._write("summary", part.summary)
            self._write("errors", part.errors)
            for future in written:
                future.result()
        self.parts += 1

    def _write_blocks(self, details: StreamedDetails, first: int, last: int, piece: int | None) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        name = self._file(piece)
        to_confirm = []
        with pq.ParquetWriter(self.folder / "details" / name, details.schema,
                              **_arrow_parquet_options(details.schema)) as writer:
            for a, b in details.blocks(first, last, ROW_GROUP_ROWS):
                block = details.block(a, b)
                writer.write_table(block, row_group_size=block.num_rows)
                to_confirm.append(details.with_status(block, Status.needs_confirmation.value, list(TO_CONFIRM_COLUMNS)))
        schema = pa.schema([details.schema.field(column) for column in TO_CONFIRM_COLUMNS])
        pq.write_table(pa.concat_tables(to_confirm) if to_confirm else schema.empty_table(),
                       self.folder / "to_confirm" / name, **_arrow_parquet_options(schema))

    def close(self, info: RunInfo) -> None:
        if self.parts == 0:
            for name in self.NAMES:
                if name != "sources":
                    self._write(name, pl.DataFrame(schema=self.schemas[name]))
        self._write_to(self.folder / "sources" / "part-00000.parquet", "sources", info.sources)  # one, for the run
        (self.folder / "run.json").write_text(json.dumps(info.as_dict(), ensure_ascii=False, indent=2) + "\n",
                                              encoding="utf-8")


def _arrow_parquet_options(schema: Any) -> dict[str, Any]:
    """_parquet_options for an Arrow schema: its dictionary columns are the coded ones, the rest numbers."""
    import pyarrow as pa

    coded = [field.name for field in schema if pa.types.is_dictionary(field.type)]
    return _parquet_options(coded, [field.name for field in schema if field.name not in coded])


def _parquet_options(coded: list[str], numeric: list[str]) -> dict[str, Any]:
    """How every Parquet file of the results is written (see write_coded_parquet): lz4; the coded columns as
    dictionary pages from their codes; no stored Arrow schema, so readers see plain strings; statistics for
    numbers only."""
    return {"compression": "lz4", "use_dictionary": coded, "store_schema": False, "write_statistics": numeric,
            "dictionary_pagesize_limit": _DICTIONARY_PAGE_BYTES}


ROW_GROUP_ROWS = 1 << 20
SPLIT_ABOVE_ROWS = 4 * ROW_GROUP_ROWS  # details longer than this are written as two files at once


def _half(height: int) -> int:
    """Where to cut a long table in two: at a row-group boundary, so both files have full row groups."""
    return -(-height // 2 // ROW_GROUP_ROWS) * ROW_GROUP_ROWS


def write_coded_parquet(frame: pl.DataFrame, path: Path, coded: list[str], row_group_rows: int = ROW_GROUP_ROWS,
                        schema: pl.Schema | None = None) -> None:
    """Write a frame whose `coded` columns are dictionary-encoded as Parquet dictionary pages, from the codes.

    Without the stored Arrow schema a reader sees plain strings, exactly as if the text had been written row by
    row. Min/max statistics of long text cost as much as writing it; numbers keep theirs. A dictionary with an
    entry per enterprise is cut to the entries each row group uses (rows are in enterprise order, so those are
    a narrow range), so every row group stores only its own ids, once, and writes 4-byte codes per row.

    Row groups go to Arrow one at a time, the next one converted on another core while the writer encodes the
    current one (both release the GIL): the conversion no longer adds to the write, and only one row group's
    Arrow copy is held at a time instead of the whole table's. An Enum column's categories go to Arrow once;
    each row group then only wraps its codes around them (see _EnumToArrow).
    """
    import pyarrow.parquet as pq

    schema = schema or frame.schema
    numeric = [column for column, dtype in schema.items() if dtype.is_numeric() or dtype == pl.Boolean]
    enums = {column: _EnumToArrow(dtype) for column, dtype in schema.items() if isinstance(dtype, pl.Enum)}
    others = [column for column in schema if column not in enums]

    def row_group(start: int) -> Any:
        import pyarrow as pa

        piece = frame.slice(start, row_group_rows)
        converted = piece.select(others).to_arrow()
        return pa.Table.from_arrays([enums[column].array(piece.get_column(column)) if column in enums
                                     else converted.column(column) for column in schema], names=list(schema))

    starts = range(0, frame.height, row_group_rows)
    table = row_group(0)
    with pq.ParquetWriter(path, table.schema, **_parquet_options(coded, numeric)) as writer, \
            ThreadPoolExecutor(max_workers=1) as converter:
        if table.num_rows == 0:
            writer.write_table(table)
        for start in starts:
            following = converter.submit(row_group, start + row_group_rows) if start + row_group_rows < frame.height \
                else None
            writer.write_table(table, row_group_size=row_group_rows)
            table = following.result() if following is not None else None


_DICTIONARY_PAGE_BYTES = 8 << 20
_NARROW_ABOVE = 1 << 16  # dictionaries at most this long are written whole


class _EnumToArrow:
    """An Enum column's slices as Arrow dictionary arrays over one Arrow copy of its categories.

    polars' own conversion copies every category into each slice's dictionary: for an Enum of a million ids,
    a million strings per row group. Here the codes are the indices as they are (no copy), and a long
    dictionary is cut to the range of entries the slice uses (a view), as the rows of a row group use a
    narrow range of ids.
    """

    def __init__(self, dtype: pl.Enum):
        self.categories = dtype.categories.to_arrow()

    def array(self, column: pl.Series) -> Any:
        import pyarrow as pa

        codes = column.to_physical()
        dictionary = self.categories
        low, high = codes.min(), codes.max()
        if len(dictionary) > _NARROW_ABOVE and low is not None and high - low + 1 < len(dictionary):
            codes = (codes - low).cast(codes.dtype)
            dictionary = dictionary.slice(low, high - low + 1)
        return pa.DictionaryArray.from_arrays(codes.to_arrow(), dictionary, ordered=True)


def format_of(output: Path, requested: str | None) -> str:
    if requested:
        return requested
    suffix = Path(output).suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else "xlsx"


FOLDER_FORMATS = ("csv", "parquet")
_FILE_SUFFIXES = tuple(f".{fmt}" for fmt in FORMATS)  # names that read as one file: r.csv, r.parquet, r.xlsx


def output_problem(output: Path, fmt: str, is_folder: bool) -> tuple[str, str] | None:
    """Why these results cannot go to this output, in Chinese and English; None when they can.

    CSV and Parquet results are a folder of tables, so a name that reads as one file (r.csv, r.parquet) would
    make a folder that looks like a file; the workbook is one file, so it cannot be a folder (`is_folder`: the
    output is one, or was given with a trailing slash), nor be named as a CSV or Parquet file."""
    output = Path(output)
    name, suffix = output.name, output.suffix.lower()
    workbook = output.with_suffix(".xlsx") if name else output / "results.xlsx"  # "." has no name to change
    if fmt in FOLDER_FORMATS:
        if suffix not in _FILE_SUFFIXES:
            return None
        folder = f"{output.with_suffix('')}/"
        tables_zh, tables_en = "、".join(RESULT_TABLES), ", ".join(RESULT_TABLES)
        zh = (f"CSV 和 Parquet 结果是一个文件夹（{tables_zh} 几张表），不是单个文件，而 {name} 是文件名：未写出任何结果；"
              f"请给文件夹名，例如 -o {folder} --format {fmt}")
        en = (f"CSV and Parquet results are a folder of tables ({tables_en}), not one file, and {name} reads as a "
              f"file name: nothing was written; give a folder, e.g. -o {folder} --format {fmt}")
        if suffix == ".xlsx":
            zh += f"；要 XLSX 工作簿，去掉 --format {fmt}"
            en += f"; for an XLSX workbook, leave out --format {fmt}"
        return zh, en
    if is_folder:
        shown = f"{name or output}/".replace("//", "/")
        return (f"XLSX 结果是一个 .xlsx 工作簿文件，而 {shown} 是文件夹：未写出任何结果；要 CSV 或 Parquet 表的文件夹，请加 "
                f"--format csv 或 --format parquet；要工作簿，请给以 .xlsx 结尾的文件名，例如 -o {workbook}",
                f"XLSX results are one .xlsx workbook, and {shown} is a folder: nothing was written; for a folder of "
                f"CSV or Parquet tables, add --format csv or --format parquet; for a workbook, give a name ending in "
                f".xlsx, e.g. -o {workbook}")
    if suffix in _FILE_SUFFIXES and suffix != ".xlsx":
        return (f"XLSX 结果是 .xlsx 工作簿：未写出任何结果；请给以 .xlsx 结尾的文件名（而不是 {name}），例如 -o {workbook}",
                f"XLSX results are an .xlsx workbook: nothing was written; give a name ending in .xlsx (not {name}), "
                f"e.g. -o {workbook}")
    return None


def clear_earlier_results(folder: Path) -> None:
    """Remove the results a run wrote into this folder before, in either folder format, and nothing else: left
    there, an earlier run's CSV would sit beside this run's Parquet, and its Parquet parts would be read back with
    this run's (the file names are ours)."""
    for name in RESULT_TABLES:
        (folder / f"{name}.csv").unlink(missing_ok=True)
        for stale in (folder / name).glob("part-*.parquet"):
            stale.unlink()
        if (folder / name).is_dir() and not any((folder / name).iterdir()):
            (folder / name).rmdir()
    (folder / "run.json").unlink(missing_ok=True)


def open_sink(output: Path, fmt: str) -> XlsxSink | CsvSink | ParquetSink:
    if fmt == "xlsx":
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        return XlsxSink(Path(output))
    if Path(output).is_dir():
        clear_earlier_results(Path(output))
    if fmt == "csv":
        return CsvSink(Path(output))
    return ParquetSink(Path(output))
