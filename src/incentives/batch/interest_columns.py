"""The loan interest subsidy, column-wise: tracks, the 12-month window split by calendar year, the yearly cap.

Mirrors loan_tracks.interest_subsidy:
- each loan is checked on each track (common + track enterprise conditions, the issue-date window, the loan
  conditions);
- the subsidised window [issue, issue + N months) is cut at maturity and split at 1 January; each year gets
  the difference of the running total rounded once (interest_subsidy.subsidy_segments), in Int128 integers;
- what a loan already received comes off its own years, earliest first (interest_subsidy.still_due);
- the per-enterprise yearly room (cap − awards already paid that year) is filled loan by loan: eligible loans
  first, then those to confirm, each by issue date and id (allocate_annual_cap);
- the enterprise is put on the track that pays most (confirmed, then potential; the earlier track on a tie);
- a loan that fails on that track but is to confirm on another is to confirm, granted what the yearly room
  leaves after the chosen track's loans.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from ..money import Rounding
from ..scheme_files import LoanInterestSubsidy
from .compile_conditions import Compiled, FactResolver, Reason, all_of, compile_condition
from .scheme_plans import ELIGIBLE, INELIGIBLE, NEEDS_CONFIRMATION, NOT_IN_FORCE, status_code, version_on
from .unit_frames import ROW, UNIT_ROW, spread, take


# the loan columns the subsidy's arithmetic reads besides its conditions
INTEREST_COLUMNS = (ROW, UNIT_ROW, "loan.issue_date", "loan.maturity_date", "unit_id", "loan.principal_fen",
                    "_rate_num", "_rate_den")


@dataclass
class InterestPlan:
    scheme: LoanInterestSubsidy
    order: int
    version: Any
    tracks: list[list[Compiled]]  # per track, every condition in the scalar order


def plan_interest(scheme: LoanInterestSubsidy, order: int, as_of: date, resolve: FactResolver) -> InterestPlan:
    version = version_on(scheme, as_of)
    common = [compile_condition(c, resolve) for c in scheme.conditions]
    loan_common = [compile_condition(c, resolve) for c in scheme.loan_conditions]
    tracks = []
    for track in scheme.tracks:
        window = []
        if version is not None:
            issued = resolve("loan.issue_date")
            inside = (issued >= version.issued_from) & (issued <= version.issued_until)
            zh = f"贷款在{version.issued_from}至{version.issued_until}期间新发放"
            en = f"Loan newly issued between {version.issued_from} and {version.issued_until}"
            window = [Compiled(inside, zh, en, [Reason(inside.not_(), zh, en)], [])]
        tracks.append(common + [compile_condition(c, resolve) for c in track.enterprise_conditions] + window
                      + loan_common + [compile_condition(c, resolve) for c in track.loan_conditions])
    return InterestPlan(scheme, order, version, tracks)


def _status(met: pl.Expr) -> pl.Expr:
    return status_code(met)


def _segments(loans: pl.DataFrame, version: Any) -> pl.DataFrame:
    """One row per (loan, calendar year) of the subsidised window, with that year's subsidy in fen."""
    share_num, share_den = version.share.rate.as_integer_ratio()
    months = version.subsidy_months.value
    i128 = pl.Int128
    window_end = pl.min_horizontal(pl.col("loan.issue_date").dt.offset_by(f"{months}mo"), pl.col("loan.maturity_date"))
    divisor = pl.col("_rate_den").cast(i128) * pl.lit(share_den * 365, dtype=i128)
    numerator = (pl.col("loan.principal_fen").cast(i128) * pl.col("_rate_num").cast(i128)
                 * pl.col("_cum_days").cast(i128) * pl.lit(share_num, dtype=i128))
    if version.rounding is Rounding.down_to_fen:
        rounded = numerator // divisor
    else:
        rounded = (numerator * 2 + divisor) // (divisor * 2)
    return (loans.lazy()
            .select(ROW, UNIT_ROW, "loan.issue_date", "unit_id", "loan.principal_fen", "_rate_num", "_rate_den",
                    window_end.alias("_end"))
            .with_columns(pl.int_ranges(pl.col("loan.issue_date").dt.year(),
                                        pl.col("_end").dt.offset_by("-1d").dt.year() + 1, dtype=pl.Int32).alias("_year"))
            .explode("_year")
            .with_columns(pl.min_horizontal(pl.col("_end"), pl.date(pl.col("_year") + 1, 1, 1)).alias("_seg_end"))
            .with_columns((pl.col("_seg_end") - pl.col("loan.issue_date")).dt.total_days().alias("_cum_days"))
            .with_columns(rounded.cast(pl.Int64).alias("_cum_fen"))
            # a loan's years sit next to each other after the explode: the previous row is the previous year
            .with_columns((pl.col("_cum_fen") - pl.when(pl.col(UNIT_ROW).shift(1) == pl.col(UNIT_ROW))
                           .then(pl.col("_cum_fen").shift(1)).otherwise(0)).alias("_seg"))
            .select(ROW, UNIT_ROW, "_year", "_seg", "loan.issue_date", "unit_id")
            .collect())


def _awards_on_loans(awards: pl.DataFrame, loans: pl.DataFrame, scheme_id: str,
                     as_of: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The scheme's awards until the evaluation date, in two parts: per loan of the input that awards name
    (UNIT_ROW), what it received and the year of its latest award; and per (enterprise, year) what the others
    (another loan's, or the enterprise's) paid, counted in the year paid."""
    counted = (awards.filter((pl.col("scheme_id") == scheme_id) & (pl.col("date") <= as_of))
               .select(ROW, "unit_id", "amount_fen", pl.col("date").dt.year().cast(pl.Int32).alias("_year")))
    # the awards are few: match them against the loans of enterprises that have one only
    keys = take(loans, [ROW, "unit_id", UNIT_ROW]).filter(pl.col(ROW).is_in(counted.get_column(ROW).unique().implode()))
    named = counted.filter(pl.col("unit_id").is_not_null()).join(keys, on=[ROW, "unit_id"], how="inner")
    per_loan = named.group_by(UNIT_ROW).agg(pl.col(ROW).first(), pl.col("amount_fen").sum().alias("_received"),
                                            pl.col("_year").max().alias("_latest"))
    # an award with no unit, or naming no loan of the input, is kept (null keys never match)
    others = (counted.join(keys.select(ROW, "unit_id"), on=[ROW, "unit_id"], how="anti")
              .group_by(ROW, "_year").agg(pl.col("amount_fen").sum().alias("_paid")))
    return per_loan, others


def _less_received(segments: pl.DataFrame, received: pl.DataFrame,
                   paid_elsewhere: pl.DataFrame) -> tuple[pl.DataFrame, pl.LazyFrame]:
    """The segments less what each loan received, earliest year first (interest_subsidy.still_due), and per
    (enterprise, year) what counts against the yearly cap: the others' awards in the year paid, a loan's in the
    years whose subsidy it paid, and beyond its whole subsidy in its latest award's year (received_by_year)."""
    if not received.height:
        return segments, paid_elsewhere.lazy()
    # the awards are few: only the segments of loans that received something change
    hit = segments.with_row_index("_at").join(received.drop(ROW), on=UNIT_ROW, how="inner")
    # a loan's years sit next to each other, earliest first (see _segments)
    before = pl.col("_seg").cum_sum().over(UNIT_ROW) - pl.col("_seg")
    taken = pl.min_horizontal(pl.col("_seg"), pl.max_horizontal(pl.col("_received") - before, pl.lit(0, dtype=pl.Int64)))
    hit = hit.with_columns(taken.alias("_taken"))
    due = segments.get_column("_seg").scatter(hit.get_column("_at"), hit.get_column("_seg") - hit.get_column("_taken"))
    absorbed = hit.group_by(ROW, "_year").agg(pl.col("_taken").sum().alias("_paid"))
    # a loan with no subsidised day at all takes nothing off its years: all it received is beyond them
    beyond = (received.join(hit.group_by(UNIT_ROW).agg(pl.col("_taken").sum()), on=UNIT_ROW, how="left")
              .select(ROW, pl.col("_latest").alias("_year"),
                      (pl.col("_received") - pl.col("_taken").fill_null(0)).alias("_paid"))
              .filter(pl.col("_paid") > 0))
    paid = (pl.concat([paid_elsewhere.lazy(), absorbed.lazy(), beyond.lazy()], how="vertical_relaxed")
            .group_by(ROW, "_year").agg(pl.col("_paid").sum()))
    return segments.with_columns(due), paid


def _allocate(segments: pl.DataFrame, status: pl.Series, paid: pl.LazyFrame, cap: int) -> pl.DataFrame:
    """allocate_annual_cap for one track: granted fen per (loan, year) of the loans still in play."""
    seg = (segments.lazy().with_columns(status.gather(segments[UNIT_ROW]).alias("_status"))
           .filter(pl.col("_status") <= NEEDS_CONFIRMATION)
           .join(paid, on=[ROW, "_year"], how="left")
           .with_columns(pl.max_horizontal(pl.lit(cap, dtype=pl.Int64) - pl.col("_paid").fill_null(0),
                                           pl.lit(0, dtype=pl.Int64)).alias("_room"))
           .with_columns(pl.col("_seg").sum().over(ROW, "_year").alias("_year_total"))
           .collect())
    fits = seg.filter(pl.col("_year_total") <= pl.col("_room")).with_columns(pl.col("_seg").alias("_granted"))
    # only where the year's subsidies exceed the room does the order matter: fill it loan by loan
    over = (seg.lazy().filter(pl.col("_year_total") > pl.col("_room"))
            .sort(ROW, "_year", pl.col("_status") != ELIGIBLE, "loan.issue_date", "unit_id")
            .with_columns((pl.col("_seg").cum_sum().over(ROW, "_year") - pl.col("_seg")).alias("_before"))
            .with_columns(pl.min_horizontal(pl.col("_seg"), pl.max_horizontal(pl.col("_room") - pl.col("_before"),
                                                                              pl.lit(0, dtype=pl.Int64))).alias("_granted"))
            .drop("_before").collect())
    return pl.concat([fits, over], how="vertical")


def evaluate_interest(plan: InterestPlan, loans: pl.DataFrame, awards: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Per loan (in loan-frame order): status, amount, cap, binding, headroom and the track that explains it."""
    n_tracks = len(plan.tracks)
    statuses = loans.lazy().select(*[_status(all_of(t)).alias(f"_s{i}") for i, t in enumerate(plan.tracks)]).collect()
    per_loan = take(loans, [ROW, UNIT_ROW]).hstack(statuses.get_columns())  # as they are: see take
    n = per_loan.height
    granted: list[pl.DataFrame] = []
    if plan.version is None:
        # nothing is paid out of force; the track only decides which conditions explain the result
        per_loan = per_loan.with_columns(pl.lit(None, dtype=pl.Int64).alias(f"_a{i}") for i in range(n_tracks))
    else:
        cap = plan.version.annual_cap_per_enterprise.fen
        received, paid_elsewhere = _awards_on_loans(awards, loans, plan.scheme.id, as_of)
        # only loans still in play on some track have a subsidy to compute, and those awards name: where what
        # they received counts against the cap depends on their years
        in_play = pl.any_horizontal([statuses[f"_s{i}"] <= NEEDS_CONFIRMATION for i in range(n_tracks)])
        if received.height:
            in_play = in_play | spread(n, received[UNIT_ROW], pl.repeat(True, received.height, eager=True), False)
        segments = _segments(take(loans, list(INTEREST_COLUMNS)).filter(statuses.select(in_play).to_series()), plan.version)
        # each awarded loan's whole subsidy, before what it received comes off (few loans)
        whole_subsidies = (segments.filter(pl.col(UNIT_ROW).is_in(received.get_column(UNIT_ROW).implode()))
                           .group_by(UNIT_ROW).agg(pl.col("_seg").sum().alias("_whole")))
        segments, paid = _less_received(segments, received, paid_elsewhere)
        for i in range(n_tracks):
            granted.append(_allocate(segments, statuses[f"_s{i}"], paid, cap))
            by_loan = granted[i].group_by(UNIT_ROW).agg(pl.col("_granted").sum().alias(f"_a{i}"))
            per_loan = per_loan.with_columns(spread(n, by_loan[UNIT_ROW], by_loan[f"_a{i}"]))
    chosen = _chosen_track(per_loan, n_tracks)

    def pick(prefix: str, track: pl.Expr) -> pl.Expr:
        expr = pl.col(f"{prefix}0")
        for i in range(1, n_tracks):
            expr = pl.when(track == i).then(pl.col(f"{prefix}{i}")).otherwise(expr)
        return expr

    per_loan = per_loan.with_columns(chosen.alias("_chosen"))
    if plan.version is None:
        # where no track fits, the track only picks the explanation: explain.py chooses it (closest_track)
        return per_loan.select(pl.lit(NOT_IN_FORCE, dtype=pl.UInt8).alias("status"),
                               *[pl.lit(None, dtype=dtype).alias(name) for name, dtype in
                                 (("amount", pl.Int64), ("cap", pl.Int64), ("binding", pl.Boolean),
                                  ("headroom", pl.Int64), ("ended_on", pl.Date), ("received", pl.Int64),
                                  ("whole", pl.Int64))],
                               pl.col("_chosen").alias("track"), pl.col(ROW))
    # a loan that fails on the chosen track but is to confirm on another is to confirm, on the first such track
    # (loan_tracks._fallbacks): granted what the yearly cap leaves after the chosen track's loans
    fallback = pl.lit(None, dtype=pl.UInt8)
    for i in reversed(range(n_tracks)):
        fallback = pl.when((pl.col("_chosen") != i) & (pl.col(f"_s{i}") == NEEDS_CONFIRMATION)) \
            .then(pl.lit(i, dtype=pl.UInt8)).otherwise(fallback)
    fallback = pl.when(pick("_s", pl.col("_chosen")) == INELIGIBLE).then(fallback)
    per_loan = per_loan.with_columns(fallback.alias("_fallback"))
    track = pl.coalesce("_fallback", "_chosen")
    status = pl.when(pl.col("_fallback").is_not_null()).then(pl.lit(NEEDS_CONFIRMATION, dtype=pl.UInt8)) \
        .otherwise(pick("_s", pl.col("_chosen")))
    by_loan = _granted_per_loan(per_loan, granted, segments, paid, cap)
    per_loan = per_loan.with_columns(spread(n, by_loan[UNIT_ROW], by_loan[c]) for c in ("_amount", "_binding", "_headroom"))
    per_loan = per_loan.with_columns(_check_facts(loans, received, whole_subsidies, plan.version, as_of))
    in_play = status <= NEEDS_CONFIRMATION
    return per_loan.select(status.alias("status"), pl.when(in_play).then(pl.col("_amount")).alias("amount"),
                           pl.when(in_play).then(pl.lit(cap, dtype=pl.Int64)).alias("cap"),
                           pl.when(in_play).then(pl.col("_binding")).alias("binding"),
                           pl.when(in_play).then(pl.col("_headroom")).alias("headroom"), track.alias("track"),
                           pl.col(ROW), *[pl.when(in_play).then(pl.col(c)).alias(c) for c in CHECK_FACTS])


# per loan with an amount, what its check notes need (loan_tracks.window_ended_note, over_received_note); null
# where the note does not apply. The rate note needs only the rate, which the facts have.
CHECK_FACTS = ("ended_on", "received", "whole")


def _check_facts(loans: pl.DataFrame, received: pl.DataFrame, whole: pl.DataFrame, version: Any,
                 as_of: date) -> list[pl.Series]:
    """Per loan: the end of its subsidised window where that is on or before the evaluation date (and after the
    issue date: a window of no day has no segment); what it received and its whole subsidy where the former is
    more (few loans: those awards name)."""
    issued, matures = loans.get_column("loan.issue_date"), loans.get_column("loan.maturity_date")
    # calendar months are added per distinct issue date: loans share their dates, and the offset is the slow part
    days = issued.unique()
    window = issued.replace_strict(days, days.dt.offset_by(f"{version.subsidy_months.value}mo"), default=None)
    ended = pl.select(pl.min_horizontal(window, matures).alias("ended_on")).to_series()
    ended = ended.set((ended <= issued) | (ended > as_of), None)
    n = loans.height
    over = (received.join(whole, on=UNIT_ROW, how="left").with_columns(pl.col("_whole").fill_null(0))
            .filter(pl.col("_received") > pl.col("_whole")))
    return [ended, spread(n, over[UNIT_ROW], over["_received"]).alias("received"),
            spread(n, over[UNIT_ROW], over["_whole"]).alias("whole")]


def _granted_per_loan(per_loan: pl.DataFrame, granted: list[pl.DataFrame], segments: pl.DataFrame,
                      paid: pl.LazyFrame, cap: int) -> pl.DataFrame:
    """Per granted loan (UNIT_ROW): its amount, whether the cap cut it, and the room left in its tightest year,
    over the chosen track's grants and then the other-track loans' (in the room the former leave)."""
    chosen_loan = per_loan.get_column("_chosen")
    kept = pl.concat([g.filter(chosen_loan.gather(g.get_column(UNIT_ROW)) == i) for i, g in enumerate(granted)])
    kept = kept.select(ROW, UNIT_ROW, "_year", "_seg", "_granted")
    fallbacks = per_loan.get_column("_fallback")
    if fallbacks.null_count() < fallbacks.len():
        used = kept.lazy().group_by(ROW, "_year").agg(pl.col("_granted").sum().alias("_used"))
        room_taken = (pl.concat([used, paid.rename({"_paid": "_used"})]).group_by(ROW, "_year")
                      .agg(pl.col("_used").sum().alias("_paid")))
        to_confirm = pl.when(fallbacks.is_not_null()).then(NEEDS_CONFIRMATION).otherwise(INELIGIBLE)
        extra = _allocate(segments, pl.select(to_confirm.cast(pl.UInt8)).to_series(), room_taken, cap)
        kept = pl.concat([kept, extra.select(kept.columns)])
    used = kept.lazy().group_by(ROW, "_year").agg(pl.col("_granted").sum().alias("_used")).join(
        paid, on=[ROW, "_year"], how="left").select(ROW, "_year", pl.col("_used") + pl.col("_paid").fill_null(0))
    return (kept.lazy().join(used, on=[ROW, "_year"], how="left")
            .group_by(UNIT_ROW).agg(pl.col("_granted").sum().alias("_amount"),
                                    (pl.col("_granted") < pl.col("_seg")).any().alias("_binding"),
                                    (cap - pl.col("_used")).min().clip(lower_bound=0).alias("_headroom")).collect())


def _chosen_track(per_loan: pl.DataFrame, n_tracks: int) -> pl.Series:
    """Per loan, its enterprise's track: the best of the viable ones (any loan not ineligible; confirmed money,
    then potential, then the earlier track), null where none is viable."""
    # a loan ineligible on every track adds nothing to any total: leave it out of the grouping
    in_any = pl.any_horizontal([pl.col(f"_s{i}") != INELIGIBLE for i in range(n_tracks)])
    totals = per_loan.filter(in_any).group_by(ROW).agg(
        *[pl.when(pl.col(f"_s{i}") == ELIGIBLE).then(pl.col(f"_a{i}")).otherwise(0).sum().alias(f"_e{i}")
          for i in range(n_tracks)],
        *[pl.when(pl.col(f"_s{i}") <= NEEDS_CONFIRMATION).then(pl.col(f"_a{i}")).otherwise(0).sum().alias(f"_p{i}")
          for i in range(n_tracks)],
        *[(pl.col(f"_s{i}") != INELIGIBLE).any().alias(f"_v{i}") for i in range(n_tracks)],
    )
    best = pl.lit(None, dtype=pl.UInt8)
    best_e, best_p = pl.lit(None, dtype=pl.Int64), pl.lit(None, dtype=pl.Int64)
    for i in range(n_tracks):
        better = pl.col(f"_v{i}") & (best.is_null() | (pl.col(f"_e{i}") > best_e)
                                     | ((pl.col(f"_e{i}") == best_e) & (pl.col(f"_p{i}") > best_p)))
        best, best_e, best_p = (pl.when(better).then(pl.lit(i, dtype=pl.UInt8)).otherwise(best),
                                pl.when(better).then(pl.col(f"_e{i}")).otherwise(best_e),
                                pl.when(better).then(pl.col(f"_p{i}")).otherwise(best_p))
    choice = totals.select(ROW, best.alias("track"))
    n_enterprises = int(per_loan[ROW].max()) + 1 if per_loan.height else 0
    return spread(n_enterprises, choice[ROW], choice["track"]).gather(per_loan[ROW])


def _failed_count(track: list[Compiled]) -> pl.Expr:
    return pl.sum_horizontal([pl.when(r.when).then(1).otherwise(0) for c in track for r in c.failed])


def closest_track(result: pl.DataFrame, plan: InterestPlan, loans: pl.DataFrame) -> pl.Series:
    """The track of each loan, where no track fits taking the one with fewest failed conditions over the
    enterprise's loans (the earlier on a tie), as loan_tracks.interest_subsidy explains such an enterprise.

    The failed conditions are counted here, for the loans of such enterprises only, and not while evaluating:
    only the explanation needs them. `loans` holds the columns the conditions read, row-aligned to result.
    """
    missing = result["track"].is_null()
    if not missing.any():
        return result["track"]
    n_tracks = len(plan.tracks)
    failed = (loans.lazy().filter(missing)
              .select(ROW, *[_failed_count(t).alias(f"_nf{i}") for i, t in enumerate(plan.tracks)])
              .group_by(ROW).agg(pl.col(f"_nf{i}").sum() for i in range(n_tracks)).collect())
    closest, fewest = pl.lit(0, dtype=pl.UInt8), pl.col("_nf0")
    for i in range(1, n_tracks):
        nearer = pl.col(f"_nf{i}") < fewest
        closest, fewest = (pl.when(nearer).then(pl.lit(i, dtype=pl.UInt8)).otherwise(closest),
                           pl.when(nearer).then(pl.col(f"_nf{i}")).otherwise(fewest))
    failed = failed.select(ROW, closest.alias("track"))
    n = int(result[ROW].max()) + 1
    return result["track"].fill_null(spread(n, failed[ROW], failed["track"]).gather(result[ROW]))
