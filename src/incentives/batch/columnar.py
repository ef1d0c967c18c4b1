"""Columnar evaluation: every scheme of the catalogue over whole tables, as polars expressions.

The expressions are compiled from the same scheme objects the scalar evaluator reads, so a batch result equals
`evaluate()` per profile to the fen (tests/batch/test_differential.py keeps it so).

The evaluation itself keeps one wide frame per unit kind (a status and an amount column per scheme): that is
what stacking (从优、就高、不重复) and the totals need, and it is small. The long, explained table is built
from it on demand, because its text columns cost far more than the arithmetic.

Result contract (BatchResult):
  details  one row per enterprise x scheme x unit, in enterprise order, then catalogue order, then unit order:
           enterprise_id, scheme_id, unit_kind, unit_id (null for enterprise-level and placeholder rows),
           status, amount_fen (Int64, null when none), cap_fen, binding_cap, headroom_fen, superseded_by,
           reasons_zh, reasons_en (failed conditions), to_confirm_zh, to_confirm_en (unknown conditions)
  summary  one row per enterprise: enterprise_id, name, total_fen, potential_total_fen, n_eligible,
           n_to_confirm, top_schemes (the three largest confirmed-or-potential amounts, as text)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import polars as pl

from ..scheme_files import LoanInterestSubsidy, Scheme
from ..schemes import Catalogue, catalogue as bundled_catalogue
from .compile_conditions import mask_column
from .interest_columns import InterestPlan, evaluate_interest, plan_interest
from .scheme_plans import (
    ELIGIBLE,
    NEEDS_CONFIRMATION,
    STATUS_NAMES,
    SUPERSEDED,
    Plan,
    awards_column,
    enterprise_facts_used,
    history_column,
    plan_for,
)
from .tables import Tables
from .unit_frames import ROW, UnitFrames, build, per_enterprise, spread

STATUS = pl.Enum(STATUS_NAMES)
TABLE_UNITS = ("enterprise", "project", "loan")  # unit kinds the batch tables hold; funds are not among them
# placeholder texts when a unit kind has no unit (as evaluate._NO_UNIT)
NO_UNIT = {
    "project": ("申报主体有相关项目", "the profile has a project"),
    "loan": ("申报主体有贷款", "the profile has a loan"),
    "fund": ("申报主体是政府投资基金", "the profile describes a government investment fund"),
    "fund_investment": ("基金有投资项目", "the fund has investments"),
}


def status_column(order: int) -> str:
    return f"s{order}"


def amount_column(order: int) -> str:
    return f"a{order}"


def winner_column(order: int) -> str:
    return f"w{order}"


@dataclass
class Evaluated:
    """The wide result of one unit kind: per scheme a status code and an amount column, row-aligned to facts."""

    facts: pl.DataFrame
    wide: pl.DataFrame
    plans: list[Plan | InterestPlan]
    extra: dict[int, pl.DataFrame] = field(default_factory=dict)  # interest subsidy: cap, binding, headroom, track


@dataclass
class BatchResult:
    as_of: date
    rules_version: str
    catalogue: Catalogue
    frames: UnitFrames
    evaluated: dict[str, Evaluated]  # by unit kind (enterprise, project, loan)
    summary: pl.DataFrame

    @cached_property
    def details(self) -> pl.DataFrame:
        from .explain import details

        return details(self)

    @cached_property
    def encoded_details(self) -> pl.DataFrame:
        """details with the repetitive text columns Categorical: what the batch writers take."""
        from .explain import encoded_details

        return encoded_details(self)

    @property
    def schemes(self) -> tuple[Scheme, ...]:
        return self.catalogue.schemes


# --- facts for each unit kind -------------------------------------------------------------------------------


def _history(frames: UnitFrames, schemes: list[Scheme], as_of: date) -> pl.DataFrame:
    """Per enterprise: whether it ever got an award under each scheme, and what it got until the evaluation date."""
    awards = frames.awards
    columns = []
    for scheme in schemes:
        # an award dated after the evaluation date had not been received on that date
        rows = awards.filter((pl.col("scheme_id") == scheme.id) & (pl.col("date") <= as_of))
        columns.append(pl.col(ROW).is_in(rows[ROW].implode()).alias(history_column(scheme.id)))
    return frames.enterprises.select(ROW).with_columns(columns) if columns else frames.enterprises.select(ROW)


def _award_sums(frames: UnitFrames, scheme: Scheme, as_of: date, units: pl.DataFrame | None) -> list[pl.Series]:
    """evaluate._awards, column-wise: the scheme's awards until the evaluation date (total and this year).

    For a project or loan, an award recorded for another unit does not count; one with no unit does.
    """
    n = frames.enterprises.height
    base = frames.awards.filter((pl.col("scheme_id") == scheme.id) & (pl.col("date") <= as_of))
    out = []
    for kind, rows in (("total", base), ("this_year", base.filter(pl.col("date").dt.year() == as_of.year))):
        name = awards_column(scheme.id, kind)
        shared = rows if units is None else rows.filter(pl.col("unit_id").is_null())
        summed = shared.group_by(ROW).agg(pl.col("amount_fen").sum().alias(name))
        shared_total = spread(n, summed[ROW], summed[name], 0)
        if units is None:
            out.append(shared_total)
            continue
        own = (rows.filter(pl.col("unit_id").is_not_null()).group_by(ROW, "unit_id")
               .agg(pl.col("amount_fen").sum().alias("_own")))
        # the awards are few: look up only the units of enterprises that have one, then scatter back
        candidates = units.select(ROW, "unit_id").with_row_index("_at").filter(pl.col(ROW).is_in(own[ROW].implode()))
        found = candidates.join(own, on=[ROW, "unit_id"], how="inner")
        mine = spread(units.height, found["_at"], found["_own"], 0)
        out.append((shared_total.gather(units[ROW]) + mine).alias(name))
    return out


def _facts(frames: UnitFrames, unit: str, schemes: list[Scheme], history: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The unit's own facts, the enterprise facts its schemes read, the award history they need."""
    if unit == "enterprise":
        facts = pl.concat([frames.enterprises, history.drop(ROW)], how="horizontal")
        units = None
    else:
        facts = frames.projects if unit == "project" else frames.loans
        wanted = sorted(enterprise_facts_used(schemes))
        if "enterprise.has_projects_with_activity" in wanted:
            wanted = [n for n in wanted if n != "enterprise.has_projects_with_activity"]
            wanted.append(mask_column("enterprise.has_projects_with_activity"))
        # enterprise facts reach each unit by its enterprise row number: a gather, not a join
        source = pl.concat([frames.enterprises.select(wanted), history.drop(ROW)], how="horizontal")
        rows = facts[ROW]
        facts = facts.with_columns([source[c].gather(rows) for c in source.columns])
        units = facts
    sums = [s for scheme in schemes if scheme.kind in ("annual_percent_with_cap", "cumulative_cap")
            for s in _award_sums(frames, scheme, as_of, units)]
    return facts.with_columns(sums) if sums else facts


def resolver(as_of: date, scheme: Scheme):
    def resolve(name: str) -> pl.Expr:
        if name == "as_of":
            return pl.lit(as_of, dtype=pl.Date)
        if name == "history.has_award_for_scheme":
            return pl.col(history_column(scheme.id))
        return pl.col(name)

    return resolve


# --- stacking -----------------------------------------------------------------------------------------------


def _stack(wide: pl.DataFrame, plans: list[Plan]) -> pl.DataFrame:
    """从优、就高、不重复 within each unit: the highest amount wins (confirmed before potential, then the
    earlier scheme); the other candidates of the group are superseded (evaluate._apply_stacking)."""
    groups: dict[str, list[int]] = {}
    for plan in plans:
        if plan.scheme.stacking_group:
            groups.setdefault(plan.scheme.stacking_group, []).append(plan.order)
    frame = wide.lazy()
    changed = False
    for members in groups.values():
        if len(members) < 2:
            continue
        changed = True
        candidate = {o: (pl.col(status_column(o)) <= NEEDS_CONFIRMATION) & pl.col(amount_column(o)).is_not_null()
                     for o in members}
        # intermediate columns keep each expression small: best amount, then whether a confirmed one has it
        frame = frame.with_columns(
            pl.sum_horizontal([c.cast(pl.UInt8) for c in candidate.values()]).alias("_count"),
            pl.max_horizontal([pl.when(c).then(pl.col(amount_column(o))) for o, c in candidate.items()]).alias("_best"))
        at_best = {o: c & (pl.col(amount_column(o)) == pl.col("_best")) for o, c in candidate.items()}
        frame = frame.with_columns(pl.any_horizontal(
            [a & (pl.col(status_column(o)) == ELIGIBLE) for o, a in at_best.items()]).alias("_best_eligible"))
        winner = pl.lit(None, dtype=pl.Int32)
        for o in reversed(members):  # the earliest scheme among the best wins ties
            winner = pl.when(at_best[o] & ((pl.col(status_column(o)) == ELIGIBLE) == pl.col("_best_eligible"))).then(
                pl.lit(o, dtype=pl.Int32)).otherwise(winner)
        frame = frame.with_columns(winner.alias("_winner"))
        loses = {o: (pl.col("_count") >= 2) & candidate[o] & (pl.col("_winner") != o) for o in members}
        frame = frame.with_columns(
            *[pl.when(loses[o]).then(pl.lit(SUPERSEDED, dtype=pl.UInt8)).otherwise(pl.col(status_column(o)))
              .alias(status_column(o)) for o in members],
            *[pl.when(loses[o]).then(pl.col("_winner")).alias(winner_column(o)) for o in members],
        ).drop("_count", "_best", "_best_eligible", "_winner")
    return frame.collect() if changed else wide


# --- evaluation ---------------------------------------------------------------------------------------------


def _evaluate_unit(facts: pl.DataFrame, plans: list[Plan]) -> pl.DataFrame:
    """Per scheme a status code and, where eligible or to confirm, the amount; then stacking."""
    statuses = [p.status().alias(status_column(p.order)) for p in plans]
    amounts = [pl.when(pl.col(status_column(p.order)) <= NEEDS_CONFIRMATION).then(p.amount).alias(amount_column(p.order))
               if p.amount is not None and p.version is not None else pl.lit(None, dtype=pl.Int64).alias(amount_column(p.order))
               for p in plans]
    # amounts read the statuses, so they come in a second step of the same plan
    wide = (facts.lazy().with_columns(statuses)
            .select(ROW, *[pl.col(status_column(p.order)) for p in plans], *amounts).collect())
    return _stack(wide, plans)


def evaluate_tables(tables: Tables, as_of: date, cat: Catalogue | None = None) -> BatchResult:
    """Evaluate every scheme of the catalogue for every enterprise in the tables on one date."""
    cat = cat or bundled_catalogue()
    return evaluate_frames(prepare(tables, cat), as_of, cat)


def prepare(tables: Tables, cat: Catalogue | None = None) -> UnitFrames:
    """The tables as facts frames: enterprise row numbers, derived enterprise facts, list columns as bit masks."""
    return build(tables, (cat or bundled_catalogue()).sme_sizes)


def evaluate_frames(frames: UnitFrames, as_of: date, cat: Catalogue | None = None) -> BatchResult:
    """Evaluate prepared facts frames (see prepare); the same frames serve any date and catalogue."""
    cat = cat or bundled_catalogue()
    schemes = list(cat.schemes)
    history = _history(frames, [s for s in schemes if "history.has_award_for_scheme" in s.fact_names()], as_of)
    evaluated: dict[str, Evaluated] = {}
    for unit in TABLE_UNITS:
        unit_schemes = [(o, s) for o, s in enumerate(schemes) if s.unit == unit]
        facts = _facts(frames, unit, [s for _, s in unit_schemes], history, as_of)
        plans: list[Plan] = []
        interest: list[InterestPlan] = []
        for order, scheme in unit_schemes:
            if isinstance(scheme, LoanInterestSubsidy):
                interest.append(plan_interest(scheme, order, as_of, resolver(as_of, scheme)))
            else:
                plans.append(plan_for(scheme, order, as_of, resolver(as_of, scheme)))
        wide = _evaluate_unit(facts, plans)
        extra = {}
        for plan in interest:
            result = evaluate_interest(plan, facts, frames.awards, as_of)
            wide = wide.with_columns(result["status"].alias(status_column(plan.order)),
                                     result["amount"].alias(amount_column(plan.order)))
            extra[plan.order] = result
        evaluated[unit] = Evaluated(facts, wide, [*plans, *interest], extra)
    summary = _summary(frames, evaluated, cat)
    return BatchResult(as_of, cat.rules_version, cat, frames, evaluated, summary)


# --- totals -------------------------------------------------------------------------------------------------


def hits(evaluated: dict[str, Evaluated]) -> pl.DataFrame:
    """Every (enterprise, scheme, unit) that is eligible or needs confirmation: few rows, whatever the input."""
    parts = []
    for ev in evaluated.values():
        for plan in ev.plans:
            s, a = status_column(plan.order), amount_column(plan.order)
            parts.append(ev.wide.lazy().filter(pl.col(s) <= NEEDS_CONFIRMATION)
                         .select(ROW, pl.lit(plan.order, dtype=pl.Int32).alias("order"), pl.col(s).alias("status"),
                                 pl.col(a).alias("amount_fen")))
    if not parts:
        return pl.DataFrame(schema={ROW: pl.UInt32, "order": pl.Int32, "status": pl.UInt8, "amount_fen": pl.Int64})
    return pl.concat(parts).collect()


def _summary(frames: UnitFrames, evaluated: dict[str, Evaluated], cat: Catalogue) -> pl.DataFrame:
    ids = pl.Series("order", range(len(cat.schemes)), dtype=pl.Int32)
    names = pl.DataFrame({"order": ids, "_scheme": [s.id for s in cat.schemes]})
    found = hits(evaluated)
    yuan = (pl.lit("¥") + (pl.col("amount_fen") // 100).cast(pl.String) + pl.lit(".")
            + (pl.col("amount_fen") % 100).cast(pl.String).str.zfill(2))
    top = (found.lazy().filter(pl.col("amount_fen") > 0).join(names.lazy(), on="order", how="left")
           .sort(ROW, pl.col("amount_fen"), pl.col("order"), descending=[False, True, False])
           .group_by(ROW, maintain_order=True).head(3)
           .group_by(ROW).agg((pl.col("_scheme") + pl.lit(" ") + yuan).str.join("; ").alias("top_schemes")))
    top = top.collect()
    n = frames.enterprises.height
    rows, amounts, status = found[ROW], found["amount_fen"].fill_null(0), found["status"]
    eligible = status == ELIGIBLE
    return pl.DataFrame([
        frames.enterprises["enterprise_id"], frames.enterprises["name"],
        per_enterprise(n, rows.filter(eligible), amounts.filter(eligible)).alias("total_fen"),
        per_enterprise(n, rows, amounts).alias("potential_total_fen"),
        per_enterprise(n, rows.filter(eligible)).alias("n_eligible"),
        per_enterprise(n, rows.filter(status == NEEDS_CONFIRMATION)).alias("n_to_confirm"),
        spread(n, top[ROW], top["top_schemes"], ""),
    ])


__all__ = ["BatchResult", "evaluate_tables", "evaluate_frames", "prepare", "STATUS", "NO_UNIT"]
