"""Running a batch: read, check, evaluate and write, chunk by chunk so memory stays bounded.

An enterprise and its projects, loans and awards must be evaluated together, so large inputs are first split
into buckets by a hash of the enterprise id (one streaming pass per table, written as Parquet under a work
folder); each bucket is then read, checked, evaluated and written before the next. A workbook is read whole
(it has to be), then evaluated in chunks of enterprises. The Dask engine runs the same per-bucket kernel on
workers (dask_engine.py).
"""

from __future__ import annotations

import math
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from ..schemes import Catalogue, catalogue as bundled_catalogue
from .cell_parsers import enterprise_key
from .chunks import BUCKET_CHUNK_SIZE, IN_MEMORY_CHUNK_SIZE, READ_WHOLE_UP_TO, in_memory_chunks
from .readers import ROW, TABLES, RawInput, RawTable, UnusableInput, collect, make_workdir, open_input
from .sources import sources_table
from .totals import Totals
from .validate import KIND_WARNING, Counts, Validated, validate
from .writers import (
    DETAIL_SCHEMA,
    OUTCOME_EVALUATED,
    OUTCOME_REJECTED,
    SHEET_ORDER,
    SUMMARY_SCHEMA,
    Part,
    RunInfo,
    conform,
    conform_coded,
    format_of,
    open_sink,
    output_problem,
)

BUCKET = "_bucket"
Evaluator = Callable[..., Any]  # (tables, as_of, cat) -> result with .details and .summary frames
Progress = Callable[[int, int, str], None]  # (enterprises done, enterprises in total, what is happening)


def default_evaluator() -> Evaluator:
    from .columnar import evaluate_tables

    return evaluate_tables


def _no_progress(done: int, total: int, stage: str) -> None:
    return None


# --- one chunk ----------------------------------------------------------------------------------------------


def evaluate_part(checked: Validated, as_of: date, evaluator: Evaluator, cat: Catalogue) -> Part:
    """Evaluate the accepted enterprises of a chunk; add names, titles and the rejected enterprises."""
    titles = {scheme.id: scheme.title_zh for scheme in cat.schemes}
    streamed = totals = None
    if checked.tables.enterprises.height:
        result = evaluator(checked.tables, as_of, cat)
        # built when a writer asks: a writer that streams takes them block by block instead (the columnar
        # engine offers both, with the text columns dictionary-encoded)
        if hasattr(type(result), "encoded_details"):  # asked of the class: on the result it would build them
            def details() -> pl.DataFrame:
                return conform_coded(result.encoded_details, DETAIL_SCHEMA)
        else:
            details = conform_coded(result.details, DETAIL_SCHEMA)
        streamed = getattr(result, "streamed_details", None)
        totals = getattr(result, "scheme_totals", None)  # the columnar engine's, from its few hits
        summary = result.summary
        if summary.schema.get("top_schemes") != pl.String and "top_schemes" in summary.columns:
            summary = summary.with_columns(pl.col("top_schemes").cast(pl.List(pl.String)).list.join("; "))
        summary = summary.with_columns(pl.lit(OUTCOME_EVALUATED).alias("outcome"), pl.lit(0).alias("n_errors"),
                                       _warnings_of(checked.errors).alias("n_warnings"))
    else:
        details = pl.DataFrame(schema=DETAIL_SCHEMA)
        summary = pl.DataFrame(schema=SUMMARY_SCHEMA)
    # a rejected enterprise's rows are not checked for plausibility: its errors come first
    rejected = checked.rejected.select("enterprise_id", "name", pl.lit(OUTCOME_REJECTED).alias("outcome"), "n_errors",
                                       pl.lit(0, dtype=pl.Int64).alias("n_warnings"))
    summary = pl.concat([conform(summary, SUMMARY_SCHEMA), conform(rejected, SUMMARY_SCHEMA)])
    return Part(summary, details, checked.errors, titles, streamed, totals)


def _warnings_of(errors: pl.DataFrame) -> pl.Expr:
    """Per evaluated enterprise, how many of its rows were evaluated as given but look mistyped (KIND_WARNING):
    the few warnings looked up by id, not a join of the whole summary."""
    counts = (errors.filter(pl.col("kind") == KIND_WARNING).drop_nulls("enterprise_id")
              .group_by("enterprise_id").agg(pl.len().cast(pl.Int64).alias("n")))
    if not counts.height:
        return pl.lit(0, dtype=pl.Int64)
    return pl.col("enterprise_id").replace_strict(counts["enterprise_id"], counts["n"], default=0,
                                                  return_dtype=pl.Int64)


# --- buckets on disk ----------------------------------------------------------------------------------------


def count_enterprises(raw: RawInput) -> int:
    frame = raw.tables["enterprises"].frame
    if isinstance(frame, pl.LazyFrame):
        return frame.select(pl.len()).collect().item()
    return frame.height


def partition(raw: RawInput, folder: Path, buckets: int) -> None:
    """Write each table as Parquet buckets keyed by a hash of the enterprise id, streaming (bounded memory)."""
    for name, table in raw.tables.items():
        frame = table.frame.lazy()
        key = (enterprise_key(pl.col("enterprise_id")).hash(seed=20260101) % buckets).cast(pl.Int32)
        frame.with_columns(key.alias(BUCKET)).sink_parquet(
            pl.PartitionBy(folder / name, key=BUCKET, include_key=False), mkdir=True)


def bucket_input(raw: RawInput, folder: Path, bucket: int) -> RawInput:
    """Bucket number `bucket` of a partitioned input, in memory, with the headers of the original."""
    tables = {}
    for name, table in raw.tables.items():
        files = sorted((folder / name / f"{BUCKET}={bucket}").glob("*.parquet"))
        if files:
            frame = pl.read_parquet(files)
        else:
            schema = table.frame.collect_schema() if isinstance(table.frame, pl.LazyFrame) else table.frame.schema
            frame = pl.DataFrame(schema=schema)
        tables[name] = RawTable(table.table, table.sheet, frame, table.headers, table.fen_columns)
    return RawInput(raw.format, tables, raw.notes)


class _Sampling:
    """Passes parts to a sink and keeps the first errors, for a summary on screen."""

    LIMIT = 200

    def __init__(self, sink: Any):
        self.sink = sink
        self.sample: list[dict[str, Any]] = []
        self.totals = Totals()

    def write(self, part: Part) -> None:
        room = self.LIMIT - len(self.sample)
        if room > 0 and part.errors.height:
            self.sample += part.errors.head(room).to_dicts()
        self.totals.add(part.summary, part.scheme_totals)
        self.sink.write(part)

    def close(self, info: RunInfo) -> None:
        self.sink.close(info)


def _readable(step: Callable[[], Any]) -> Any:
    """Run a step that reads the input; a file the reader chokes on is unusable, not a crash."""

    try:
        return step()
    except pl.exceptions.PolarsError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UnusableInput(f"无法读取输入：{first}", f"cannot read the input: {first}") from None


# --- the run ------------------------------------------------------------------------------------------------


def misnamed_output(output: Path, fmt: str, is_folder: bool) -> tuple[str, str] | None:
    """writers.output_problem, and a workbook to a name not ending in .xlsx (r.pdf, results): nothing would open
    it as a workbook by its name, and a name without .xlsx is more likely meant as a folder of tables."""
    problem = output_problem(output, fmt, is_folder)
    output = Path(output)
    if problem or fmt != "xlsx" or output.suffix.lower() == ".xlsx":
        return problem
    name, workbook = output.name, output.with_suffix(".xlsx")
    return (f"XLSX 结果是 .xlsx 工作簿：未写出任何结果；请给以 .xlsx 结尾的文件名（而不是 {name}），例如 -o {workbook}；"
            f"要 CSV 或 Parquet 表的文件夹，请加 --format csv 或 --format parquet",
            f"XLSX results are an .xlsx workbook: nothing was written; give a name ending in .xlsx (not {name}), "
            f"e.g. -o {workbook}; for a folder of CSV or Parquet tables, add --format csv or --format parquet")


def _refuse_misnamed_output(output_path: Path, fmt: str) -> None:
    """Refuse, before any work, CSV or Parquet results to a name that reads as one file (a folder r.csv would
    surprise), and a workbook to a folder or to a name without .xlsx (misnamed_output)."""
    problem = misnamed_output(output_path, fmt, is_folder=output_path.is_dir())
    if problem:
        raise UnusableInput(*problem)


def _refuse_overwriting(input_path: Path, output_path: Path, force: bool = False) -> None:
    """Refuse an output that would destroy something other than this tool's own earlier results.

    Re-running after fixing the input replaces the previous results without asking, so that stays one command;
    anything else at the output (a client's filled-in workbook, a folder of their tables) is kept unless
    `force`. Even with `force` the output may not be the input: it is read while the results are written."""

    if input_path.exists() and output_path.exists() and input_path.resolve() == output_path.resolve():
        raise UnusableInput(f"输出与输入是同一个{'文件夹' if input_path.is_dir() else '文件'}（{input_path.name}），"
                            f"结果会覆盖客户数据：请用 -o 指定另一个名字",
                            f"the output is the input ({input_path.name}): the results would overwrite the clients' "
                            f"data; give another name with -o")
    if force or not output_path.exists() or _replaceable(output_path):
        return
    kind_zh = "文件夹" if output_path.is_dir() else "文件"
    raise UnusableInput(f"{kind_zh} {output_path.name} 已存在，且不是本工具以前写出的结果，未覆盖（可能是客户数据）；"
                        f"请用 -o 指定另一个名字，或加 --force 覆盖",
                        f"{output_path.name} exists and is not results this tool wrote before, so it was left as it "
                        f"is (it may be clients' data): give another name with -o, or --force to replace it")


_RESULT_SHEET = re.compile(rf"^({'|'.join(SHEET_ORDER)})( \(\d+\))?$")  # 明细 (2): a continuation part


def _replaceable(output: Path) -> bool:
    """True for what a run may overwrite unasked: results written before by this tool, or an empty folder."""
    if output.is_dir():
        return not any(output.iterdir()) or _is_run_record(output / "run.json")
    return output.is_file() and _is_results_workbook(output)


def _is_run_record(path: Path) -> bool:
    """run.json as the CSV and Parquet writers leave it (a client's folder may hold some other run.json)."""
    import json

    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and {"rules_version", "counts"} <= record.keys()


def _is_results_workbook(path: Path) -> bool:
    """A workbook whose sheets are exactly the results sheets; only its list of sheets is read, however large."""
    import zipfile
    from xml.etree.ElementTree import ParseError, fromstring

    try:
        with zipfile.ZipFile(path) as archive:
            workbook = fromstring(archive.read("xl/workbook.xml"))
    except (OSError, KeyError, zipfile.BadZipFile, ParseError):
        return False
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    matches = [_RESULT_SHEET.match(sheet.get("name", "")) for sheet in workbook.iter(f"{main}sheet")]
    # workbooks written before the 依据 sheet was added are this tool's results too
    return all(matches) and {match.group(1) for match in matches} in (set(SHEET_ORDER), set(SHEET_ORDER) - {"依据"})


@dataclass(slots=True)
class Job:
    input_path: Path
    output_path: Path
    as_of: date
    fmt: str | None = None
    chunk_size: int | None = None  # enterprises at a time; None: IN_MEMORY_ or BUCKET_CHUNK_SIZE, as read
    engine: str = "local"  # local / dask / dask-local
    scheduler: str | None = None
    evaluator_ref: str | None = None  # "module:function" the Dask workers import instead of the columnar engine
    force: bool = False  # replace whatever is at the output, not only earlier results
    read_whole_up_to: int = READ_WHOLE_UP_TO  # enterprises; a larger input is split into buckets on disk first


def run_batch(job: Job, progress: Progress | None = None, evaluator: Evaluator | None = None,
              cat: Catalogue | None = None, workdir: Path | None = None) -> RunInfo:
    """Run a whole batch; raises readers.UnusableInput when the input cannot be read at all."""
    started = time.perf_counter()
    progress = progress or _no_progress
    cat = cat or bundled_catalogue()
    evaluator = evaluator or default_evaluator()
    own_workdir = workdir is None
    workdir = workdir or make_workdir()
    try:
        fmt = format_of(job.output_path, job.fmt)
        _refuse_misnamed_output(Path(job.output_path), fmt)
        _refuse_overwriting(Path(job.input_path), Path(job.output_path), job.force)
        raw = open_input(Path(job.input_path), workdir)
        total = count_enterprises(raw)
        if not total:  # a run of nothing would look like a run that found nothing
            raise UnusableInput("企业表中没有数据行，没有可评估的企业（模板的示例行删除后，请填入客户）",
                                "the enterprises table has no rows: there is nothing to evaluate (fill in the clients "
                                "after deleting the template's example row)")
        sink = _Sampling(open_sink(Path(job.output_path), fmt))
        counts = Counts()
        progress(0, total, "read")
        if job.engine in ("dask", "dask-local"):
            from .dask_engine import run_on_dask

            run_on_dask(raw, workdir, job, sink, counts, progress, total)
        elif (isinstance(raw.tables["enterprises"].frame, pl.DataFrame)
              or total <= max(job.chunk_size or 0, job.read_whole_up_to)):
            cells = _readable(lambda: collect(raw))
            progress(0, total, "check")
            checked = validate(cells, as_of=job.as_of)
            del cells  # the cells as read are not needed past the checks: free them before evaluating
            done = checked.counts.rejected
            for chunk in in_memory_chunks(checked, job.chunk_size or IN_MEMORY_CHUNK_SIZE):
                sink.write(evaluate_part(chunk, job.as_of, evaluator, cat))
                counts.add(chunk.counts)
                done += chunk.tables.enterprises.height
                progress(done, total, "evaluate")
        else:
            buckets = max(1, math.ceil(total / (job.chunk_size or BUCKET_CHUNK_SIZE)))
            progress(0, total, "partition")
            _readable(lambda: partition(raw, workdir / "buckets", buckets))
            done = 0
            for bucket in range(buckets):
                checked = validate(bucket_input(raw, workdir / "buckets", bucket), as_of=job.as_of)
                sink.write(evaluate_part(checked, job.as_of, evaluator, cat))
                counts.add(checked.counts)
                done += checked.counts.enterprises_in
                progress(done, total, "evaluate")
        info = RunInfo(Path(job.input_path).name, raw.format, job.as_of, cat.rules_version, counts,
                       [(n.zh, n.en) for n in raw.notes], job.engine, error_sample=sink.sample,
                       money=sink.totals.as_dict(cat), sources=sources_table(cat, job.as_of))
        progress(total, total, "write")
        sink.close(info)
        info.seconds = time.perf_counter() - started
        return info
    finally:
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)


__all__ = ["Job", "run_batch", "misnamed_output", "evaluate_part", "partition", "bucket_input", "TABLES", "ROW"]
