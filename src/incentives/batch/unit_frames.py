"""Batch tables -> one facts frame per unit kind, with columns named like the scalar facts (facts.py).

Derived enterprise facts are computed column-wise exactly as facts.py / sme_size.py compute them per profile:
the industry section of a GB/T 4754 code, the SME size class, the activities of all the enterprise's projects
(a bit mask) and the pilot-service fees summed over the projects that buy pilot services.
Rows whose enterprise_id is not in the enterprise table are left out (the readers report them).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import numpy as np
import polars as pl

from .. import industry as industry_table
from ..profile import MAX_YUAN
from ..scheme_files import SmeSizeFile
from ..sme_size import category_for
from .compile_conditions import LIST_FACT_VALUES, OTHER_BIT, mask_column
from .tables import Tables

MAX_FEN = MAX_YUAN * 100
_WAN_FEN = 1_000_000
_CERTIFICATIONS = ("hnte", "tech_sme", "specialized_sme", "little_giant", "single_champion", "chain_leader",
                   "tech_leader")
_DECLARATIONS = ("on_dishonesty_list", "main_business_encouraged", "on_tech_sme_list", "has_high_rd_intensity")
ROW = "_e"  # enterprise row number, the join key inside the batch
UNIT_ROW = "_u"


@dataclass(frozen=True)
class UnitFrames:
    enterprises: pl.DataFrame  # one row per enterprise, enterprise facts
    projects: pl.DataFrame  # one row per project, project facts + ROW
    loans: pl.DataFrame  # one row per loan, loan facts + ROW + rate numerator / denominator
    awards: pl.DataFrame  # award history + ROW


def spread(n: int, rows: pl.Series, values: pl.Series, fill: object = None) -> pl.Series:
    """Per-enterprise values (at enterprise row numbers `rows`) as a full column of n rows: a scatter, no join."""
    full = pl.repeat(fill, n, dtype=values.dtype, eager=True).alias(values.name)
    return full.scatter(rows, values) if rows.len() else full


def take(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """The named columns as they are. An eager select would first copy them into line when they are chunked
    differently (columns read from files and columns computed from them are), which costs a copy per call."""
    return pl.DataFrame([frame.get_column(name) for name in names])


def _strictly_increasing(ids: pl.Series) -> bool:
    """Sorted with no repeats: each id then sits at the one position a merge of sorted keys finds for it."""
    if ids.null_count():
        return False
    return ids.len() < 2 or (ids.is_sorted() and bool((ids.slice(1) > ids.slice(0, ids.len() - 1)).all()))


def _sorted_rows(ids: pl.Series, keys: pl.Series) -> pl.Series:
    """Row numbers of sorted keys in strictly increasing ids, by one linear merge instead of a hash join.

    The child tables usually list an enterprise's rows together, so only the first key of each run is looked
    up and the result repeated over the run. After merging the run heads into the ids (both strictly
    increasing), an id equal to a head is its immediate neighbour; any other neighbour differs.
    """
    starts = (keys != keys.shift(1)).fill_null(True)
    heads = keys.filter(starts)
    n = ids.len()
    known = pl.DataFrame({"_k": ids, "_r": pl.int_range(n, dtype=pl.UInt32, eager=True), "_head": False})
    looked = pl.DataFrame({"_k": heads, "_r": pl.repeat(None, heads.len(), dtype=pl.UInt32, eager=True),
                           "_head": True})
    merged = known.set_sorted("_k").merge_sorted(looked.set_sorted("_k"), key="_k")
    key, row = pl.col("_k"), pl.col("_r")
    head_rows = (merged.lazy()
                 .select(pl.col("_head"),
                         pl.when(key == key.shift(1)).then(row.shift(1))
                         .when(key == key.shift(-1)).then(row.shift(-1)).alias(ROW))
                 .filter(pl.col("_head")).collect()[ROW])
    run = starts.cum_sum().cast(pl.UInt32) - 1
    return head_rows.gather(run).alias(ROW)


def enterprise_rows(tables: Tables) -> list[pl.Series]:
    """Each project, loan and award row's enterprise row number (null for an unknown enterprise).

    Ids as generated or exported usually arrive sorted: then a linear merge finds the rows (see _sorted_rows).
    Otherwise one join for the three tables: the hash table of the enterprise ids is built once, not three times.
    """
    parts = [tables.projects["enterprise_id"], tables.loans["enterprise_id"], tables.awards["enterprise_id"]]
    ids = tables.enterprises.select(pl.col("enterprise_id"), pl.int_range(pl.len(), dtype=pl.UInt32).alias(ROW))
    given = tables.enterprise_rows
    if given is not None and [r.len() for r in given] == [p.len() for p in parts]:
        return [r.alias(ROW) for r in given]
    return sorted_rows(ids["enterprise_id"], parts) or _joined_rows(parts, ids)


def sorted_rows(enterprise_ids: pl.Series, parts: list[pl.Series]) -> list[pl.Series] | None:
    """Each part's keys' row numbers among strictly increasing ids (null where absent), when the ids are such
    and every part is sorted with no null; else None."""
    if (enterprise_ids.len() and _strictly_increasing(enterprise_ids)
            and all(p.null_count() == 0 and p.is_sorted() for p in parts)):
        return [_sorted_rows(enterprise_ids, part) if part.len() else pl.Series(ROW, [], dtype=pl.UInt32)
                for part in parts]
    return None


def _joined_rows(parts: list[pl.Series], ids: pl.DataFrame) -> list[pl.Series]:
    keys = pl.concat(parts).to_frame("enterprise_id")
    return split_like(keys.join(ids, on="enterprise_id", how="left", maintain_order="left")[ROW], parts)


def split_like(column: pl.Series, parts: list[pl.Series]) -> list[pl.Series]:
    """A column computed over the parts concatenated, cut back into one piece per part."""
    out, start = [], 0
    for part in parts:
        out.append(column.slice(start, part.len()))
        start += part.len()
    return out


def _with_rows(table: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    """The table with each row's enterprise row number; rows of unknown enterprises are left out."""
    with_rows = table.with_columns(rows)
    return with_rows if rows.null_count() == 0 else with_rows.filter(pl.col(ROW).is_not_null())


def per_enterprise(n: int, rows: pl.Series, values: pl.Series | None = None, combine: str = "add") -> pl.Series:
    """Sum (or bitwise OR) of integer values per enterprise row, by scattering into an array of n: no grouping."""
    index = rows.to_numpy()
    if values is None:
        return pl.Series(np.bincount(index, minlength=n).astype(np.int64))
    out = np.zeros(n, dtype=np.int64)
    (np.bitwise_or if combine == "or" else np.add).at(out, index, values.to_numpy().astype(np.int64))
    return pl.Series(out)


def list_bits(column: str, fact: str) -> pl.Expr:
    """Each value of a List(String) column as its bit: one bit per known value (unknown values share one bit)."""
    values = LIST_FACT_VALUES[fact]
    bits = {value: 1 << index for index, value in enumerate(values)}
    return pl.col(column).list.eval(
        pl.element().replace_strict(list(bits), list(bits.values()), default=1 << OTHER_BIT, return_dtype=pl.Int64))


def or_positions(column: str, width: int) -> pl.Expr:
    """The OR of a list of bits whose longest list has `width` items: one plain column per position, OR-ed
    together, which is about twice as fast as an aggregation inside each list (the column must exist already,
    so that it is computed once)."""
    def bits_at(position: int) -> pl.Expr:
        return pl.col(column).list.get(position, null_on_oob=True).fill_null(0)

    # the first position even when every list is empty: the mask keeps the column's length
    mask = bits_at(0)
    for position in range(1, width):
        mask = mask | bits_at(position)
    return mask


def _list_width(table: pl.DataFrame, column: str) -> int:
    return int(table[column].list.len().max() or 0) if table.height else 0


@cache
def _industry(code: str) -> tuple[str, str] | None:
    found = industry_table.lookup(code)
    return (found.code, found.section) if found else None


def _industry_columns(codes: pl.Series, sizes: SmeSizeFile) -> pl.DataFrame:
    """Per distinct raw code: the normalised code, its section and its size category (Python over few values)."""
    rows = []
    for raw in codes.unique().to_list():
        found = _industry(raw) if raw is not None else None
        code, section = found if found else (None, None)
        rows.append({"industry_code": raw, "_code": code, "_section": section,
                     "_category": category_for(sizes, code, section).id})
    return pl.DataFrame(rows, schema={"industry_code": pl.String, "_code": pl.String, "_section": pl.String,
                                      "_category": pl.String})


def _size_bounds(sizes: SmeSizeFile) -> pl.DataFrame:
    rows = []
    for category in sizes.categories:
        row: dict[str, object] = {"_category": category.id}
        for prefix, bounds in (("sme", category.sme_if_below_any), ("medium", category.medium_if_all_at_least),
                               ("small", category.small_if_all_at_least)):
            for metric in ("employees", "revenue_wan", "assets_wan"):
                bound = getattr(bounds, metric)
                row[f"_{prefix}_{metric}"] = None if bound is None else (bound if metric == "employees" else bound * _WAN_FEN)
        rows.append(row)
    return pl.DataFrame(rows, schema={"_category": pl.String, **{f"_{p}_{m}": pl.Int64 for p in ("sme", "medium", "small")
                                                                 for m in ("employees", "revenue_wan", "assets_wan")}})


_FIGURES = {"employees": "employees", "revenue_wan": "revenue_fen", "assets_wan": "total_assets_fen"}


def _any_below(prefix: str) -> pl.Expr:
    # Kleene OR over the metrics that have a bound; a metric without a bound is false (OR's neutral element)
    expr = pl.lit(False)
    for metric, figure in _FIGURES.items():
        bound = pl.col(f"_{prefix}_{metric}")
        expr = expr | pl.when(bound.is_null()).then(False).otherwise(pl.col(figure) < bound)
    return expr


def _all_at_least(prefix: str) -> pl.Expr:
    expr = pl.lit(True)
    for metric, figure in _FIGURES.items():
        bound = pl.col(f"_{prefix}_{metric}")
        expr = expr & pl.when(bound.is_null()).then(True).otherwise(pl.col(figure) >= bound)
    return expr


def size_class() -> pl.Expr:
    """sme_size.classify, column-wise: large / medium / small / micro, null when the figures cannot decide."""
    sme, medium, small = _any_below("sme"), _all_at_least("medium"), _all_at_least("small")
    return (pl.when(sme.not_()).then(pl.lit("large"))
            .when(sme.is_null()).then(pl.lit(None, dtype=pl.String))
            .when(medium).then(pl.lit("medium"))
            .when(medium.is_null()).then(pl.lit(None, dtype=pl.String))
            .when(small).then(pl.lit("small"))
            .when(small.is_null()).then(pl.lit(None, dtype=pl.String))
            .otherwise(pl.lit("micro")))


def _check_amounts(frame: pl.DataFrame, columns: list[str], table: str) -> None:
    """Amounts beyond the profile's limit would overflow the integer arithmetic: refuse them loudly."""
    for column in columns:
        if frame.height and frame[column].max() is not None and frame[column].max() > MAX_FEN:
            raise ValueError(f"{table}.{column}: amount above {MAX_YUAN} yuan")
        if frame.height and frame[column].min() is not None and frame[column].min() < 0:
            raise ValueError(f"{table}.{column}: negative amount")


@cache
def _rate_ratio(text: str) -> tuple[int, int]:
    numerator, denominator = Decimal(text.strip()).as_integer_ratio()
    if denominator > 10**15:
        raise ValueError(f"annual_rate '{text}' has too many decimals")
    return numerator, denominator


def _rate_columns(rates: pl.Series) -> list[pl.Expr]:
    """Each loan's rate as an exact integer ratio, looked up among the few distinct rate texts (no join)."""
    texts = rates.unique().to_list()
    ratios = [_rate_ratio(text) for text in texts]
    column = pl.col("annual_rate")
    return [column.replace_strict(texts, [r[0] for r in ratios], return_dtype=pl.Int64).alias("_rate_num"),
            column.replace_strict(texts, [r[1] for r in ratios], return_dtype=pl.Int64).alias("_rate_den")]


def build(tables: Tables, sizes: SmeSizeFile) -> UnitFrames:
    e = tables.enterprises
    _check_amounts(e, ["revenue_fen", "total_assets_fen", "rd_spend_fen"], "enterprises")
    _check_amounts(tables.projects, ["total_input_fen", "rd_input_fen", "challenge_amount_fen",
                                     "annual_operating_expenses_fen", "pilot_service_fees_fen"], "projects")
    _check_amounts(tables.loans, ["principal_fen"], "loans")
    _check_amounts(tables.awards, ["amount_fen"], "awards")
    project_rows, loan_rows, award_rows = enterprise_rows(tables)

    projects = (_with_rows(tables.projects, project_rows).lazy()
                .with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias(UNIT_ROW),
                              list_bits("activities", "project.activities"), list_bits("fields", "project.fields"))
                .select(ROW, UNIT_ROW, pl.col("enterprise_id"), pl.col("project_id").alias("unit_id"),
                        or_positions("activities", _list_width(tables.projects, "activities"))
                        .alias(mask_column("project.activities")),
                        or_positions("fields", _list_width(tables.projects, "fields"))
                        .alias(mask_column("project.fields")),
                        pl.col("province").alias("project.location.province"),
                        pl.col("city").alias("project.location.city"),
                        pl.col("district").alias("project.location.district"),
                        *[pl.col(c).alias(f"project.{c}") for c in
                          ("total_input_fen", "rd_input_fen", "challenge_amount_fen", "annual_operating_expenses_fen",
                           "pilot_service_fees_fen", "is_independent_legal_entity", "is_new")])
                .collect())
    pilot_bit = 1 << LIST_FACT_VALUES["project.activities"].index("pilot_services")
    loans = (_with_rows(tables.loans, loan_rows).lazy()
             .with_columns(_rate_columns(tables.loans["annual_rate"]))
             .with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias(UNIT_ROW))
             .select(ROW, UNIT_ROW, pl.col("enterprise_id"), pl.col("loan_id").alias("unit_id"), "_rate_num",
                     "_rate_den",
                     pl.col("principal_fen").alias("loan.principal_fen"),
                     pl.col("issue_date").alias("loan.issue_date"),
                     pl.col("maturity_date").alias("loan.maturity_date"),
                     pl.col("loan_type").alias("loan.loan_type"), pl.col("purpose").alias("loan.purpose"),
                     pl.col("use_province").alias("loan.region_of_use.province"),
                     pl.col("use_city").alias("loan.region_of_use.city"),
                     pl.col("claimed_under_other_policy").alias("loan.claimed_under_other_policy"),
                     pl.col("for_tech_upgrade_project").alias("loan.for_tech_upgrade_project"))
             .collect())
    n = e.height
    masks = projects[mask_column("project.activities")]
    buying = (masks & pilot_bit) != 0
    fees = projects["project.pilot_service_fees_fen"]
    rows = projects[ROW]
    derived = pl.DataFrame([
        per_enterprise(n, rows, masks, "or").alias(mask_column("enterprise.has_projects_with_activity")),
        per_enterprise(n, rows).alias("_n_projects"),
        # facts._sum_pilot_fees: unknown if any buying project's fee is unknown, 0 if none buys
        per_enterprise(n, rows.filter(buying & fees.is_null())).alias("_fees_unknown"),
        per_enterprise(n, rows.filter(buying), fees.filter(buying).fill_null(0)).alias("_fees"),
        per_enterprise(n, loans[ROW]).alias("_n_loans"),
    ])
    # few distinct codes: look each row's code up by its position in a small table (a gather, not a join)
    industries = (_industry_columns(e["industry_code"], sizes).sort("industry_code", nulls_last=True)
                  .join(_size_bounds(sizes), on="_category", how="left", maintain_order="left"))
    codes = industries["industry_code"].drop_nulls()
    position = e.select(pl.col("industry_code").replace_strict(codes, range(codes.len()), default=codes.len(),
                                                               return_dtype=pl.UInt32)).to_series()
    looked_up = industries.drop("industry_code")[position]
    enterprises = (
        pl.concat([e.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias(ROW)), derived, looked_up],
                  how="horizontal").lazy()
        .with_columns(size_class().alias("enterprise.size_class"))
        .select(
            ROW, "enterprise_id", "name", "_n_projects", "_n_loans",
            pl.col("province").alias("enterprise.region.province"), pl.col("city").alias("enterprise.region.city"),
            pl.col("district").alias("enterprise.region.district"),
            pl.col("_code").alias("enterprise.industry_code"), pl.col("_section").alias("enterprise.industry_section"),
            pl.col("ownership").alias("enterprise.ownership"), pl.col("employees").alias("enterprise.employees"),
            *[pl.col(c).alias(f"enterprise.{c}") for c in ("revenue_fen", "total_assets_fen", "rd_spend_fen")],
            "enterprise.size_class",
            pl.when(pl.col("enterprise.size_class").is_null()).then(pl.lit(None, dtype=pl.Boolean))
            .otherwise(pl.col("enterprise.size_class") != "large").alias("enterprise.is_sme"),
            *[pl.col(c).alias(f"enterprise.certifications.{c}") for c in _CERTIFICATIONS],
            *[pl.col(c).alias(f"enterprise.declarations.{c}") for c in _DECLARATIONS],
            pl.col(mask_column("enterprise.has_projects_with_activity")),
            pl.when(pl.col("_fees_unknown") > 0).then(pl.lit(None, dtype=pl.Int64))
            .otherwise(pl.col("_fees")).alias("enterprise.pilot_service_fees_fen"),
            pl.col("_n_loans").cast(pl.Int64).alias("enterprise.loan_count"),
        ).collect())
    awards = (_with_rows(tables.awards, award_rows).lazy()
              .select(ROW, "scheme_id", "amount_fen", "date", "unit_id").collect())
    return UnitFrames(enterprises, projects, loans, awards)
