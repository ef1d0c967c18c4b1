"""Reading batch input: an XLSX workbook, CSV files or Parquet files, into raw tables named by the contract.

A raw table keeps every cell as the file gave it (text, or the Parquet column's own type) under the
contract's column names, plus `_row`, the row number a person sees in the file (1-based, header included).
Parsing and checking the values is validate.py's job. Problems that make a file unusable raise
`UnusableInput` with a bilingual message; the CLI turns it into exit code 2.
"""

from __future__ import annotations

import codecs
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from .tables import SHEETS, Column

ROW = "_row"
TABLES = tuple(english for english, _ in SHEETS.values())
SHEET_ZH = {english: zh for zh, (english, _) in SHEETS.items()}
COLUMNS = {english: columns for english, columns in SHEETS.values()}

# How far down a sheet the header row may sit (title rows, merged group headers above it).
HEADER_SEARCH_ROWS = 15
ENCODING_SAMPLE_BYTES = 4 << 20
ZIP_MAGIC = b"PK\x03\x04"  # how every zip, and so every .xlsx, begins
_HEADER_STRINGS = 5_000


class UnusableInput(Exception):
    """The input cannot be read at all (wrong format, no enterprise table, missing required columns)."""

    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


@dataclass(frozen=True, slots=True)
class Note:
    """Something worth telling the user about how the input was read (encoding, ignored columns)."""

    zh: str
    en: str


@dataclass(slots=True)
class RawTable:
    table: str  # enterprises / projects / loans / awards
    sheet: str  # the name the user gave it: a sheet name or a file name
    frame: pl.DataFrame | pl.LazyFrame
    headers: dict[str, str]  # contract column name -> header as written in the file
    fen_columns: frozenset[str] = frozenset()  # money columns given in fen (`*_fen`) rather than yuan


@dataclass(slots=True)
class RawInput:
    format: str  # xlsx / csv / parquet
    tables: dict[str, RawTable]
    notes: list[Note] = field(default_factory=list)


# --- headers --------------------------------------------------------------------------------------------------

_HEADER_TRANS = str.maketrans({"（": "(", "）": ")", " ": "", "\u3000": "", "\n": "", "\r": "", "\t": ""})


def _normal_header(text: object) -> str:
    return str(text).translate(_HEADER_TRANS).strip().lower() if text is not None else ""


def header_index(columns: tuple[Column, ...]) -> dict[str, tuple[str, bool]]:
    """Normalised header -> (contract column, given in fen). Chinese, English-file and in-memory names."""
    index: dict[str, tuple[str, bool]] = {}
    for column in columns:
        index[_normal_header(column.header_zh)] = (column.name, False)
        index[_normal_header(column.header_en)] = (column.name, False)
        if column.file_name is not None:
            # the in-memory name (`revenue_fen`) in a file means the amounts are already integer fen
            index[_normal_header(column.name)] = (column.name, True)
    return index


def _map_headers(table: str, sheet: str, names: list[str], notes: list[Note]) -> tuple[dict[str, str], set[str]]:
    """Original header -> contract column; raises for a missing required column."""
    index = header_index(COLUMNS[table])
    mapping: dict[str, str] = {}
    fen: set[str] = set()
    ignored = []
    for name in names:
        hit = index.get(_normal_header(name))
        if hit is None or hit[0] in mapping.values():
            if not name.startswith("__UNNAMED__") and _normal_header(name):
                ignored.append(name)
            continue
        mapping[name] = hit[0]
        if hit[1]:
            fen.add(hit[0])
    if ignored:
        notes.append(Note(f"{sheet}：忽略不认识的列 {', '.join(ignored)}",
                          f"{sheet}: ignored unknown columns {', '.join(ignored)}"))
    missing = [c for c in COLUMNS[table] if c.required and c.name not in mapping.values()]
    if missing:
        zh = "、".join(c.header_zh for c in missing)
        en = ", ".join(c.header_en for c in missing)
        raise UnusableInput(f"{sheet} 缺少必填列：{zh}", f"{sheet} lacks required columns: {en}")
    return mapping, fen


def _table_of(name: str) -> str | None:
    """A sheet or file stem -> table name (Chinese or English, any case)."""
    stem = name.strip()
    if stem in SHEETS:
        return SHEETS[stem][0]
    lowered = stem.lower()
    return lowered if lowered in TABLES else None


def _raw_table(table: str, sheet: str, frame: pl.DataFrame | pl.LazyFrame, names: list[str],
               notes: list[Note]) -> RawTable:
    mapping, fen = _map_headers(table, sheet, names, notes)
    frame = frame.select([ROW, *mapping]).rename(mapping)
    return RawTable(table, sheet, frame, {v: k for k, v in mapping.items()}, frozenset(fen))


def _finish(fmt: str, tables: dict[str, RawTable], notes: list[Note], where: str) -> RawInput:
    if "enterprises" not in tables:
        raise UnusableInput(f"{where} 中没有“企业”表（工作表或文件名须为 企业 或 enterprises）",
                            f"{where} has no enterprises table (a sheet or file named 企业 or enterprises)")
    return RawInput(fmt, tables, notes)


# --- XLSX ---------------------------------------------------------------------------------------------------


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _top_rows(path: Path, sheet: str, limit: int = HEADER_SEARCH_ROWS) -> dict[int, list[str]]:
    """The first `limit` rows holding a value, by their row number: read straight from the sheet's XML.

    Only the top of the sheet is parsed (the reader itself would parse all of it), and formatted but empty
    cells (`<c r="A1" s="3"/>`) do not count.
    """
    from xml.etree.ElementTree import iterparse

    rows: dict[int, list[tuple[str, str]]] = {}
    with zipfile.ZipFile(path) as archive:
        target = _sheet_part(archive, sheet)
        if target is None:
            return {}
        with archive.open(target) as stream:
            number = 0
            for event, element in iterparse(stream, events=("start", "end")):
                if event == "start" and element.tag == f"{_MAIN}row":
                    number = int(element.get("r", number + 1))
                elif event == "end" and element.tag == f"{_MAIN}c":
                    kind = element.get("t", "n")
                    value = element.find(f"{_MAIN}v")
                    if kind == "inlineStr":
                        text = "".join(element.itertext())
                    else:
                        text = value.text if value is not None and value.text is not None else ""
                    if text != "":
                        rows.setdefault(number, []).append((kind, text))
                    element.clear()
                elif event == "end" and element.tag == f"{_MAIN}row":
                    element.clear()
                    if len(rows) >= limit:
                        break
        # header texts come first in the shared strings (programs add them in order of first use); data
        # strings far down the table cannot be headers, so the table is read only that far
        wanted = {int(text) for cells in rows.values() for kind, text in cells if kind == "s"}
        strings = _shared_strings(archive, min(max(wanted), _HEADER_STRINGS)) if wanted else []
    return {number: [strings[int(text)] if kind == "s" and int(text) < len(strings) else text for kind, text in cells]
            for number, cells in rows.items()}


def _shared_strings(archive: zipfile.ZipFile, up_to: int) -> list[str]:
    """The shared strings up to index `up_to` (headers sit near the start of the table)."""
    from xml.etree.ElementTree import iterparse

    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    strings: list[str] = []
    with archive.open("xl/sharedStrings.xml") as stream:
        for event, element in iterparse(stream, events=("end",)):
            if element.tag == f"{_MAIN}si":
                # rich text keeps its runs in <r><t>; phonetic hints (<rPh>) are not part of the value
                parts = [child.text or "" for child in element if child.tag == f"{_MAIN}t"]
                parts += [t.text or "" for run in element if run.tag == f"{_MAIN}r" for t in run.iter(f"{_MAIN}t")]
                strings.append("".join(parts))
                element.clear()
                if len(strings) > up_to:
                    break
    return strings


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding a sheet's cells, found through the workbook's relationships."""
    from xml.etree.ElementTree import fromstring

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    workbook = fromstring(archive.read("xl/workbook.xml"))
    rel_id = next((s.get(f"{rel_ns}id") for s in workbook.iter(f"{main}sheet") if s.get("name") == sheet), None)
    rels = fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for rel in rels:
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def _find_header_row(top: dict[int, list[str]], table: str) -> int | None:
    """Row number of the top row that names the most contract columns (skips titles and merged group headers)."""
    index = header_index(COLUMNS[table])
    best, best_hits = None, 0
    for number in sorted(top):
        hits = len({index[_normal_header(v)][0] for v in top[number] if _normal_header(v) in index})
        if hits > best_hits:
            best, best_hits = number, hits
    return best


_EXACT_FLOAT = 2 ** 53  # below this every whole number is a float exactly


# the reader turns a date cell in a column of text into "2026-01-01 00:00:00" itself (typed text of that form
# means the same day)
_MIDNIGHT_TEXT = r"^\d{4}-\d{2}-\d{2} 00:00:00$"


def _text_columns_where(frame: pl.DataFrame, test: Callable[[pl.Expr], pl.Expr]) -> set[str]:
    """The text columns with a cell that passes `test`: the few to rewrite, so the others pass on without a copy."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not text or not frame.height:
        return set()
    found = frame.select([test(pl.col(name)).any().alias(name) for name in text]).row(0)
    return {name for name, hit in zip(text, found) if hit}


# how the reader writes a float in a column of text: nine decimals, trailing zeros dropped; only a float whose
# binary error shows within them (from about 10 million up) gets seven to nine, and no typed amount has them
_FLOAT_TEXT = r"^-?\d+\.\d{7,9}$"



def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Cells as text, as they were typed: floats by their shortest round-trip form, so 0.1 reads "0.1" and never
    0.1000000000000000055, and a whole number without ".0" (a spreadsheet stores -100 as the float -100.0); a
    date without a time of day, also where the reader made it text itself (a date cell in a column of text)."""
    # the suffix alone first: five times cheaper than the date pattern over every text cell of a large workbook
    midnight_text = _text_columns_where(frame, lambda column: column.str.ends_with(" 00:00:00"))
    float_text = _text_columns_where(frame, lambda column: column.str.contains(_FLOAT_TEXT))
    exprs = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype == pl.String and name in midnight_text:
            exprs.append(pl.when(column.str.contains(_MIDNIGHT_TEXT)).then(column.str.head(10)).otherwise(column)
                         .alias(name))
        elif dtype == pl.String and name in float_text:
            # a number cell in a column that also has text: the reader wrote it with nine decimals
            # (1904761904.769999981); its shortest round-trip form is what was typed (1904761904.77)
            exprs.append(pl.when(column.str.contains(_FLOAT_TEXT)).then(column.cast(pl.Float64).cast(pl.String))
                         .otherwise(column).alias(name))
        elif dtype == pl.String:
            exprs.append(column)
        elif dtype == pl.Datetime or dtype == pl.Date:
            midnight = column.cast(pl.Datetime).dt.time() == pl.time(0)
            exprs.append(pl.when(midnight).then(column.dt.strftime("%Y-%m-%d"))
                         .otherwise(column.dt.strftime("%Y-%m-%d %H:%M:%S")).alias(name))
        elif dtype.is_float():
            whole = column.is_finite() & (column == column.floor()) & (column.abs() < _EXACT_FLOAT)
            exprs.append(pl.when(whole).then(column.cast(pl.Int64).cast(pl.String))
                         .otherwise(column.cast(pl.String)).alias(name))
        elif dtype == pl.Duration:
            # a time-only cell: keep the sign that it was not a date
            exprs.append(pl.col(name).cast(pl.String).alias(name))
        else:
            exprs.append(pl.col(name).cast(pl.String).alias(name))
    return frame.select(exprs)


def read_xlsx(path: Path) -> RawInput:
    import logging

    import fastexcel

    # an empty column has no dtype to infer; the reader logs that for every such column, and it is expected here
    logging.getLogger("fastexcel").setLevel(logging.ERROR)
    try:
        reader = fastexcel.read_excel(str(path))
    except Exception:  # fastexcel raises its own error types for corrupt or non-Excel files
        # its message is a chain of library errors with the file's full path on this machine: not for users
        raise UnusableInput(f"无法作为 Excel 工作簿读取 {path.name}：文件已损坏、不完整，或不是 .xlsx 格式",
                            f"cannot read {path.name} as an Excel workbook: the file is damaged, incomplete or not "
                            f"in .xlsx format") from None
    notes: list[Note] = []
    tables: dict[str, RawTable] = {}
    for sheet in reader.sheet_names:
        table = _table_of(sheet)
        if table is None:
            if sheet not in ("说明", "lists", "_lists"):
                notes.append(Note(f"忽略工作表“{sheet}”", f"ignored sheet '{sheet}'"))
            continue
        top = _top_rows(path, sheet)
        if not top:
            if table == "enterprises":
                raise UnusableInput(f"工作表“{sheet}”是空的", f"sheet '{sheet}' is empty")
            continue
        header = _find_header_row(top, table) or min(top)
        frame = reader.load_sheet(sheet, header_row=header - 1, schema_sample_rows=None).to_polars()
        names = frame.columns
        frame = _as_text(frame).with_row_index(ROW, offset=header + 1).with_columns(pl.col(ROW).cast(pl.Int64))
        tables[table] = _raw_table(table, sheet, frame, names, notes)
    return _finish("xlsx", tables, notes, path.name)


# --- CSV ----------------------------------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """utf-8-sig, utf-8 or gb18030 (a superset of GBK), from the first few megabytes; raises if none fits."""
    with open(path, "rb") as handle:
        sample = handle.read(ENCODING_SAMPLE_BYTES)
    if sample.startswith(ZIP_MAGIC):
        # an .xlsx is a zip: renamed to .csv it would otherwise be "an unknown encoding", which sends the user
        # looking for an encoding setting instead of at the file's name
        raise UnusableInput(f"{path.name} 看起来是 Excel 工作簿或 zip 压缩包，而不是 CSV 文件：请把它改名为 .xlsx "
                            f"（工作簿）或 .zip（压缩包）后再试",
                            f"{path.name} looks like an Excel workbook or a zip archive, not CSV: rename it to .xlsx "
                            f"(a workbook) or .zip (an archive) and try again")
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=len(sample) < ENCODING_SAMPLE_BYTES)
            return encoding
        except UnicodeDecodeError:
            continue
    raise UnusableInput(f"{path.name} 的编码无法识别（支持 UTF-8、带 BOM 的 UTF-8、GBK/GB18030）",
                        f"cannot tell the encoding of {path.name} (UTF-8, UTF-8 with BOM and GBK/GB18030 are read)")


ENCODING_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "gb18030": "GBK/GB18030"}


def _utf8_copy(path: Path, encoding: str, workdir: Path) -> Path:
    """Re-encode to plain UTF-8 in a streaming pass (bounded memory) so the CSV reader can scan the file."""
    if encoding == "utf-8":
        return path
    target = workdir / (path.stem + ".utf8.csv")
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with open(path, "rb") as source, open(target, "w", encoding="utf-8", newline="") as sink:
        while block := source.read(8 << 20):
            try:
                sink.write(decoder.decode(block))
            except UnicodeDecodeError as error:
                at = offset + error.start
                raise UnusableInput(f"{path.name} 在第 {at} 字节处不是 {ENCODING_LABELS[encoding]} 编码",
                                    f"{path.name} is not {ENCODING_LABELS[encoding]} at byte {at}") from None
            offset += len(block)
        sink.write(decoder.decode(b"", final=True))
    return target


def scan_csv(path: Path, table: str, workdir: Path, notes: list[Note]) -> RawTable:
    encoding = detect_encoding(path)
    notes.append(Note(f"{path.name}：编码 {ENCODING_LABELS[encoding]}", f"{path.name}: encoding {ENCODING_LABELS[encoding]}"))
    readable = _utf8_copy(path, encoding, workdir)
    try:
        names = pl.read_csv(readable, n_rows=0, infer_schema=False).columns
    except pl.exceptions.PolarsError as error:
        raise UnusableInput(f"无法读取 CSV 文件 {path.name}：{error}", f"cannot read CSV file {path.name}: {error}") from None
    frame = (pl.scan_csv(readable, infer_schema=False)
             .with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64)))
    return _raw_table(table, path.name, frame, names, notes)


# --- Parquet ------------------------------------------------------------------------------------------------


def scan_parquet(path: Path, table: str, notes: list[Note]) -> RawTable:
    try:
        names = list(pl.read_parquet_schema(path))
    except (pl.exceptions.PolarsError, OSError) as error:
        raise UnusableInput(f"无法读取 Parquet 文件 {path.name}：{error}",
                            f"cannot read Parquet file {path.name}: {error}") from None
    # Parquet has no header line: `_row` is the 1-based record number
    frame = pl.scan_parquet(path).with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    return _raw_table(table, path.name, frame, names, notes)


# --- entry points -------------------------------------------------------------------------------------------

_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _table_files(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        table = _table_of(path.stem)
        if table is not None and path.suffix.lower() in _SUFFIXES:
            if table in found:
                raise UnusableInput(f"{folder.name} 中有两个“{SHEET_ZH[table]}”文件：{found[table].name}、{path.name}",
                                    f"{folder.name} has two {table} files: {found[table].name}, {path.name}")
            found[table] = path
    return found


def open_input(path: Path, workdir: Path) -> RawInput:
    """Open a workbook, a CSV or Parquet file (the enterprises table alone), a folder or a zip of table files.

    CSV and Parquet tables come back lazy (scans), so a runner can stream them; XLSX comes back in memory.
    `workdir` holds re-encoded CSV copies and unpacked zips; the caller deletes it.
    """
    path = Path(path)
    if not path.exists():
        raise UnusableInput(f"找不到输入文件 {path}", f"input not found: {path}")
    suffix = path.suffix.lower()
    if path.is_file() and suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path)
    if path.is_file() and suffix == ".xls":
        raise UnusableInput("不支持旧版 .xls 工作簿，请另存为 .xlsx", "old .xls workbooks are not read; save as .xlsx")
    if path.is_file() and suffix == ".zip":
        folder = workdir / "unzipped"
        try:
            with zipfile.ZipFile(path) as archive:
                for member in archive.infolist():
                    name = Path(_member_name(member)).name
                    if member.is_dir() or not name or name.startswith("."):
                        continue
                    with archive.open(member) as source, open(folder_file(folder, name), "wb") as sink:
                        shutil.copyfileobj(source, sink)
        except zipfile.BadZipFile:
            raise UnusableInput(f"{path.name} 不是有效的 zip 文件", f"{path.name} is not a valid zip file") from None
        return _read_folder(folder, workdir, path.name)
    if path.is_dir():
        return _read_folder(path, workdir, path.name)
    if suffix in _SUFFIXES:
        table = _table_of(path.stem) or "enterprises"
        return _read_files({table: path}, workdir, path.name)
    raise UnusableInput(f"不支持的输入格式：{path.name}（支持 .xlsx、.csv、.parquet、文件夹或 .zip）",
                        f"unsupported input: {path.name} (.xlsx, .csv, .parquet, a folder or a .zip)")


_UTF8_NAME = 0x800  # the zip flag saying a member's name is UTF-8


def _member_name(member: zipfile.ZipInfo) -> str:
    """A member's name as its maker wrote it. Without the UTF-8 flag zipfile reads names as CP437, but Info-ZIP
    writes UTF-8 without setting the flag, and Chinese Windows writes GBK: 企业.csv must be found either way."""
    if member.flag_bits & _UTF8_NAME:
        return member.filename
    try:
        raw = member.filename.encode("cp437")
    except UnicodeEncodeError:
        return member.filename
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return member.filename


def folder_file(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def _read_folder(folder: Path, workdir: Path, where: str) -> RawInput:
    workbooks = [p for p in folder.iterdir() if p.suffix.lower() == ".xlsx"] if folder.is_dir() else []
    files = _table_files(folder) if folder.is_dir() else {}
    if not files and len(workbooks) == 1:
        return read_xlsx(workbooks[0])
    return _read_files(files, workdir, where)


def _read_files(files: dict[str, Path], workdir: Path, where: str) -> RawInput:
    notes: list[Note] = []
    tables: dict[str, RawTable] = {}
    formats = set()
    for table, path in files.items():
        kind = _SUFFIXES[path.suffix.lower()]
        formats.add(kind)
        tables[table] = scan_csv(path, table, workdir, notes) if kind == "csv" else scan_parquet(path, table, notes)
    return _finish("/".join(sorted(formats)) or "csv", tables, notes, where)


def collect(raw: RawInput) -> RawInput:
    """The same input with every table in memory."""
    tables = {}
    for name, table in raw.tables.items():
        frame = table.frame.collect() if isinstance(table.frame, pl.LazyFrame) else table.frame
        tables[name] = RawTable(table.table, table.sheet, frame, table.headers, table.fen_columns)
    return RawInput(raw.format, tables, raw.notes)


def make_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="incentives-batch-"))

