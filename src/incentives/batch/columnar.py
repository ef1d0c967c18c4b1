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

from ..evaluate import NO_UNIT as SCALAR_NO_UNIT
from ..scheme_files import LoanInterestSubsidy, Scheme
from ..schemes import Catalogue, catalogue as bundled_catalogue
from .compile_conditions import mask_column
from .interest_columns import INTEREST_COLUMNS, InterestPlan, evaluate_interest, plan_interest
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
from .unit_frames import ROW, UNIT_ROW, UnitFrames, build, per_enterprise, spread, take

STATUS = pl.Enum(STATUS_NAMES)
TABLE_UNITS = ("enterprise", "project", "loan")  # unit kinds the batch tables hold; funds are not among them
# placeholder texts when a unit kind has no unit: the scalar engine's own
NO_UNIT = {unit: (zh, en) for unit, (zh, en, _) in SCALAR_NO_UNIT.items()}


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
    # the facts columns the rules and their explanations read, one chunk each (row-aligned to facts): the
    # explanations run their queries on these as the rules did
    read: pl.DataFrame | None = None


@dataclass
class BatchResult:
    as_of: date
    rules_version: str
    catalogue: Catalogue
    frames: UnitFrames
    evaluated: dict[str, Evaluated]  # by unit kind (enterprise, project, loan)
    summary: pl.DataFrame
    hits: pl.DataFrame  # see hits(): the eligible and to-confirm results only

    @cached_property
    def scheme_totals(self) -> pl.DataFrame:
        """totals.scheme_totals of the results, from the hits (codes), the scheme ids put in afterwards."""
        from .totals import SCHEME_TOTALS_SCHEMA, scheme_totals

        found = scheme_totals(self.hits, "order", ELIGIBLE, NEEDS_CONFIRMATION)
        return found.with_columns(_scheme_id_of_order(self.catalogue).alias("scheme_id")).select(
            list(SCHEME_TOTALS_SCHEMA))

    @cached_property
    def details(self) -> pl.DataFrame:
        from .explain import details

        return details(self)

    @cached_property
    def encoded_details(self) -> pl.DataFrame:
        """details with the repetitive text columns Categorical: what the batch writers take."""
        from .explain import encoded_details

        return encoded_details(self)

    def streamed_details(self):
        """The encoded details block by block (streamed_details.StreamedDetails), or None when only the whole
        table can be built."""
        from .streamed_details import StreamedDetails

        return StreamedDetails.of(self)

    @property
    def schemes(self) -> tuple[Scheme, ...]:
        return self.catalogue.schemes


# --- facts for each unit kind -------------------------------------------------------------------------------


def _history(frames: UnitFrames, schemes: list[Scheme], as_of: date) -> pl.DataFrame:
    """Per enterprise: whether it ever got an award under each scheme, and what it got until the evaluation date."""
    n = frames.enterprises.height
    # an award dated after the evaluation date had not been received on that date
    received = frames.awards.filter(pl.col("date") <= as_of)
    columns = []
    for scheme in schemes:
        rows = received.filter(pl.col("scheme_id") == scheme.id)[ROW]
        # a scatter of the few award rows into a column of n, not a membership test per enterprise
        columns.append(spread(n, rows, pl.repeat(True, rows.len(), dtype=pl.Boolean, eager=True), False)
                       .alias(history_column(scheme.id)))
    rows = take(frames.enterprises, [ROW])
    return rows.hstack(columns) if columns else rows


# which sum of past awards each kind's arithmetic reads (scheme_plans.plan_for): the other is never computed
_AWARD_SUM_READ = {"annual_percent_with_cap": "this_year", "cumulative_cap": "total"}


def _award_sum_read(scheme: Scheme) -> str | None:
    """The sum of past awards the scheme's arithmetic reads, if any: an award up to a cap that is paid again each
    year (not one-off) reads this year's, as its yearly cap; one whose cap is the unit's in all reads the total."""
    if scheme.kind == "award_up_to_cap" and not getattr(scheme, "one_off", True):
        return "this_year"
    if scheme.kind == "award_up_to_cap" and getattr(scheme, "cap_in_total", False):
        return "total"
    return _AWARD_SUM_READ.get(scheme.kind)


def _award_sums(frames: UnitFrames, scheme: Scheme, as_of: date, units: pl.DataFrame | None) -> list[pl.Series]:
    """evaluate._awards, column-wise: the scheme's awards until the evaluation date (in total, or this year).

    For a project or loan, an award recorded for another unit does not count; one with no unit does.
    """
    n = frames.enterprises.height
    kind = _award_sum_read(scheme)
    rows = frames.awards.filter((pl.col("scheme_id") == scheme.id) & (pl.col("date") <= as_of))
    if kind == "this_year":
        rows = rows.filter(pl.col("date").dt.year() == as_of.year)
    name = awards_column(scheme.id, kind)
    shared = rows if units is None else rows.filter(pl.col("unit_id").is_null())
    summed = shared.group_by(ROW).agg(pl.col("amount_fen").sum().alias(name))
    shared_total = spread(n, summed[ROW], summed[name], 0)
    if units is None:
        return [shared_total]
    per_unit = shared_total.gather(units[ROW])
    own = (rows.filter(pl.col("unit_id").is_not_null()).group_by(ROW, "unit_id")
           .agg(pl.col("amount_fen").sum().alias("_own")))
    if not own.height:
        return [per_unit]
    # the awards are few: look up only the units of enterprises that have one, then scatter back
    has_own = spread(n, own[ROW], pl.repeat(True, own.height, dtype=pl.Boolean, eager=True), False)
    candidates = take(units, [ROW, "unit_id"]).with_row_index("_at").filter(has_own.gather(units[ROW]))
    found = candidates.join(own, on=[ROW, "unit_id"], how="inner")
    mine = spread(units.height, found["_at"], found["_own"], 0)
    return [(per_unit + mine).alias(name)]


def _facts(frames: UnitFrames, unit: str, schemes: list[Scheme], history: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The unit's own facts, the enterprise facts its schemes read, the award history they need."""
    read_history = [history_column(s.id) for s in schemes if "history.has_award_for_scheme" in s.fact_names()]
    if unit == "enterprise":
        facts = frames.enterprises.hstack(take(history, read_history).get_columns())
        units = None
    else:
        facts = frames.projects if unit == "project" else frames.loans
        wanted = sorted(enterprise_facts_used(schemes))
        if "enterprise.has_projects_with_activity" in wanted:
            wanted = [n for n in wanted if n != "enterprise.has_projects_with_activity"]
            wanted.append(mask_column("enterprise.has_projects_with_activity"))
        # enterprise facts reach each unit by its enterprise row number: a gather, not a join (columns are
        # taken and put side by side as they are, see unit_frames.take)
        rows = facts[ROW].rechunk()
        sources = (take(frames.enterprises, wanted), take(history, read_history))
        gathered = [frame.rechunk()[rows].get_columns() for frame in sources if frame.width]
        facts = facts.hstack([column for columns in gathered for column in columns])
        units = facts
    sums = [s for scheme in schemes if _award_sum_read(scheme) is not None
            for s in _award_sums(frames, scheme, as_of, units)]
    return facts.with_columns(sums) if sums else facts


def _columns_read(plans: list[Plan], interest: list[InterestPlan]) -> set[str]:
    """Every facts column the unit's rules and their explanations read (the roots of their expressions)."""
    exprs: list[pl.Expr] = [pl.col(ROW), pl.col(UNIT_ROW)]
    for plan in plans:
        failed, unknown = plan.reasons()
        exprs += [plan.status(), *[e for e in (plan.amount, plan.cap, plan.binding, plan.headroom) if e is not None],
                  *[r.when for r in failed + unknown]]
    for plan in interest:
        exprs += [c.expr for track in plan.tracks for c in track]
        exprs += [r.when for track in plan.tracks for c in track for r in c.failed + c.unknown]
    exprs += [pl.col(c) for c in INTEREST_COLUMNS] if interest else []
    return {name for expr in exprs for name in expr.meta.root_names()}


def _contiguous(facts: pl.DataFrame, names: set[str]) -> pl.DataFrame:
    """Only the columns the rules read, each in one chunk: what the rules' queries run on.

    Columns read from files come in one chunk per row group and computed ones in others, and a query over a
    frame whose columns are chunked differently first copies the whole frame into line, every time. So the
    read columns are copied once here, into a frame of their own; the full facts (ids, names) stay as they
    are, shared with the input tables, for the explanations.
    """
    return pl.DataFrame([facts.get_column(c).rechunk() for c in facts.columns if c in names])


def resolver(as_of: date, scheme: Scheme):
    def resolve(name: str) -> pl.Expr:
        if name == "as_of":
            return pl.lit(as_of, dtype=pl.Date)
        if name == "history.has_award_for_scheme":
            return pl.col(history_column(scheme.id))
        return pl.col(name)

    return resolve


# --- stacking -----------------------------------------------------------------------------------------------


def _stacking_groups(plans: list[Plan]) -> dict[str, list[int]]:
    """Stacking groups of two schemes or more (a group of one has nothing to choose), by first appearance."""
    groups: dict[str, list[int]] = {}
    for plan in plans:
        if plan.scheme.stacking_group:
            groups.setdefault(plan.scheme.stacking_group, []).append(plan.order)
    return {group: members for group, members in groups.items() if len(members) >= 2}


def _candidate(order: int) -> pl.Expr:
    return (pl.col(status_column(order)) <= NEEDS_CONFIRMATION) & pl.col(amount_column(order)).is_not_null()


def _contested_column(group: str) -> str:
    return f"_contested[{group}]"


def _contested(group: str, members: list[int]) -> pl.Expr:
    """Whether a unit has two candidates or more in the group: only then is there a winner to choose."""
    return (pl.sum_horizontal([_candidate(o).cast(pl.UInt8) for o in members]) >= 2).alias(_contested_column(group))


def _stack(wide: pl.DataFrame, plans: list[Plan]) -> pl.DataFrame:
    """从优、就高、不重复 within each unit: the highest amount wins (confirmed before potential, then the
    earlier scheme); the other candidates of the group are superseded (evaluate._apply_stacking).

    Only a unit with two candidates or more in a group is contested (the wide frame carries that flag, see
    _evaluate_unit); those are few, so the choice of the winner runs on them alone and its statuses and
    winners are scattered back.
    """
    for group, members in _stacking_groups(plans).items():
        flag = _contested_column(group)
        contested = wide[flag].arg_true()
        columns = [c for o in members for c in (status_column(o), amount_column(o))]
        candidate = {o: _candidate(o) for o in members}
        decided = _stack_contested(wide.lazy().filter(pl.col(flag)).select(columns), members, candidate).collect()
        wide = wide.drop(flag).with_columns(
            *[wide[status_column(o)].scatter(contested, decided[status_column(o)]) if contested.len()
              else wide[status_column(o)] for o in members],
            *[spread(wide.height, contested, decided[winner_column(o)]) for o in members])
    return wide


def _stack_contested(frame: pl.LazyFrame, members: list[int], candidate: dict[int, pl.Expr]) -> pl.LazyFrame:
    """The winner of each contested unit, and each loser's status superseded (every row has two candidates)."""
    # intermediate columns keep each expression small: best amount, then whether a confirmed one has it
    frame = frame.with_columns(
        pl.max_horizontal([pl.when(c).then(pl.col(amount_column(o))) for o, c in candidate.items()]).alias("_best"))
    at_best = {o: c & (pl.col(amount_column(o)) == pl.col("_best")) for o, c in candidate.items()}
    frame = frame.with_columns(pl.any_horizontal(
        [a & (pl.col(status_column(o)) == ELIGIBLE) for o, a in at_best.items()]).alias("_best_eligible"))
    winner = pl.lit(None, dtype=pl.Int32)
    for o in reversed(members):  # the earliest scheme among the best wins ties
        winner = pl.when(at_best[o] & ((pl.col(status_column(o)) == ELIGIBLE) == pl.col("_best_eligible"))).then(
            pl.lit(o, dtype=pl.Int32)).otherwise(winner)
    frame = frame.with_columns(winner.alias("_winner"))
    loses = {o: candidate[o] & (pl.col("_winner") != o) for o in members}
    return frame.select(
        *[pl.when(loses[o]).then(pl.lit(SUPERSEDED, dtype=pl.UInt8)).otherwise(pl.col(status_column(o)))
          .alias(status_column(o)) for o in members],
        *[pl.when(loses[o]).then(pl.col("_winner")).alias(winner_column(o)) for o in members],
    )


# --- evaluation ---------------------------------------------------------------------------------------------


def _evaluate_unit(facts: pl.DataFrame, plans: list[Plan]) -> pl.DataFrame:
    """Per scheme a status code and, where eligible or to confirm, the amount; then stacking."""
    statuses = [p.status().alias(status_column(p.order)) for p in plans]
    amounts = [pl.when(pl.col(status_column(p.order)) <= NEEDS_CONFIRMATION).then(p.amount).alias(amount_column(p.order))
               if p.amount is not None and p.version is not None else pl.lit(None, dtype=pl.Int64).alias(amount_column(p.order))
               for p in plans]
    # amounts read the statuses, so they come in a second step of the same plan
    wide = (facts.lazy().with_columns(statuses)
            .select(ROW, *[pl.col(status_column(p.order)) for p in plans], *amounts)
            .with_columns(_contested(group, members) for group, members in _stacking_groups(plans).items())
            .collect())
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
        read = _contiguous(facts, _columns_read(plans, interest))
        wide = _evaluate_unit(read, plans)
        extra = {}
        for plan in interest:
            result = evaluate_interest(plan, read, frames.awards, as_of)
            wide = wide.with_columns(result["status"].alias(status_column(plan.order)),
                                     result["amount"].alias(amount_column(plan.order)))
            extra[plan.order] = result
        evaluated[unit] = Evaluated(facts, wide, [*plans, *interest], extra, read)
    found = hits(evaluated)
    return BatchResult(as_of, cat.rules_version, cat, frames, evaluated, _summary(frames, found, cat), found)


# --- totals -------------------------------------------------------------------------------------------------


def hits(evaluated: dict[str, Evaluated]) -> pl.DataFrame:
    """Every (enterprise, scheme, unit) that is eligible or needs confirmation: few rows, whatever the input."""
    parts = []
    in_order = sorted(((ev, plan) for ev in evaluated.values() for plan in ev.plans), key=lambda pair: pair[1].order)
    for ev, plan in in_order:
        s, a = status_column(plan.order), amount_column(plan.order)
        # the unit's id, so that two projects under one scheme can be told apart in the summary's top schemes
        wide, unit = ev.wide.lazy(), pl.lit(None, dtype=pl.String)
        if "unit_id" in ev.facts.columns:
            wide, unit = wide.with_columns(ev.facts.get_column("unit_id")), pl.col("unit_id")
        parts.append(wide.filter(pl.col(s) <= NEEDS_CONFIRMATION)
                     .select(ROW, pl.lit(plan.order, dtype=pl.Int32).alias("order"), pl.col(s).alias("status"),
                             pl.col(a).alias("amount_fen"), unit.alias("unit_id")))
    if not parts:
        return pl.DataFrame(schema={ROW: pl.UInt32, "order": pl.Int32, "status": pl.UInt8, "amount_fen": pl.Int64,
                                    "unit_id": pl.String})
    return pl.concat(parts).collect()


def _scheme_id_of_order(cat: Catalogue) -> pl.Expr:
    """The hits' `order` column (a scheme's place in the catalogue) as the scheme's id."""
    ids = [s.id for s in cat.schemes]
    return pl.col("order").replace_strict(list(range(len(ids))), ids, return_dtype=pl.String)


def _top_schemes(found: pl.DataFrame, cat: Catalogue) -> pl.DataFrame:
    """Per enterprise with a positive amount, its three largest (the earlier scheme, then the smaller unit id, on
    a tie) as text: the scheme, the unit (project or loan) in brackets, the amount, and whether it is still to
    confirm. The unit id breaks ties so that the text does not depend on the order of the input's rows.

    One sort puts each enterprise's rows together, largest first; the rank is the distance to the run's first
    row and the text joins the next two rows of the run: no grouping, and no text for the rows beyond three.
    """
    names = _scheme_id_of_order(cat)
    # a potential amount is not money yet: said so, or the reader would add it to the confirmed ones
    mark = pl.when(pl.col("status") == NEEDS_CONFIRMATION).then(pl.lit(TO_CONFIRM_MARK)).otherwise(pl.lit(""))
    amount = pl.col("amount_fen")
    unit = pl.when(pl.col("unit_id").is_not_null()).then(pl.format(" ({})", pl.col("unit_id"))).otherwise(pl.lit(""))
    label = pl.concat_str([names, unit, pl.lit(" ¥"), grouped_yuan_text(amount), mark])
    row = pl.col(ROW)
    at = pl.int_range(pl.len(), dtype=pl.UInt32)
    run_start = pl.when((row != row.shift(1)).fill_null(True)).then(at).forward_fill()

    def then_next(k: int) -> pl.Expr:
        return pl.when(row.shift(-k) == row).then(pl.col("_label").shift(-k))

    return (found.lazy().filter(amount > 0)
            .sort([ROW, "amount_fen", "order", "unit_id"], descending=[False, True, False, False], nulls_last=True)
            .with_columns((at - run_start).alias("_rank"))
            .filter(pl.col("_rank") < 3)
            .with_columns(label.alias("_label"))
            .select(ROW, pl.col("_rank"),
                    pl.concat_str([pl.col("_label"), then_next(1), then_next(2)], separator="; ", ignore_nulls=True)
                    .alias("top_schemes"))
            .filter(pl.col("_rank") == 0)
            .drop("_rank")
            .collect())


TO_CONFIRM_MARK = " (待确认/to confirm)"


def grouped_yuan_text(fen: pl.Expr) -> pl.Expr:
    """Non-negative fen as yuan text with thousands separators, as money.grouped_yuan writes it: 1234567 fen is
    "12,345.67". Built from digit groups, because polars formats no thousands separators itself."""
    yuan = fen // 100
    groups = [((yuan // 10 ** (3 * k)) % 1000).cast(pl.String) for k in range(6)]  # Int64 fen: < 10^17 yuan
    whole = groups[0]
    for k in range(1, 6):
        lower = [piece for group in reversed(groups[:k]) for piece in (pl.lit(","), group.str.zfill(3))]
        whole = pl.when(yuan >= 10 ** (3 * k)).then(pl.concat_str([groups[k], *lower])).otherwise(whole)
    text = (fen % 100).cast(pl.String).str.zfill(2)
    return pl.concat_str([whole, pl.lit("."), text])


def _summary(frames: UnitFrames, found: pl.DataFrame, cat: Catalogue) -> pl.DataFrame:
    top = _top_schemes(found, cat)
    n = frames.enterprises.height
    rows, amounts, status = found[ROW], found["amount_fen"].fill_null(0), found["status"]
    eligible = status == ELIGIBLE
    return pl.DataFrame([
        frames.enterprises["enterprise_id"], frames.enterprises["name"],
        # the size class the SME conditions read: a consultant checks it before trusting an SME-only result
        frames.enterprises["enterprise.size_class"].cast(pl.String).alias("size_class"),
        per_enterprise(n, rows.filter(eligible), amounts.filter(eligible)).alias("total_fen"),
        per_enterprise(n, rows, amounts).alias("potential_total_fen"),
        per_enterprise(n, rows.filter(eligible)).alias("n_eligible"),
        per_enterprise(n, rows.filter(status == NEEDS_CONFIRMATION)).alias("n_to_confirm"),
        spread(n, top[ROW], top["top_schemes"], ""),
    ])


__all__ = ["BatchResult", "evaluate_tables", "evaluate_frames", "prepare", "STATUS", "NO_UNIT"]
