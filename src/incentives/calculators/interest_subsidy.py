"""Loan interest subsidy: a share of the interest of each loan's first months, capped per enterprise per year.

Interest accrues actual/365 on the principal. The subsidised window is [issue date, issue date + N months),
cut short by maturity, and split at calendar-year boundaries because the per-enterprise cap is yearly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from ..dates import add_months
from ..money import Rounding, format_rate, round_ratio
from ..results import Step

DAYS_PER_YEAR = 365  # actual/365


@dataclass(frozen=True, slots=True)
class Segment:
    year: int
    start: date
    end: date  # exclusive
    days: int
    subsidy_fen: int


def subsidy_segments(
    principal_fen: int, annual_rate: Decimal, issue: date, maturity: date, share: Decimal, months: int,
    rounding: Rounding,
) -> list[Segment]:
    """The subsidy of one loan, per calendar year: principal × rate × days/365 × share.

    Rounding is applied to the running total, and each year gets the difference of rounded running totals, so
    the years add up to exactly the rounded subsidy of the whole window (a 365-day loan of ¥10M at 4% gets
    ¥140,000.00, not a fen less because it straddles 1 January).
    """
    window_end = min(add_months(issue, months), maturity)
    segments = []
    start = issue
    days_so_far = 0
    paid_so_far = 0
    rate_top, rate_bottom = annual_rate.as_integer_ratio()
    share_top, share_bottom = share.as_integer_ratio()
    while start < window_end:
        end = min(window_end, date(start.year + 1, 1, 1))
        days_so_far += (end - start).days
        rounded_so_far = round_ratio(principal_fen * rate_top * days_so_far * share_top,
                                     rate_bottom * share_bottom * DAYS_PER_YEAR, rounding)
        segments.append(Segment(start.year, start, end, (end - start).days, rounded_so_far - paid_so_far))
        paid_so_far = rounded_so_far
        start = end
    return segments


def still_due(segments: list[Segment], received_fen: int) -> list[Segment]:
    """The segments less what this loan has already received, taken off the earliest year first: subsidies are
    claimed in arrears, quarter by quarter, so what was paid covers the first months. A loan never gets more
    than its own subsidy, whatever it received."""
    due = []
    for segment in segments:
        taken = min(segment.subsidy_fen, received_fen)
        received_fen -= taken
        due.append(replace(segment, subsidy_fen=segment.subsidy_fen - taken))
    return due


def received_by_year(segments: list[Segment], received_fen: int, latest_award_year: int) -> dict[int, int]:
    """Where what a loan received counts against the enterprise's yearly cap: in the years whose subsidy it
    paid, as still_due takes it off (earliest first), whenever it was paid out; what exceeds the loan's whole
    subsidy counts in the year of its latest award. So the same money is never taken off the loan's own years
    and off another year's room as well."""
    counted: dict[int, int] = {}
    for segment, due in zip(segments, still_due(segments, received_fen)):
        taken = segment.subsidy_fen - due.subsidy_fen
        if taken:
            counted[segment.year] = counted.get(segment.year, 0) + taken
    excess = received_fen - sum(counted.values())
    if excess:
        counted[latest_award_year] = counted.get(latest_award_year, 0) + excess
    return counted


def allocate_annual_cap(
    loans: list[tuple[str, list[Segment]]], cap_fen: int, already_paid_fen: dict[int, int]
) -> dict[str, dict[int, int]]:
    """Fill each year's room (cap − already paid) with the loans' subsidies, in the order given."""
    room = {}
    allocated: dict[str, dict[int, int]] = {}
    for loan_id, segments in loans:
        allocated[loan_id] = {}
        for segment in segments:
            left = room.setdefault(segment.year, max(cap_fen - already_paid_fen.get(segment.year, 0), 0))
            take = min(segment.subsidy_fen, left)
            room[segment.year] = left - take
            allocated[loan_id][segment.year] = allocated[loan_id].get(segment.year, 0) + take
    return allocated


def segment_steps(principal_fen: int, annual_rate: Decimal, share: Decimal, segments: list[Segment],
                  allocated: dict[int, int], received_fen: int = 0) -> list[Step]:
    """The arithmetic of one loan's subsidy, year by year: what it earns, less what it already received (see
    still_due), then what the enterprise's yearly cap lets it have."""
    share_text = format_rate(share)
    steps = [Step("贷款本金", "principal", amount_fen=principal_fen),
             Step("年利率", "annual rate", value=format_rate(annual_rate)),
             Step("贴息比例（不超过）", "subsidy share (at most)", value=share_text)]
    if received_fen:
        steps.append(Step("本笔贷款已获贴息（先抵最早年度）", "already received for this loan (off the earliest year first)",
                          amount_fen=received_fen))
    for segment, due in zip(segments, still_due(segments, received_fen)):
        steps.append(Step(
            # each year is the difference of the running totals, each rounded (subsidy_segments): a year checked
            # on its own may be a fen off, and the label says why
            f"{segment.year}年：{segment.start}至{segment.end}（不含）共{segment.days}天，本金×利率×天数/365×{share_text}"
            f"（按累计额取整后逐年相减）",
            f"{segment.year}: {segment.start} to {segment.end} (exclusive), {segment.days} days, "
            f"principal × rate × days/365 × {share_text} (the running total rounded, then differenced)",
            amount_fen=segment.subsidy_fen))
        if due.subsidy_fen != segment.subsidy_fen:
            steps.append(Step(f"{segment.year}年扣除本笔贷款已获贴息后", f"{segment.year} less what this loan received",
                              amount_fen=due.subsidy_fen))
        granted = allocated.get(segment.year, due.subsidy_fen)
        if granted != due.subsidy_fen:
            steps.append(Step(f"{segment.year}年受企业年度贴息上限限制后", f"{segment.year} after the enterprise's annual cap",
                              amount_fen=granted))
    return steps
