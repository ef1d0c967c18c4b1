"""Batch I/O benchmarks: workbook in -> explained workbook out, Parquet end to end, streaming memory, Dask.

    .venv/bin/python bench/bench_batch_io.py xlsx --enterprises 100000
    .venv/bin/python bench/bench_batch_io.py parquet --enterprises 1000000 [--stages]
    .venv/bin/python bench/bench_batch_io.py stream --enterprises 10000000 --chunk-size 250000
    .venv/bin/python bench/bench_batch_io.py dask --enterprises 1000000

Populations come from bench/generate.py when it offers `population(n, seed) -> Tables`, else from the small
seeded generator below (same distributions in spirit: regions weighted toward the schemes' regions, 0-5
projects and 0-4 loans per enterprise, some unknown values). Each scenario prints where the time goes.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 6, 1)

PLACES = [  # (province, city, district, weight)
    ("上海市", "上海市", "松江区", 0.18), ("上海市", "上海市", "浦东新区", 0.10), ("北京市", "北京市", "海淀区", 0.14),
    ("北京市", "北京市", "朝阳区", 0.08), ("广东省", "广州市", "黄埔区", 0.12), ("广东省", "深圳市", "南山区", 0.10),
    ("广东省", "佛山市", None, 0.08), ("江苏省", None, None, 0.10), ("浙江省", None, None, 0.10),
]
ACTIVITIES = ["rd", "industrialisation", "pilot_platform", "pilot_services", "key_tech_challenge",
              "applied_basic_research", "satellite_services", "industry_cluster"]
FIELDS = ["6g", "satellite", "scientific_instruments", "ai", "biopharma", "ic", "new_materials", "robotics", "other"]


def _tristate(rng: np.random.Generator, n: int, p_true: float, p_null: float = 0.15) -> pl.Series:
    draw = rng.random(n)
    values = np.where(draw < p_true, 1, 0)
    mask = rng.random(n) < p_null
    return pl.Series(values.astype(bool)).scatter(np.flatnonzero(mask), None) if mask.any() else pl.Series(values.astype(bool))


def _pick(rng: np.random.Generator, options: list, size: int) -> pl.Series:
    return pl.Series(options, dtype=pl.String)[rng.integers(0, len(options), size)]


def synthetic_tables(n: int, seed: int = 1, start: int = 0):
    """A seeded population of n enterprises (ids from `start`), with projects, loans and a few awards."""
    from incentives.batch.tables import AWARDS, ENTERPRISES, LOANS, PROJECTS, Tables, schema

    rng = np.random.default_rng(seed + start)
    ids = pl.Series([f"E{i:08d}" for i in range(start, start + n)])
    weights = np.array([p[3] for p in PLACES])
    place = rng.choice(len(PLACES), size=n, p=weights / weights.sum())
    provinces = pl.Series([p[0] for p in PLACES])[place]
    cities = pl.Series([p[1] for p in PLACES])[place]
    districts = pl.Series([p[2] for p in PLACES])[place]
    revenue = (rng.lognormal(17, 1.5, n)).astype(np.int64)
    enterprises = pl.DataFrame({
        "enterprise_id": ids, "name": ids.str.replace("E", "企业"), "uscc": [None] * n,
        "province": provinces, "city": cities, "district": districts,
        "industry_code": _pick(rng, ["C3973", "C3311", "I6513", "M7320", None], n),
        "ownership": _pick(rng, ["private", "state_owned", "foreign", None], n),
        "employees": pl.Series(rng.integers(5, 3000, n)), "revenue_fen": pl.Series(revenue),
        "total_assets_fen": pl.Series((revenue * rng.uniform(0.5, 3, n)).astype(np.int64)),
        "rd_spend_fen": pl.Series((revenue * rng.uniform(0, 0.12, n)).astype(np.int64)),
        "hnte": _tristate(rng, n, 0.3), "tech_sme": _tristate(rng, n, 0.3), "specialized_sme": _tristate(rng, n, 0.15),
        "little_giant": _tristate(rng, n, 0.03), "single_champion": _tristate(rng, n, 0.01),
        "chain_leader": _tristate(rng, n, 0.02), "tech_leader": _tristate(rng, n, 0.02),
        "on_dishonesty_list": _tristate(rng, n, 0.01), "main_business_encouraged": _tristate(rng, n, 0.6),
        "on_tech_sme_list": _tristate(rng, n, 0.2, 0.5), "has_high_rd_intensity": _tristate(rng, n, 0.3, 0.5),
    }, schema_overrides=schema(ENTERPRISES)).select(list(schema(ENTERPRISES)))

    n_projects = rng.integers(0, 6, n)
    owner = np.repeat(np.arange(n), n_projects)
    m = owner.size
    seq = np.arange(m) - np.repeat(np.cumsum(n_projects) - n_projects, n_projects)
    total = (rng.lognormal(16, 1.4, m)).astype(np.int64)
    projects = pl.DataFrame({
        "enterprise_id": ids[owner], "project_id": pl.Series([f"P{k + 1}" for k in seq]), "name": [None] * m,
        "activities": [[ACTIVITIES[a]] for a in rng.integers(0, len(ACTIVITIES), m)],
        "fields": [[FIELDS[f]] for f in rng.integers(0, len(FIELDS), m)],
        "province": provinces[owner], "city": cities[owner], "district": districts[owner],
        "total_input_fen": pl.Series(total), "rd_input_fen": pl.Series((total * rng.uniform(0.1, 0.9, m)).astype(np.int64)),
        "challenge_amount_fen": pl.Series((total * 0.5).astype(np.int64)), "annual_operating_expenses_fen": [None] * m,
        "pilot_service_fees_fen": pl.Series((total * 0.05).astype(np.int64)),
        "is_independent_legal_entity": _tristate(rng, m, 0.4, 0.3), "is_new": _tristate(rng, m, 0.5, 0.3),
    }, schema_overrides=schema(PROJECTS)).select(list(schema(PROJECTS)))

    n_loans = rng.integers(0, 5, n)
    owner = np.repeat(np.arange(n), n_loans)
    k = owner.size
    seq = np.arange(k) - np.repeat(np.cumsum(n_loans) - n_loans, n_loans)
    issue = np.datetime64("2025-01-01") + rng.integers(0, 600, k).astype("timedelta64[D]")
    loans = pl.DataFrame({
        "enterprise_id": ids[owner], "loan_id": pl.Series([f"L{j + 1}" for j in seq]),
        "principal_fen": pl.Series(rng.integers(100_000, 50_000_000, k) * 100),
        "annual_rate": _pick(rng, ["0.028", "0.031", "0.035", "0.0385", "0.042"], k),
        "issue_date": pl.Series(issue).cast(pl.Date),
        "maturity_date": pl.Series(issue + rng.integers(200, 1500, k).astype("timedelta64[D]")).cast(pl.Date),
        "loan_type": _pick(rng, ["fixed_asset", "working_capital", None], k),
        "purpose": _pick(rng, ["buy_equipment", "tech_upgrade", "daily_operations", "rd", None], k),
        "use_province": provinces[owner], "use_city": cities[owner], "lender": [None] * k,
        "claimed_under_other_policy": _tristate(rng, k, 0.05, 0.3), "for_tech_upgrade_project": _tristate(rng, k, 0.3),
    }, schema_overrides=schema(LOANS)).select(list(schema(LOANS)))
    awards = pl.DataFrame(schema=schema(AWARDS))
    return Tables(enterprises, projects, loans, awards)


def population(n: int, seed: int = 1, start: int = 0):
    try:
        sys.path.insert(0, str(ROOT / "bench"))
        import generate  # the shared population generator, when it is there

        if hasattr(generate, "population") and start == 0:
            return generate.population(n, seed)
    except ImportError:
        pass
    return synthetic_tables(n, seed, start)


# --- input files (amounts in yuan, as people and other systems write them) ----------------------------------


def _yuan_decimal(column: str) -> pl.Expr:
    from incentives.batch.xlsx import yuan_text

    return yuan_text(pl.col(column)).cast(pl.Decimal(20, 2)).alias(column.removesuffix("_fen") + "_yuan")


def write_parquet_input(tables, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("enterprises", "projects", "loans", "awards"):
        frame = getattr(tables, name)
        frame.with_columns([_yuan_decimal(c) for c in frame.columns if c.endswith("_fen")]).drop(
            [c for c in frame.columns if c.endswith("_fen")]).write_parquet(folder / f"{name}.parquet")


def write_xlsx_input(tables, path: Path) -> None:
    from incentives.batch.readers import SHEETS
    from incentives.batch.xlsx import MONEY, TEXT, Col, XlsxBook

    book = XlsxBook(path)
    for zh, (name, columns) in SHEETS.items():
        frame = getattr(tables, name)
        specs, exprs = [], []
        for column in columns:
            dtype = frame.schema[column.name]
            if column.file_name is not None:
                specs.append(Col(column.name, column.header_zh, MONEY))
                exprs.append(pl.col(column.name))
            elif dtype == pl.Boolean:
                specs.append(Col(column.name, column.header_zh, TEXT))
                exprs.append(pl.col(column.name).replace_strict({True: "是", False: "否"}, return_dtype=pl.String))
            elif isinstance(dtype, pl.List):
                specs.append(Col(column.name, column.header_zh, TEXT))
                exprs.append(pl.col(column.name).list.join(";"))
            else:
                specs.append(Col(column.name, column.header_zh, TEXT))
                exprs.append(pl.col(column.name).cast(pl.String))
        book.write_sheet(zh, specs, frame.select(exprs))
    book.close()


# --- scenarios ----------------------------------------------------------------------------------------------


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _kernel() -> tuple[float, int]:
    """System CPU time and minor page faults so far: mostly the kernel handing out fresh memory."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_stime, usage.ru_minflt


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Clock:
    """Wall time per stage, and CPU time (user + system, all threads), which other load on the box does not inflate;
    of that CPU, the system part and the page faults behind most of it."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float, float]] = []
        self.kernel: list[tuple[float, int]] = []
        self.last = time.perf_counter()
        self.last_cpu = _cpu()
        self.last_kernel = _kernel()

    def mark(self, label: str) -> None:
        now, cpu, kernel = time.perf_counter(), _cpu(), _kernel()
        self.marks.append((label, now - self.last, cpu - self.last_cpu))
        self.kernel.append((kernel[0] - self.last_kernel[0], kernel[1] - self.last_kernel[1]))
        self.last, self.last_cpu, self.last_kernel = now, cpu, kernel

    def report(self) -> dict[str, float]:
        total = sum(s for _, s, _ in self.marks)
        total_cpu = sum(c for _, _, c in self.marks)
        for (label, seconds, cpu), (system, faults) in zip(self.marks, self.kernel):
            print(f"  {label:<34} {seconds:7.2f} s wall {100 * seconds / total:5.1f} %   {cpu:7.2f} s cpu"
                  f"   ({system:5.2f} s system, {faults / 1000:6.0f}k page faults)")
        print(f"  {'total':<34} {total:7.2f} s wall           {total_cpu:7.2f} s cpu")
        return {label: round(seconds, 3) for label, seconds, _ in self.marks} | {
            "total": round(total, 3), "total_cpu": round(total_cpu, 3)}


def scenario_xlsx(n: int, work: Path) -> dict:
    """Workbook -> evaluated -> explained workbook, stage by stage (the stages run_batch runs)."""
    from incentives.batch.readers import open_input, collect
    from incentives.batch.runner import default_evaluator, evaluate_part
    from incentives.batch.validate import validate
    from incentives.batch.writers import RunInfo, XlsxSink
    from incentives.schemes import catalogue

    tables = population(n)
    source = work / "input.xlsx"
    started = time.perf_counter()
    write_xlsx_input(tables, source)
    print(f"input workbook: {n} enterprises, {tables.projects.height} projects, {tables.loans.height} loans, "
          f"{source.stat().st_size / 1e6:.1f} MB (written in {time.perf_counter() - started:.1f} s, not timed)")
    cat = catalogue()
    evaluator = default_evaluator()
    clock = Clock()
    raw = collect(open_input(source, work))
    clock.mark("read workbook (calamine)")
    checked = validate(raw)
    clock.mark("check cells (validate)")
    part = evaluate_part(checked, AS_OF, evaluator, cat)
    part.details  # built when first asked: here, so that the stage holds it
    clock.mark("evaluate + explain (columnar)")
    sink = XlsxSink(work / "results.xlsx")
    sink.write(part)
    clock.mark("write 明细 sheet")
    sink.close(RunInfo(source.name, "xlsx", AS_OF, cat.rules_version, checked.counts))
    clock.mark("write 汇总/待确认/错误 + strings, zip")
    stages = clock.report()
    size = (work / "results.xlsx").stat().st_size / 1e6
    print(f"  output: {part.details.height} detail rows, {size:.1f} MB; peak RSS {_rss_mb():.0f} MB")
    return {"scenario": "xlsx", "enterprises": n, "detail_rows": part.details.height, "stages_s": stages,
            "output_mb": round(size, 1), "peak_rss_mb": round(_rss_mb())}


def parquet_stages(source: Path, output: Path) -> dict:
    """The stages run_batch runs for a Parquet input held in one chunk, each timed (wall and CPU)."""
    from incentives.batch.readers import collect, make_workdir, open_input
    from incentives.batch.runner import default_evaluator, evaluate_part
    from incentives.batch.validate import validate
    from incentives.batch.writers import ParquetSink, RunInfo
    from incentives.schemes import catalogue

    cat = catalogue()
    evaluator = default_evaluator()
    clock = Clock()
    raw = collect(open_input(source, make_workdir()))
    clock.mark("read Parquet")
    checked = validate(raw)
    clock.mark("check cells (validate)")
    result = evaluator(checked.tables, AS_OF, cat)
    clock.mark("engine + summary (columnar)")
    streamed = result.streamed_details()
    clock.mark("explained parts (per scheme)")
    part = evaluate_part(checked, AS_OF, lambda *_: result, cat)
    part.streamed = lambda: streamed
    clock.mark("rejected + summary")
    sink = ParquetSink(output)
    sink.write(part)
    sink.close(RunInfo(source.name, "parquet", AS_OF, cat.rules_version, checked.counts))
    clock.mark("details in place + write Parquet")
    stages = clock.report()
    print(f"  {streamed.height} detail rows; peak RSS {_rss_mb():.0f} MB")
    return stages


def scenario_parquet(n: int, work: Path, stages: bool = False, chunk_size: int | None = None) -> dict:
    """run_batch as `incentives batch run` runs it (the default chunk size unless one is given); --stages: one
    chunk, stage by stage."""
    from incentives.batch.runner import Job, run_batch

    tables = population(n)
    write_parquet_input(tables, work / "input")
    del tables
    print(f"input Parquet folder: {n} enterprises")
    if stages:
        return {"scenario": "parquet-stages", "enterprises": n,
                "stages_s": parquet_stages(work / "input", work / "output")}
    started, cpu = time.perf_counter(), _cpu()
    info = run_batch(Job(work / "input", work / "output", AS_OF, "parquet", chunk_size=chunk_size))
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    details = pl.scan_parquet(work / "output" / "details" / "*.parquet").select(pl.len()).collect().item()
    print(f"  read -> check -> evaluate -> write Parquet, chunks of {chunk_size or 'the default size'}: "
          f"{seconds:.2f} s wall, {cpu:.2f} s cpu "
          f"({n / seconds:,.0f} enterprises/s), "
          f"{details} detail rows, peak RSS {_rss_mb():.0f} MB, reconciles={info.counts.reconciles}")
    return {"scenario": "parquet", "enterprises": n, "chunk_size": chunk_size, "seconds": round(seconds, 2),
            "cpu_s": round(cpu, 2),
            "detail_rows": details,
            "peak_rss_mb": round(_rss_mb())}


def scenario_stream(n: int, work: Path, chunk_size: int, piece: int = 1_000_000) -> dict:
    """Write an n-enterprise Parquet input piece by piece, then run the CLI on it in a child; its peak RSS."""
    import pyarrow.parquet as pq

    folder = work / "input"
    folder.mkdir(parents=True, exist_ok=True)
    writers: dict = {}
    started = time.perf_counter()
    for start in range(0, n, piece):
        tables = population(min(piece, n - start), seed=1 + start // piece)
        for name in ("enterprises", "projects", "loans", "awards"):
            # each piece is its own population: prefix its ids so they stay unique across pieces
            frame = getattr(tables, name).with_columns((pl.lit(f"S{start // piece}-") + pl.col("enterprise_id"))
                                                       .alias("enterprise_id"))
            frame = frame.with_columns([_yuan_decimal(c) for c in frame.columns if c.endswith("_fen")]).drop(
                [c for c in frame.columns if c.endswith("_fen")])
            table = frame.to_arrow()
            if name not in writers:
                writers[name] = pq.ParquetWriter(folder / f"{name}.parquet", table.schema, compression="zstd")
            writers[name].write_table(table)
        print(f"  generated {min(start + piece, n):,} enterprises ({time.perf_counter() - started:.0f} s)", flush=True)
    for writer in writers.values():
        writer.close()
    size = sum(p.stat().st_size for p in folder.iterdir()) / 1e9
    print(f"input: {n:,} enterprises, {size:.2f} GB of Parquet")
    command = [sys.executable, "-m", "incentives.cli", "batch", "run", str(folder), "-o", str(work / "output"),
               "--format", "parquet", "--as-of", AS_OF.isoformat(), "--chunk-size", str(chunk_size)]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - started
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out = sum(p.stat().st_size for p in (work / "output").rglob("*") if p.is_file()) / 1e9
    print(f"  streamed run: {seconds:.1f} s ({n / seconds:,.0f} enterprises/s), child peak RSS {child_rss:.0f} MB, "
          f"output {out:.2f} GB")
    return {"scenario": "stream", "enterprises": n, "chunk_size": chunk_size, "seconds": round(seconds, 1),
            "peak_rss_mb": round(child_rss), "input_gb": round(size, 2), "output_gb": round(out, 2)}


def scenario_dask(n: int, work: Path, chunk_size: int) -> dict:
    from incentives.batch.runner import Job, run_batch

    write_parquet_input(population(n), work / "input")
    results = {}
    for engine in ("local", "dask-local"):
        started = time.perf_counter()
        run_batch(Job(work / "input", work / f"out-{engine}", AS_OF, "parquet", chunk_size=chunk_size, engine=engine))
        seconds = time.perf_counter() - started
        results[engine] = round(seconds, 2)
        print(f"  {engine:<11} {seconds:6.2f} s  {n / seconds:,.0f} enterprises/s (chunks of {chunk_size:,})")
    return {"scenario": "dask", "enterprises": n, "chunk_size": chunk_size, "seconds": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["xlsx", "parquet", "stream", "dask"])
    parser.add_argument("--enterprises", type=int, default=None)
    parser.add_argument("--chunk-size", type=int, default=None,
                        help="enterprises at a time (parquet: the batch default; stream, dask: 250000)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--stages", action="store_true", help="parquet: time each stage instead of run_batch")
    args = parser.parse_args()
    defaults = {"xlsx": 100_000, "parquet": 1_000_000, "stream": 10_000_000, "dask": 1_000_000}
    n = args.enterprises or defaults[args.scenario]
    work = Path(tempfile.mkdtemp(prefix=f"bench-batch-{args.scenario}-"))
    try:
        if args.scenario == "xlsx":
            result = scenario_xlsx(n, work)
        elif args.scenario == "parquet":
            result = scenario_parquet(n, work, args.stages, args.chunk_size)
        elif args.scenario == "stream":
            result = scenario_stream(n, work, args.chunk_size or 250_000)
        else:
            result = scenario_dask(n, work, args.chunk_size or 250_000)
        print(json.dumps(result, ensure_ascii=False))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
