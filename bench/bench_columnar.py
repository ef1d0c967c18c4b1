"""Columnar evaluator benchmarks, measured in one run on one synthetic population.

1. every scheme of the catalogue over N enterprises (default 1,000,000) from in-memory frames: statuses,
   amounts, stacking and the per-enterprise summary (the explained long table is built on demand: timed apart);
2. the flat 4-scheme subset (G60 instruments, G60 6G, Beijing tiers, Guangdong interest subsidy): the columnar
   evaluator vs the openfisca-core model in bench/peers/ fed the same rows as arrays;
3. per record: the columnar evaluator vs looping the scalar `evaluate()` over a sample of the same enterprises.

    .venv/bin/python bench/bench_columnar.py                      # 1M enterprises
    .venv/bin/python bench/bench_columnar.py --enterprises 100000 --repeat 3 --scalar-sample 2000
    .venv/bin/python bench/bench_columnar.py --parquet /tmp/population   # read a population written by generate.py

Peak RSS is the process's maximum resident set size (ru_maxrss), so it includes generation.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import population  # noqa: E402

from incentives.batch.columnar import evaluate_frames, evaluate_tables, prepare  # noqa: E402
from incentives.batch.convert import tables_to_profiles  # noqa: E402
from incentives.batch.tables import Tables  # noqa: E402
from incentives.evaluate import evaluate  # noqa: E402
from incentives.schemes import catalogue  # noqa: E402

FLAT_SUBSET = ("sh-g60/scientific-instruments", "sh-g60/6g", "bj-pilot/platform-construction",
               "gd/loan-interest-subsidy")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, function, repeat: int) -> tuple[float, object]:
    """Wall time (best and median of `repeat` runs) and the CPU time of the best run (all threads)."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        gc.collect()
        cpu_start, start = _cpu(), time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
        cpu.append(_cpu() - cpu_start)
    best, median = min(times), statistics.median(times)
    print(f"{label:<58} best {best:8.3f} s   median {median:8.3f} s   cpu {cpu[times.index(best)]:7.3f} s"
          f"   ({repeat} runs)", flush=True)
    return best, result


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def head(tables: Tables, n: int) -> Tables:
    ids = tables.enterprises["enterprise_id"].head(n).implode()
    keep = pl.col("enterprise_id").is_in(ids)
    return Tables(tables.enterprises.head(n), tables.projects.filter(keep), tables.loans.filter(keep),
                  tables.awards.filter(keep))


# --- the OpenFisca peer: the same rows as arrays ------------------------------------------------------------


def openfisca_arrays(tables: Tables) -> tuple[dict[str, np.ndarray], np.ndarray, int]:
    """Projects then loans as OpenFisca 'units', with the facts the 4 schemes read (not timed: input prep)."""
    from openfisca_core.indexed_enums import EnumArray
    from peers.openfisca_model import Tri

    e = tables.enterprises.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("_e"))
    ids = e.select("enterprise_id", "_e")
    p = tables.projects.join(ids, on="enterprise_id", how="inner")
    l = tables.loans.join(ids, on="enterprise_id", how="inner").join(
        e.select("_e", "province", "city", "industry_code", "hnte", "main_business_encouraged", "on_dishonesty_list"),
        on="_e", how="left")
    n_p, n_l = p.height, l.height

    def tri(expr: pl.Expr, frame: pl.DataFrame) -> np.ndarray:
        values = frame.select(pl.when(expr.is_null()).then(0).when(expr).then(1).otherwise(2)).to_series().to_numpy()
        return values.astype(np.int16)

    def unit_tri(project_expr: pl.Expr | None, loan_expr: pl.Expr | None) -> EnumArray:
        left = tri(project_expr, p) if project_expr is not None else np.zeros(n_p, dtype=np.int16)
        right = tri(loan_expr, l) if loan_expr is not None else np.zeros(n_l, dtype=np.int16)
        return EnumArray(np.concatenate([left, right]), Tri)

    fields = pl.col("fields")
    leading = ["ai", "biopharma", "green_low_carbon", "robotics", "new_materials", "ic", "aerospace",
               "safety_emergency", "future_industry"]
    arrays: dict[str, np.ndarray] = {
        "is_project": np.concatenate([np.ones(n_p, bool), np.zeros(n_l, bool)]),
        "is_loan": np.concatenate([np.zeros(n_p, bool), np.ones(n_l, bool)]),
        "in_shanghai": unit_tri(pl.col("province") == "上海市", None),
        "in_songjiang": unit_tri(pl.col("district") == "松江区", None),
        "in_beijing": unit_tri(pl.col("province") == "北京市", None),
        "has_6g": unit_tri(fields.list.contains("6g"), None),
        "has_instruments": unit_tri(fields.list.contains("scientific_instruments"), None),
        "pilot_platform": unit_tri(pl.col("activities").list.contains("pilot_platform"), None),
        "is_new": unit_tri(pl.col("is_new"), None),
        "independent": unit_tri(pl.col("is_independent_legal_entity"), None),
        "leading_field": unit_tri(fields.list.eval(pl.element().is_in(leading)).list.any(), None),
        "upgrading_field": unit_tri(fields.list.eval(pl.element().is_in(["next_gen_it", "icv_nev"])).list.any(), None),
        "ent_in_guangdong": unit_tri(None, pl.col("province") == "广东省"),
        "ent_not_shenzhen": unit_tri(None, pl.col("city") != "深圳市"),
        "ent_not_dishonest": unit_tri(None, pl.col("on_dishonesty_list").not_()),
        "ent_section_c": unit_tri(None, pl.col("industry_code").is_in(["C", "3311", "3743", "3912", "3399", "1311"])),
        "ent_hnte": unit_tri(None, pl.col("hnte")),
        "ent_encouraged": unit_tri(None, pl.col("main_business_encouraged")),
        "purpose_not_negative": unit_tri(None, pl.col("purpose").is_in(
            ["refinance", "repay_debt", "land", "financial_investment", "real_estate"]).not_()),
        "not_claimed": unit_tri(None, pl.col("claimed_under_other_policy").not_()),
        "fixed_asset": unit_tri(None, pl.col("loan_type") == "fixed_asset"),
        "fixed_or_working": unit_tri(None, pl.col("loan_type").is_in(["fixed_asset", "working_capital"])),
        "use_in_guangdong": unit_tri(None, pl.col("use_province") == "广东省"),
        "purpose_supported": unit_tri(None, pl.col("purpose").is_in(["build_plant", "buy_equipment", "tech_upgrade", "rd"])),
        "total_input_yuan": np.concatenate([(p["total_input_fen"].fill_null(0) / 100).to_numpy(), np.zeros(n_l)]),
        "principal_yuan": np.concatenate([np.zeros(n_p), (l["principal_fen"] / 100).to_numpy()]),
        "annual_rate": np.concatenate([np.zeros(n_p), l["annual_rate"].cast(pl.Float64).to_numpy()]),
        "issue_day": np.concatenate([np.zeros(n_p, np.int32), l["issue_date"].cast(pl.Int32).to_numpy()]),
        "maturity_day": np.concatenate([np.zeros(n_p, np.int32), l["maturity_date"].cast(pl.Int32).to_numpy()]),
        "paid_this_year_yuan": np.zeros(n_p + n_l),
    }
    enterprise_of_unit = np.concatenate([p["_e"].to_numpy(), l["_e"].to_numpy()])
    return arrays, enterprise_of_unit, e.height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=1_000_000)
    parser.add_argument("--parquet", type=Path, help="read enterprises/projects/loans/awards.parquet from here")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 6, 1))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scalar-sample", type=int, default=2000)
    parser.add_argument("--details-sample", type=int, default=100_000,
                        help="also time the explained long table for this many enterprises (0: skip)")
    parser.add_argument("--skip-openfisca", action="store_true")
    parser.add_argument("--shuffled", action=argparse.BooleanOptionalAction, default=True,
                        help="also time the same tables in random order (ids unsorted), once")
    args = parser.parse_args()

    print(f"polars {pl.__version__}, {pl.thread_pool_size()} threads", flush=True)
    start = time.perf_counter()
    if args.parquet:
        tables = Tables(*[pl.read_parquet(args.parquet / f"{name}.parquet")
                          for name in ("enterprises", "projects", "loans", "awards")])
    else:
        tables = population(args.enterprises)
    n = tables.enterprises.height
    print(f"population: {n:,} enterprises, {tables.projects.height:,} projects, {tables.loans.height:,} loans, "
          f"{tables.awards.height:,} awards (ready in {time.perf_counter() - start:.1f} s, not timed)", flush=True)
    as_of = args.as_of
    cat = catalogue()
    evaluate_tables(head(tables, 1000), as_of, cat)  # warm-up: imports, catalogue, industry table
    rss_before = peak_rss_mb()

    # 1. every scheme: from the tables, and split into preparing the facts frames and the rules themselves
    full, result = timed(f"columnar, all {len(cat.schemes)} schemes, {n:,} enterprises, from tables",
                         lambda: evaluate_tables(tables, as_of, cat), args.repeat)
    rows = sum(ev.wide.height for ev in result.evaluated.values())
    eligible = int((result.summary["n_eligible"] > 0).sum())
    print(f"  -> {rows:,} unit rows, {eligible:,} enterprises with an eligible scheme, "
          f"confirmed total ¥{result.summary['total_fen'].sum() / 100:,.2f}")
    print(f"  peak RSS {peak_rss_mb():,.0f} MB (before evaluating: {rss_before:,.0f} MB)", flush=True)
    del result
    _, frames = timed("  of which: prepare (ids -> rows, derived facts, list masks)", lambda: prepare(tables, cat),
                      args.repeat)
    kernel, _ = timed("  of which: rules (evaluate_frames, all schemes)", lambda: evaluate_frames(frames, as_of, cat),
                      args.repeat)
    if args.shuffled:
        # the same population with every table in random order: ids are not sorted, so ids -> rows is a hash join
        shuffled = Tables(*[t.sample(fraction=1.0, shuffle=True, seed=i) for i, t in
                            enumerate((tables.enterprises, tables.projects, tables.loans, tables.awards))])
        timed("  same tables shuffled (unsorted ids: the hash-join path)",
              lambda: evaluate_tables(shuffled, as_of, cat), 1)
        del shuffled
    if args.details_sample:
        sample = head(tables, args.details_sample)
        evaluated = evaluate_tables(sample, as_of, cat)
        _, details = timed(f"explained long table (details), {sample.enterprises.height:,} enterprises",
                           lambda: evaluated.__class__.details.func(evaluated), 1)
        print(f"  -> {details.height:,} detail rows", flush=True)
        del details, evaluated

    # 2. the flat subset, columnar vs OpenFisca: rules on prepared inputs, and from the same tables
    subset = replace(cat, schemes=tuple(s for s in cat.schemes if s.id in FLAT_SUBSET))
    flat_kernel, _ = timed(f"columnar rules, flat 4-scheme subset, {n:,} enterprises",
                           lambda: evaluate_frames(frames, as_of, subset), args.repeat)
    flat_tables, _ = timed("columnar, flat 4-scheme subset, from tables", lambda: evaluate_tables(tables, as_of, subset),
                           args.repeat)
    del frames
    if not args.skip_openfisca:
        from peers.openfisca_model import simulate, tax_benefit_system

        system = tax_benefit_system()
        prep, (arrays, enterprise_of_unit, n_enterprises) = timed("openfisca inputs from the same tables (numpy arrays)",
                                                                  lambda: openfisca_arrays(tables), 1)
        peer, _ = timed(f"openfisca-core from arrays, same 4 schemes, {len(enterprise_of_unit):,} units",
                        lambda: simulate(system, arrays, enterprise_of_unit, n_enterprises), args.repeat)
        print(f"  -> rules on prepared inputs: columnar {flat_kernel:.3f} s vs openfisca {peer:.3f} s: "
              f"{peer / flat_kernel:.1f}x (target >= 2x)")
        print(f"  -> from the tables: columnar {flat_tables:.3f} s vs openfisca {prep + peer:.3f} s: "
              f"{(prep + peer) / flat_tables:.1f}x", flush=True)
        del arrays

    # 3. per record, against the scalar evaluator
    sample = head(tables, args.scalar_sample)
    profiles = tables_to_profiles(sample)
    scalar, _ = timed(f"scalar evaluate() loop, {len(profiles):,} enterprises",
                      lambda: [evaluate(profile, as_of, cat) for _, profile in profiles], 1)
    per_record_scalar = scalar / len(profiles)
    per_record_columnar = full / n
    print(f"  -> scalar {per_record_scalar * 1e3:.2f} ms / enterprise (extrapolated to {n:,}: "
          f"{per_record_scalar * n:,.0f} s); columnar {per_record_columnar * 1e6:.2f} µs / enterprise; "
          f"columnar is {per_record_scalar / per_record_columnar:,.0f}x faster per record (target >= 50x)")
    print(f"peak RSS {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
