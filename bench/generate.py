"""Seeded synthetic populations of enterprises for the batch benchmarks.

Distributions are plausible rather than real: regions lean toward the schemes' regions (Songjiang, Beijing,
Guangdong with Shenzhen), each enterprise has 0–5 projects (about 1.5 per enterprise) and 0–4 loans (about 1),
some figures and declarations are unknown (null), and a few enterprises have an award history.

    .venv/bin/python bench/generate.py --enterprises 1000000 --parquet /tmp/population   # writes 4 Parquet files
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from incentives.batch.tables import (
    ACTIVITIES,
    AWARDS,
    ENTERPRISES,
    FIELDS,
    LOAN_PURPOSES,
    LOAN_TYPES,
    LOANS,
    OWNERSHIP,
    PROJECTS,
    Tables,
    schema,
)

# (province, city, district), weight
REGIONS = [
    (("上海市", "上海市", "松江区"), 0.22),
    (("上海市", "上海市", "浦东新区"), 0.06),
    (("上海市", "上海市", "闵行区"), 0.04),
    (("北京市", "北京市", "海淀区"), 0.10),
    (("北京市", "北京市", "朝阳区"), 0.08),
    (("广东省", "广州市", "黄埔区"), 0.08),
    (("广东省", "深圳市", "南山区"), 0.07),
    (("广东省", "佛山市", None), 0.06),
    (("广东省", "东莞市", None), 0.04),
    (("江苏省", None, None), 0.10),
    (("浙江省", None, None), 0.08),
    (("四川省", None, None), 0.07),
]
INDUSTRY_CODES = [None, "C", "3311", "3743", "3912", "3399", "1311", "6513", "6511", "5191", "5212", "7010", "7020",
                  "7212", "4710", "A", "0111", "4411", "5910"]
RATES = ["0.028", "0.0295", "0.031", "0.0315", "0.035", "0.0385", "0.04", "0.045"]
AWARD_SCHEMES = ["sh-g60/industry-cluster", "sh-g60/intl-org-operations", "gd/loan-interest-subsidy",
                 "sh-g60/satellite-services-award", "bj-pilot/innovation-voucher"]
_EPOCH = date(1970, 1, 1)


def _days(day: date) -> int:
    return (day - _EPOCH).days


def _pick(rng: np.random.Generator, values: list, n: int, p: list[float] | None = None, null: float = 0.0) -> pl.Series:
    index = rng.choice(len(values), size=n, p=p)
    series = pl.Series(values, dtype=pl.String).gather(index)
    return _nullify(rng, series, null)


def _nullify(rng: np.random.Generator, series: pl.Series, null: float) -> pl.Series:
    return series if null <= 0 else _blank(series, rng.random(series.len()) < null)


def _blank(series: pl.Series, where: np.ndarray) -> pl.Series:
    return pl.select(pl.when(pl.lit(where)).then(None).otherwise(series)).to_series()


def _bools(rng: np.random.Generator, n: int, p_true: float, null: float) -> pl.Series:
    return _nullify(rng, pl.Series(rng.random(n) < p_true), null)


def _fen(rng: np.random.Generator, n: int, median_yuan: float, sigma: float, null: float) -> pl.Series:
    # lognormal amounts in whole yuan, as fen; capped below the profile limit
    yuan = np.minimum(np.exp(rng.normal(np.log(median_yuan), sigma, n)), 1e11).astype(np.int64)
    return _nullify(rng, pl.Series(yuan * 100, dtype=pl.Int64), null)


def _lists(rng: np.random.Generator, n: int, values: tuple[str, ...], mean: float, weights: np.ndarray) -> pl.Series:
    """A List(String) column: Poisson-many distinct values per row, drawn with the given weights."""
    counts = np.minimum(rng.poisson(mean, n), 3)
    total = int(counts.sum())
    picks = rng.choice(len(values), size=total, p=weights / weights.sum())
    owner = np.repeat(np.arange(n), counts)
    flat = pl.DataFrame({"row": owner, "value": pl.Series(values, dtype=pl.String).gather(picks)})
    grouped = flat.unique(maintain_order=True).group_by("row", maintain_order=True).agg("value")
    full = pl.DataFrame({"row": np.arange(n)}).join(grouped, on="row", how="left", maintain_order="left")
    return full["value"].fill_null(pl.lit([], dtype=pl.List(pl.String)))


def population(n: int, seed: int = 20260601) -> Tables:
    """n enterprises with their projects, loans and awards, reproducible from the seed."""
    rng = np.random.default_rng(seed)
    region_index = rng.choice(len(REGIONS), size=n, p=np.array([w for _, w in REGIONS]) / sum(w for _, w in REGIONS))
    provinces = pl.Series([r[0][0] for r in REGIONS], dtype=pl.String)
    cities = pl.Series([r[0][1] for r in REGIONS], dtype=pl.String)
    districts = pl.Series([r[0][2] for r in REGIONS], dtype=pl.String)
    ids = pl.select(pl.format("E{}", pl.int_range(n).cast(pl.String).str.zfill(7))).to_series()
    enterprises = pl.DataFrame({
        "enterprise_id": ids,
        "name": pl.select(pl.format("企业{}", pl.int_range(n))).to_series(),
        "uscc": pl.Series([None] * n, dtype=pl.String),
        "province": provinces.gather(region_index), "city": cities.gather(region_index),
        "district": districts.gather(region_index),
        "industry_code": _pick(rng, INDUSTRY_CODES, n),
        "ownership": _pick(rng, list(OWNERSHIP), n, p=[0.6, 0.1, 0.08, 0.02, 0.1, 0.1], null=0.1),
        "employees": _nullify(rng, pl.Series(np.exp(rng.normal(np.log(60), 1.4, n)).astype(np.int64)), 0.08),
        "revenue_fen": _fen(rng, n, 20_000_000, 1.8, 0.1),
        "total_assets_fen": _fen(rng, n, 30_000_000, 1.8, 0.15),
        "rd_spend_fen": _fen(rng, n, 1_000_000, 1.5, 0.3),
        **{name: _bools(rng, n, p, 0.2) for name, p in (
            ("hnte", 0.3), ("tech_sme", 0.3), ("specialized_sme", 0.15), ("little_giant", 0.03),
            ("single_champion", 0.01), ("chain_leader", 0.01), ("tech_leader", 0.02))},
        "on_dishonesty_list": _bools(rng, n, 0.02, 0.3),
        "main_business_encouraged": _bools(rng, n, 0.6, 0.3),
        "on_tech_sme_list": _bools(rng, n, 0.2, 0.5),
        "has_high_rd_intensity": _bools(rng, n, 0.3, 0.5),
    }, schema=schema(ENTERPRISES))

    # projects: 0–5 per enterprise, about 1.5 on average; most are where the enterprise is
    project_counts = rng.choice(6, size=n, p=[0.3, 0.25, 0.2, 0.12, 0.08, 0.05])
    owner = np.repeat(np.arange(n), project_counts)
    m = len(owner)
    ordinal = np.arange(m) - np.repeat(np.cumsum(project_counts) - project_counts, project_counts)
    elsewhere = rng.random(m) < 0.25
    location = np.where(elsewhere, rng.choice(len(REGIONS), size=m), region_index[owner])
    no_location = rng.random(m) < 0.08
    activity_weights = np.array([3, 2, 2, 1, 4, 5, 2, 3, 1, 1, 1, 1], dtype=float)
    field_weights = np.array([2, 2, 2, 2, 2, 3, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 3], dtype=float)
    projects = pl.DataFrame({
        "enterprise_id": ids.gather(owner),
        "project_id": pl.select(pl.format("P{}", pl.lit(ordinal))).to_series(),
        "name": pl.Series([None] * m, dtype=pl.String),
        "activities": _lists(rng, m, ACTIVITIES, 1.2, activity_weights),
        "fields": _lists(rng, m, FIELDS, 1.1, field_weights),
        "province": _blank(provinces.gather(location), no_location),
        "city": _blank(cities.gather(location), no_location),
        "district": _blank(districts.gather(location), no_location),
        "total_input_fen": _fen(rng, m, 20_000_000, 1.6, 0.1),
        "rd_input_fen": _fen(rng, m, 8_000_000, 1.6, 0.3),
        "challenge_amount_fen": _fen(rng, m, 10_000_000, 1.2, 0.6),
        "annual_operating_expenses_fen": _fen(rng, m, 3_000_000, 1.2, 0.5),
        "pilot_service_fees_fen": _fen(rng, m, 300_000, 1.0, 0.3),
        "is_independent_legal_entity": _bools(rng, m, 0.3, 0.3),
        "is_new": _bools(rng, m, 0.5, 0.3),
    }, schema=schema(PROJECTS))

    # loans: 0–4 per enterprise, about 1 on average; issue dates around the Guangdong window
    loan_counts = rng.choice(5, size=n, p=[0.4, 0.3, 0.17, 0.08, 0.05])
    owner = np.repeat(np.arange(n), loan_counts)
    k = len(owner)
    ordinal = np.arange(k) - np.repeat(np.cumsum(loan_counts) - loan_counts, loan_counts)
    issue = rng.integers(_days(date(2024, 6, 1)), _days(date(2028, 6, 30)), size=k)
    maturity = issue + rng.integers(90, 1500, size=k)
    use = np.where(rng.random(k) < 0.85, region_index[owner], rng.choice(len(REGIONS), size=k))
    loans = pl.DataFrame({
        "enterprise_id": ids.gather(owner),
        "loan_id": pl.select(pl.format("L{}", pl.lit(ordinal))).to_series(),
        "principal_fen": pl.Series(np.exp(rng.normal(np.log(20_000_000), 1.5, k)).astype(np.int64).clip(1, 10**11) * 100),
        "annual_rate": _pick(rng, RATES, k),
        "issue_date": pl.Series(issue, dtype=pl.Int32).cast(pl.Date),
        "maturity_date": pl.Series(maturity, dtype=pl.Int32).cast(pl.Date),
        "loan_type": _pick(rng, list(LOAN_TYPES), k, p=[0.55, 0.4, 0.05], null=0.1),
        "purpose": _pick(rng, list(LOAN_PURPOSES), k,
                         p=[0.15, 0.2, 0.15, 0.15, 0.15, 0.04, 0.04, 0.03, 0.02, 0.02, 0.05], null=0.1),
        "use_province": provinces.gather(use), "use_city": cities.gather(use),
        "lender": pl.Series([None] * k, dtype=pl.String),
        "claimed_under_other_policy": _bools(rng, k, 0.05, 0.4),
        "for_tech_upgrade_project": _bools(rng, k, 0.2, 0.4),
    }, schema=schema(LOANS))

    # awards: about 5% of enterprises already received something under a capped scheme
    awarded = np.flatnonzero(rng.random(n) < 0.05)
    a = len(awarded)
    award_days = rng.integers(_days(date(2025, 6, 1)), _days(date(2026, 12, 31)), size=a)
    awards = pl.DataFrame({
        "enterprise_id": ids.gather(awarded),
        "scheme_id": _pick(rng, AWARD_SCHEMES, a),
        "amount_fen": pl.Series(rng.integers(100_000, 2_500_000_000, size=a), dtype=pl.Int64),
        "date": pl.Series(award_days, dtype=pl.Int32).cast(pl.Date),
        "unit_id": pl.Series([None] * a, dtype=pl.String),
        "source": pl.Series([None] * a, dtype=pl.String),
    }, schema=schema(AWARDS))
    return Tables(enterprises, projects, loans, awards)


def write_parquet(tables: Tables, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("enterprises", "projects", "loans", "awards"):
        getattr(tables, name).write_parquet(directory / f"{name}.parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--parquet", type=Path, help="write enterprises/projects/loans/awards.parquet here")
    args = parser.parse_args()
    start = time.perf_counter()
    tables = population(args.enterprises, args.seed)
    elapsed = time.perf_counter() - start
    print(f"generated {tables.enterprises.height:,} enterprises, {tables.projects.height:,} projects, "
          f"{tables.loans.height:,} loans, {tables.awards.height:,} awards in {elapsed:.1f} s")
    if args.parquet:
        write_parquet(tables, args.parquet)
        print(f"wrote {args.parquet}")


if __name__ == "__main__":
    main()
