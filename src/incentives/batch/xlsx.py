"""A streaming XLSX writer that builds sheet XML column-wise with polars, for results with millions of rows.

A per-cell writer (xlsxwriter, openpyxl) spends about 10 µs a cell, which is minutes for a few million result
rows; here each chunk of rows becomes XML in a handful of vectorised string operations. Strings go to the shared
string table (never formulas); amounts are written as exact decimal text from integer fen with a yuan number
format, so they are numbers in the spreadsheet, not text. Sheets longer than Excel's row limit continue on
numbered sheets ("明细 (2)").

A text cell is never evaluated, so text that looks like a formula ("=E3", "+86 广州贸易有限公司") is written as it is,
in a cell whose style carries quotePrefix="1": the spreadsheet's own "text typed after a quote" flag, which shows
no apostrophe and keeps the cell text when someone edits it. Such cells are found per column on the distinct
values (polars), and only they take the slower, styled form. CSV has no cell types: there `neutralise` prefixes
an apostrophe instead.
"""

from __future__ import annotations

import queue
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import polars as pl

EXCEL_MAX_ROWS = 1_048_576
SLICE_ROWS = 100_000  # rows turned into XML at a time: bounds memory, and lets compression overlap
MONEY = "money"  # Int64 fen -> number in yuan with the yuan format
INT = "int"
TEXT = "text"

_STYLE_PLAIN = 0
_STYLE_MONEY = 1
_STYLE_HEADER = 2
_STYLE_TITLE = 3
_XML_INVALID = r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
# A cell starting with one of these could run as a formula once the data is re-imported or pasted elsewhere.
FORMULA_TRIGGERS = r"^[=+\-@\t\r]"


# A signed plain number ("-5000000", "+3.5") starts with a trigger but is read as that number, never as a
# formula: left as it is, so a negative amount in 错误 reads as typed.
PLAIN_NUMBER = r"^[+-][0-9]+(\.[0-9]+)?$"


def formula_like(expr: pl.Expr) -> pl.Expr:
    """Whether a spreadsheet could read this text as a formula (null stays null)."""
    return expr.str.contains(FORMULA_TRIGGERS) & ~expr.str.contains(PLAIN_NUMBER)


def neutralise(expr: pl.Expr) -> pl.Expr:
    """Prefix an apostrophe to text that a spreadsheet could read as a formula: for CSV, which has no cell types.
    The workbook keeps the text as it is and marks the cell instead (quoted)."""
    return pl.when(formula_like(expr)).then(pl.lit("'") + expr).otherwise(expr)


@dataclass(frozen=True, slots=True)
class Col:
    source: str  # column of the frame
    header: str
    kind: str = TEXT
    width: float = 14


def _letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class Yuan(int):
    """An amount in fen in a title row: written as a number in yuan with the yuan format, as the data cells."""


def yuan_text(fen: pl.Expr) -> pl.Expr:
    """Integer fen as exact decimal yuan text: 123456 -> "1234.56" (no float involved)."""
    magnitude = fen.abs()
    text = (magnitude // 100).cast(pl.String) + "." + (magnitude % 100).cast(pl.String).str.zfill(2)
    return pl.when(fen < 0).then(pl.lit("-") + text).otherwise(text)


class _SharedStrings:
    """The workbook's shared string table, grown column by column (a frame, so lookups are joins)."""

    def __init__(self) -> None:
        self.table = pl.DataFrame(schema={"s": pl.String, "i": pl.Int64})
        self.count = 0

    def indices(self, values: pl.Series) -> pl.Series:
        """The index of each value in the table (null stays null); new values are appended."""
        distinct = values.drop_nulls().unique(maintain_order=True).to_frame("s")
        known = distinct.join(self.table, on="s", how="left", maintain_order="left")
        new = known.filter(pl.col("i").is_null()).select("s")
        if new.height:
            new = new.with_columns(pl.int_range(self.count, self.count + new.height, dtype=pl.Int64).alias("i"))
            self.table = pl.concat([self.table, new])
            self.count += new.height
            known = distinct.join(self.table, on="s", how="left", maintain_order="left")
        # a hash lookup per row against this column's few distinct values, cheaper than a join on every row
        return values.replace_strict(known.get_column("s"), known.get_column("i"), default=None,
                                     return_dtype=pl.Int64)

    def xml(self) -> bytes:
        escaped = self.table.sort("i").select(
            pl.col("s").str.replace_all(_XML_INVALID, "").str.replace_all("&", "&amp;", literal=True)
            .str.replace_all("<", "&lt;", literal=True).str.replace_all(">", "&gt;", literal=True))
        body = escaped.select(pl.concat_str([pl.lit('<si><t xml:space="preserve">'), pl.col("s"), pl.lit("</t></si>")])
                              .str.join("")).item() if self.table.height else ""
        head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/'
                f'spreadsheetml/2006/main" count="{self.count}" uniqueCount="{self.count}">')
        return (head + body + "</sst>").encode("utf-8")


class _Compressor:
    """Deflates and writes a zip member on its own thread, so building the next rows' XML overlaps it."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.blocks: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="xlsx-deflate", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (block := self.blocks.get()) is not None:
            try:
                if self.error is None:
                    self.stream.write(block)
            except BaseException as error:  # re-raised on the writing thread at close
                self.error = error

    def write(self, block) -> None:
        self.blocks.put(block)

    def close(self) -> None:
        self.blocks.put(None)
        self.thread.join()
        self.stream.close()
        if self.error is not None:
            raise self.error


def _utf8_buffer(rows: pl.Series) -> memoryview:
    """The UTF-8 bytes of a text column's values, back to back, without copying them into Python strings."""
    array = rows.rechunk().to_arrow()
    import numpy as np

    width = np.int64 if str(array.type).startswith("large") else np.int32
    bounds = np.frombuffer(array.buffers()[1], dtype=width, count=len(array) + 1, offset=array.offset * width().itemsize)
    return memoryview(array.buffers()[2])[int(bounds[0]):int(bounds[-1])]


@dataclass(frozen=True, slots=True)
class _TextLookup:
    """A text column's cells for one frame (see _Sheet._text_lookups and _cells)."""

    known: pl.Series  # by code (dictionary-encoded column: cells is None), else the distinct values
    cells: pl.Series | None  # the cell text of each distinct value
    marked: bool  # some value looks like a formula: the cell texts carry their style


class _Sheet:
    def __init__(self, book: XlsxBook, name: str, columns: list[Col]):
        self.book = book
        self.name = name
        self.columns = columns
        self.rows = 0
        self.stream = None
        self.freeze = 1  # rows above the data: titles and the header

    def _open(self, name: str) -> None:
        index = len(self.book.sheet_names) + 1
        self.book.sheet_names.append(name)
        self.stream = _Compressor(self.book.zip.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True))
        cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{c.width}" customWidth="1"/>'
                       for i, c in enumerate(self.columns))
        self.stream.write(
            ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.'
             'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             f'<sheetViews><sheetView workbookViewId="0"{self._pane()}</sheetView></sheetViews>'
             f'<cols>{cols}</cols><sheetData>').encode("utf-8"))
        self.rows = 0

    def _pane(self) -> str:
        return (f'><pane ySplit="{self.freeze}" topLeftCell="A{self.freeze + 1}" activePane="bottomLeft" '
                'state="frozen"/>')

    def _close_part(self) -> None:
        if self.stream is not None:
            # a filter on the header row: a consultant narrows 明细 to one client or one status in a click
            last = f"{_letters(len(self.columns) - 1)}{max(self.rows, self.freeze)}"
            self.stream.write(f'</sheetData><autoFilter ref="A{self.freeze}:{last}"/></worksheet>'.encode())
            self.stream.close()
            self.stream = None

    def _raw_row(self, cells: list[tuple[str | int, int]]) -> None:
        """A row of (text or count, style) cells written one by one: titles and headers only."""
        self.rows += 1
        parts = []
        for column, (text, style) in enumerate(cells):
            if text == "":
                continue
            if isinstance(text, Yuan):
                kind, value, style = "", pl.select(yuan_text(pl.lit(int(text), dtype=pl.Int64))).item(), _STYLE_MONEY
            elif isinstance(text, int):  # a count is a number, so that a sheet can add it up
                kind, value = "", text
            else:
                kind, value = ' t="s"', self.book.strings.indices(pl.Series([text], dtype=pl.String))[0]
                if pl.select(formula_like(pl.lit(text, dtype=pl.String))).item():
                    style = quoted(style)  # say an input named "=x.xlsx": still bold, and kept as text
            parts.append(f'<c r="{_letters(column)}{self.rows}"{kind} s="{style}"><v>{value}</v></c>')
        self.stream.write(f'<row r="{self.rows}">{"".join(parts)}</row>'.encode("utf-8"))

    def start(self, title_rows: list[list[str | int]] | None = None) -> None:
        self.freeze = len(title_rows or []) + 1
        self._open(self.name)
        for title in title_rows or []:
            self._raw_row([(text, _STYLE_TITLE) for text in title])
        self._raw_row([(c.header, _STYLE_HEADER) for c in self.columns])

    def append(self, frame: pl.DataFrame) -> None:
        texts = self._text_lookups(frame)
        offset = 0
        while offset < frame.height:
            room = EXCEL_MAX_ROWS - self.rows
            if room <= 0:
                self._close_part()
                self.freeze = 1
                self._open(f"{self.name} ({self.book.part_number(self.name)})")
                self._raw_row([(c.header, _STYLE_HEADER) for c in self.columns])
                continue
            part = frame.slice(offset, min(room, SLICE_ROWS))
            self._write_rows(self._cell_values(part, texts), texts)
            offset += part.height

    def _text_lookups(self, frame: pl.DataFrame) -> dict[int, _TextLookup]:
        """Per text column, how a slice's values become what goes in their cells (null for an empty cell).

        Results repeat their text (a scheme's id, a reason) on thousands of rows, so the text is indexed, and
        checked for looking like a formula, once per distinct value, for the whole frame, in order of first
        appearance. A slice then only looks its values up: a dictionary-encoded column by its codes (no text
        hashed per row), plain text by its distinct values."""
        lookups = {}
        for index, column in enumerate(self.columns):
            if column.kind != TEXT:
                continue
            source = frame.get_column(column.source)
            if isinstance(source.dtype, (pl.Categorical, pl.Enum)):
                first = source.filter(source.is_first_distinct() & source.is_not_null())  # codes are cheap to hash
                codes = first.to_physical()
                cells, marked = self._cells(first)
                by_code = pl.repeat(None, int(codes.max()) + 1 if codes.len() else 0, dtype=pl.String, eager=True)
                lookups[index] = _TextLookup(by_code.scatter(codes, cells) if codes.len() else by_code, None, marked)
            else:
                distinct = source.drop_nulls().unique(maintain_order=True)
                cells, marked = self._cells(distinct)
                lookups[index] = _TextLookup(distinct, cells, marked)
        return lookups

    def _cells(self, values: pl.Series) -> tuple[pl.Series, bool]:
        """Each distinct value's shared-string index as text, and whether any of them looks like a formula.

        When none does (nearly always), a cell is `<c r=".." t="s"><v>INDEX</v></c>`, as fast as it gets. When
        some do, the column's cells carry their style too: the text is `><v>INDEX`, or ` s="Q"><v>INDEX` for
        text that looks like a formula (Q: the plain style with quotePrefix), still one lookup per row."""
        text = values.cast(pl.String)
        text = text.set(text == "", None) if text.len() else text
        indices = self.book.strings.indices(text).cast(pl.String)
        risky = pl.select(formula_like(pl.lit(text))).to_series().fill_null(False)
        if not risky.any():
            return indices, False
        marked = pl.select(pl.when(pl.lit(risky)).then(pl.lit(f' s="{quoted(_STYLE_PLAIN)}"><v>'))
                           .otherwise(pl.lit("><v>")) + pl.lit(indices)).to_series()
        return marked, True

    def _cell_values(self, frame: pl.DataFrame, texts: dict[int, _TextLookup]) -> pl.DataFrame:
        """Each column of a slice as the text that goes inside <v>: a shared-string index (with the cell's style
        before it, in a column of text marked by _cells), yuan, or an integer. A slice at a time, so that its columns reuse the memory the slice before freed."""
        values = {}
        for index, column in enumerate(self.columns):
            source = frame.get_column(column.source)
            if column.kind == TEXT:
                lookup = texts[index]
                values[f"__v{index}"] = (
                    lookup.known.gather(source.to_physical()) if lookup.cells is None else
                    source.replace_strict(lookup.known, lookup.cells, default=None, return_dtype=pl.String))
            elif column.kind == MONEY:
                values[f"__v{index}"] = pl.select(yuan_text(pl.lit(source))).to_series()
            else:
                values[f"__v{index}"] = source.cast(pl.String)
        return pl.DataFrame(values)

    def _write_rows(self, frame: pl.DataFrame, texts: dict[int, _TextLookup]) -> None:
        """One slice of rows as XML, built with a single format per row (concatenation is the cost here)."""
        first = self.rows + 1
        prepared = frame.with_columns(pl.int_range(first, first + frame.height, dtype=pl.Int64).cast(pl.String)
                                      .alias("__r"))
        template, args, cells = '<row r="{}">', [pl.col("__r")], {}
        for index, column in enumerate(self.columns):
            letter = _letters(index)
            if column.kind == TEXT and texts[index].marked:  # the value brings its style (_cells)
                cell = f'<c r="{letter}{{}}" t="s"{{}}</v></c>'
            else:
                attributes = {TEXT: ' t="s"', MONEY: f' s="{_STYLE_MONEY}"', INT: ""}[column.kind]
                cell = f'<c r="{letter}{{}}"{attributes}><v>{{}}</v></c>'
            if prepared.get_column(f"__v{index}").null_count() == 0:
                template += cell
                args += [pl.col("__r"), pl.col(f"__v{index}")]
            else:
                # an empty cell is left out; format() gives null when a value is null, hence the fill
                cells[f"__c{index}"] = pl.format(cell, pl.col("__r"), pl.col(f"__v{index}")).fill_null("")
                template += "{}"
                args.append(pl.col(f"__c{index}"))
        template += "</row>"
        rows = prepared.with_columns(**cells).select(pl.format(template, *args)).to_series()
        self.stream.write(_utf8_buffer(rows))
        self.rows += frame.height

    def finish(self) -> None:
        self._close_part()


class XlsxBook:
    """Sheets are written one after another (each may be appended to in chunks); strings and styles at close."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.zip = zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.strings = _SharedStrings()
        self.sheet_names: list[str] = []
        self._parts: dict[str, int] = {}
        self.order: list[str] = []  # sheet names in tab order, when it differs from writing order

    def part_number(self, name: str) -> int:
        self._parts[name] = self._parts.get(name, 1) + 1
        return self._parts[name]

    def sheet(self, name: str, columns: list[Col], title_rows: list[list[str | int]] | None = None) -> _Sheet:
        sheet = _Sheet(self, name, columns)
        sheet.start(title_rows)
        return sheet

    def write_sheet(self, name: str, columns: list[Col], frame: pl.DataFrame,
                    title_rows: list[list[str | int]] | None = None) -> None:
        sheet = self.sheet(name, columns, title_rows)
        sheet.append(frame)
        sheet.finish()

    def close(self) -> None:
        count = len(self.sheet_names)
        tab_order = self._tab_order()
        sheets = "".join(f'<sheet name="{escape(self.sheet_names[i], {chr(34): "&quot;"})}" sheetId="{i + 1}" '
                         f'r:id="rId{i + 1}"/>' for i in tab_order)
        rels = "".join(f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                       f'relationships/worksheet" Target="worksheets/sheet{i + 1}.xml"/>' for i in range(count))
        rels += (f'<Relationship Id="rId{count + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                 f'relationships/styles" Target="styles.xml"/><Relationship Id="rId{count + 2}" Type="http://schemas.'
                 'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>')
        overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="application/vnd.'
                            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(count))
        z = self.zip
        z.writestr("xl/sharedStrings.xml", self.strings.xml())
        z.writestr("xl/styles.xml", _STYLES)
        z.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="http://schemas.openxmlformats.'
            'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'relationships"><bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets></workbook>'))
        z.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
            f'openxmlformats.org/package/2006/relationships">{rels}</Relationships>'))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '</Relationships>'))
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
            'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/>' + overrides +
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
        z.close()

    def _tab_order(self) -> list[int]:
        """Sheet indexes in the order of `self.order` (by base name), then any others as written."""
        indexes = list(range(len(self.sheet_names)))
        if not self.order:
            return indexes

        def rank(i: int) -> tuple[int, int]:
            name = self.sheet_names[i]
            base = name.split(" (")[0]
            return (self.order.index(base) if base in self.order else len(self.order), i)

        return sorted(indexes, key=rank)


# The cell formats (cellXfs), by style index: the attributes and the children of each <xf>. Every format has a
# twin at quoted(index), the same with quotePrefix="1", for text that looks like a formula: a bold header stays
# bold, a yuan amount keeps its format, a wrapped cell stays wrapped.
_XFS: tuple[tuple[str, str], ...] = (
    ('numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"', ""),  # _STYLE_PLAIN
    ('numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"', ""),  # _STYLE_MONEY
    ('numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"', ""),  # _STYLE_HEADER
    ('numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"', ""),  # _STYLE_TITLE
)


def quoted(style: int) -> int:
    """The style index of `style` with quotePrefix="1": the cell is text that only looks like a formula."""
    return style + len(_XFS)


def _xf(attributes: str, children: str) -> str:
    return f"<xf {attributes}>{children}</xf>" if children else f"<xf {attributes}/>"


_CELL_XFS = "".join([_xf(a, c) for a, c in _XFS] + [_xf(a + ' quotePrefix="1"', c) for a, c in _XFS])

_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="&quot;¥&quot;#,##0.00"/>'
    '</numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/>'
    '<name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill>'
    '<patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/>'
    '<diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    f'</cellStyleXfs><cellXfs count="{2 * len(_XFS)}">{_CELL_XFS}</cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
