"""The loan interest subsidy, one profile at a time: tracks, 12-month windows, the per-enterprise yearly cap.

An enterprise joins one track (制造业 or 高新技术企业): each loan is checked on every track, the enterprise is put
on the one that pays most for certain, then most in all, and a loan that fails there but is to confirm on another
track is to confirm, in the room the yearly cap leaves. Each loan's subsidy is split by calendar year, less what
it already received, and each year's room (the cap less what was paid for that year) is filled loan by loan.
batch/interest_columns.py does the same column-wise.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .calculators.interest_subsidy import (allocate_annual_cap, received_by_year, segment_steps, still_due,
                                           subsidy_segments)
from .conditions import ConditionResult, Evaluator, Outcome, compiled
from .money import format_rate, grouped_yuan
from .profile import IMPLAUSIBLE_RATE, Profile
from .results import Result, Status, Step, status_from, worse

if TYPE_CHECKING:
    from .evaluate import SchemePlan

_MET, _FAILED = Outcome.met, Outcome.failed
_ELIGIBLE, _NEEDS_CONFIRMATION = Status.eligible, Status.needs_confirmation
_INELIGIBLE, _NOT_IN_FORCE = Status.ineligible, Status.not_in_force


def interest_subsidy(plan: SchemePlan, version: Any, version_texts: tuple[str | None, str | None],
                     profile: Profile, base_facts: dict[str, Any], as_of: date, order: int,
                     loan_facts: list[dict[str, Any]]) -> list[Result]:
    """The results of a loan interest subsidy for each of the profile's loans (it has some), with `loan_facts`
    the loans' own facts in the same order."""
    scheme = plan.scheme
    common = [run(base_facts) for run, _ in plan.conditions]
    paid: dict[int, int] = {}  # per year, against the enterprise's yearly cap
    received: dict[str, int] = {}  # per loan of the profile, against the loan's own subsidy
    latest: dict[str, int] = {}  # per such loan, the year of its latest award
    loan_ids = {loan.id for loan in profile.loans}
    for award in profile.awards:
        if award.scheme_id != scheme.id or award.date > as_of:
            continue
        if award.unit_id in loan_ids:
            received[award.unit_id] = received.get(award.unit_id, 0) + award.amount_fen
            latest[award.unit_id] = max(latest.get(award.unit_id, award.date.year), award.date.year)
        else:  # another loan's, or the enterprise's: counted in the year it was paid
            paid[award.date.year] = paid.get(award.date.year, 0) + award.amount_fen
    loans = [_LoanCheck(plan, version, loan, {**base_facts, **facts}, received.get(loan.id, 0))
             for loan, facts in zip(profile.loans, loan_facts)]
    if version is not None:
        for check in loans:
            if check.received:
                for year, amount in received_by_year(check.segments(), check.received, latest[check.loan.id]).items():
                    paid[year] = paid.get(year, 0) + amount
    options = [_track_option(plan, version, version_texts, index, base_facts, common, paid, order, loans)
               for index in range(len(scheme.tracks))]
    viable = [o for o in options if any(r.status is not _INELIGIBLE for r in o.results)]
    if viable:
        best = max(viable, key=lambda o: (o.eligible, o.potential, -o.index))
    else:
        # no track fits: explain with the closest one (fewest failed conditions), so a high-tech firm that lost
        # its certificate is told that, not that it is not a manufacturer
        best = min(options, key=lambda o: (sum(_failed_count(r) for r in o.results), o.index))
    track = scheme.tracks[best.index]
    track_note = chosen_track_note(track, [(scheme.tracks[o.index], o.potential) for o in options if o is not best])
    fallbacks = _fallbacks(best, options, version, paid)
    _explain_subsidies(best.pending + [(result, loan, segments) for result, loan, segments, _, _ in fallbacks],
                       best.allocated, best.cap, version, paid, {check.loan.id: check for check in loans})
    rates = {loan.id: loan.annual_rate for loan in profile.loans}
    results = list(best.results)
    for result in best.results:
        result.notes = [track_note, *plan.notes, *implausible_rate_note(rates.get(result.unit_id))]
        result.extra["track"] = track.id
        if version is None:
            result.status, result.amount_fen = _NOT_IN_FORCE, None
    for result, _, _, index, position in fallbacks:
        other = scheme.tracks[index]
        result.notes = [other_track_note(track, other), *plan.notes, *implausible_rate_note(rates.get(result.unit_id))]
        result.extra["track"] = other.id
        results[position] = result
    for check, result in zip(loans, results):
        segments = check.segments() if result.amount_fen is not None else []
        if segments:
            result.notes += window_ended_note(segments[-1].end, as_of)
        if result.amount_fen is not None and check.received:
            result.notes += over_received_note(check.received, sum(s.subsidy_fen for s in segments))
    return results


# --- the notes (the reference engine writes the same texts, decided its own way) ---------------------------


def chosen_track_note(track: Any, others: list[tuple[Any, int]]) -> dict[str, str]:
    """The track the enterprise is evaluated on, and what each other track (track, potential fen) would pay."""
    zh, en = f"按“{track.label_zh}”路径计算", f"Evaluated on the '{track.label_en}' track"
    if others:
        zh += "（企业只能选择一个路径，取确定可获金额较多者，相同时取含待确认金额较多者；" + "；".join(
            f"{other.label_zh}路径含待确认可获 {grouped_yuan(fen)} 元" for other, fen in others) + "）"
        en += " (an enterprise joins one track: the one paying more for certain, then more in all; " + "; ".join(
            f"{other.label_en}: {grouped_yuan(fen)} yuan including amounts to confirm" for other, fen in others) + ")"
    return {"kind": "track", "zh": zh, "en": en}


def window_ended_note(end: date, as_of: date) -> list[dict[str, str]]:
    """A check note for a loan whose subsidised months (ending before `end`) are over on the evaluation date:
    the amount is what the loan qualified for, but claims are quarterly, and a late one may be refused."""
    if as_of < end:
        return []
    last = (end - timedelta(days=1)).isoformat()
    return [{"kind": "check",
             "zh": f"本笔贷款的贴息期已于 {last} 结束：贴息按季度申报，请核对各季度是否已申报（逾期未报的可能无法再申请）",
             "en": f"this loan's subsidised period ended on {last}: claims are quarterly, so check that each quarter "
                   "was claimed (a late claim may no longer be accepted)"}]


def over_received_note(received_fen: int, whole_fen: int) -> list[dict[str, str]]:
    """A check note for a loan whose awards exceed its whole subsidy as computed: more than it could get was
    recorded (an award named the wrong loan, or the loan's terms are not as entered). It gets nothing more, and
    the excess counts against the yearly cap in the year of its latest award (received_by_year)."""
    if received_fen <= whole_fen:
        return []
    received, whole, excess = grouped_yuan(received_fen), grouped_yuan(whole_fen), grouped_yuan(received_fen - whole_fen)
    return [{"kind": "check",
             "zh": f"已获资助记录中本笔贷款已获贴息 {received} 元，超过按所填贷款计算的本笔全部贴息 {whole} 元：请核对已获资助"
                   f"（是否记到了别的贷款）和贷款信息；本笔不再可获，超出的 {excess} 元计入最后一笔资助所在年度的年度上限",
             "en": f"the awards record {received} yuan for this loan, more than its whole subsidy as entered "
                   f"({whole} yuan): check the awards (is one another loan's?) and the loan's terms; it gets nothing "
                   f"more, and the excess of {excess} yuan counts against the yearly cap of its latest award's year"}]


def other_track_note(chosen: Any, other: Any) -> dict[str, str]:
    """The note of a loan that fails on the chosen track and is to confirm on the other (see _fallbacks)."""
    return {"kind": "other_track",
            "zh": f"按“{chosen.label_zh}”路径本笔贷款不符合；若企业可按“{other.label_zh}”路径申报，本笔贷款可能获得贴息，"
                  f"需确认。企业只能选择一个路径：金额按“{chosen.label_zh}”路径各笔贷款用后所余的年度上限额度计算",
            "en": f"Not subsidised on the '{chosen.label_en}' track; it may be on the '{other.label_en}' track, to be "
                  f"confirmed. An enterprise joins one track: the amount is what the yearly cap leaves after the "
                  f"'{chosen.label_en}' track's loans"}


def implausible_rate_note(rate: Decimal | None) -> list[dict[str, str]]:
    """A check note for a loan rate above profile.IMPLAUSIBLE_RATE: evaluated as given, but likely mistyped."""
    if rate is None or rate <= IMPLAUSIBLE_RATE:
        return []
    shown = format_rate(rate)
    return [{"kind": "check", "zh": f"年利率 {shown} 高于 24%，请核对（如 4.5% 是否写成了 0.45）；已按所填利率计算",
             "en": f"an annual rate of {shown} is above 24%: please check (is 4.5% written as 0.45?); computed as given"}]


# --- tracks, loans and the yearly room ------------------------------------------------------------------


def _fallbacks(best: _TrackOption, options: list[_TrackOption], version: Any,
               paid: dict[int, int]) -> list[tuple[Result, Any, list[Any], int, int]]:
    """The loans that fail on the chosen track but are still to confirm on another: (result on that track, loan,
    segments, that track's index, the loan's place among the results).

    Whether the enterprise may join that track is not known (a blank HNTE cell, say), so the loan is not
    ruled out: it is to confirm, on the first such track. It is granted what the yearly cap leaves after the
    chosen track's loans, in issue order, so the enterprise's amounts still add up to at most the cap.
    """
    if version is None:
        return []
    found = []
    for position, result in enumerate(best.results):
        if result.status is not _INELIGIBLE:
            continue
        for option in options:
            if option is not best and option.results[position].status is _NEEDS_CONFIRMATION:
                entry = next(e for e in option.pending if e[0] is option.results[position])
                found.append((*entry, option.index, position))
                break
    if not found:
        return found
    used = dict(paid)
    for granted in best.allocated.values():
        for year, amount in granted.items():
            used[year] = used.get(year, 0) + amount
    found.sort(key=lambda item: (item[1].issue_date, item[1].id))
    allocated = allocate_annual_cap([(loan.id, segments) for _, loan, segments, _, _ in found], best.cap, used)
    for result, loan, *_ in found:
        result.amount_fen = sum(allocated[loan.id].values())
        best.allocated[loan.id] = allocated[loan.id]
    return found


class _LoanCheck:
    """What is the same for a loan on every track: the issue window and the scheme's loan conditions (with
    what they decide about the status), and the loan's subsidy before the yearly cap, less what it already
    received, worked out when a track first needs it."""

    __slots__ = ("loan", "facts", "conditions", "failed", "unknown", "version", "received", "_segments", "_due")

    def __init__(self, plan: SchemePlan, version: Any, loan: Any, facts: dict[str, Any], received: int):
        self.loan, self.facts, self.version, self._segments, self._due = loan, facts, version, None, None
        self.received = received
        failed = unknown = False
        conditions = []
        if version is not None:
            label_zh, label_en, cite = plan.issue_windows[id(version)]
            inside = version.issued_from <= loan.issue_date <= version.issued_until
            failed = not inside
            conditions.append(ConditionResult(label_zh, label_en, _MET if inside else _FAILED,
                                              loan.issue_date.isoformat(), cite))
        own = [run(facts) for run in plan.loan_runs]
        failed, unknown = worse(own, failed, unknown)
        self.conditions, self.failed, self.unknown = conditions + own, failed, unknown

    def segments(self) -> list[Any]:
        """The loan's subsidy per calendar year, as earned."""
        if self._segments is None:
            loan, version = self.loan, self.version
            self._segments = subsidy_segments(loan.principal_fen, loan.annual_rate, loan.issue_date,
                                              loan.maturity_date, version.share.rate, version.subsidy_months.value,
                                              version.rounding)
        return self._segments

    def due(self) -> list[Any]:
        """The same, less what the loan already received (still_due): what the yearly cap is asked for."""
        if self._due is None:
            self._due = still_due(self.segments(), self.received)
        return self._due


def _failed_count(result: Result) -> int:
    """len(result.failed()), counted without writing out the failed leaves."""
    count = 0
    for condition in result.conditions:
        if condition.outcome is _FAILED:  # the others have no failed leaves
            count += _failed_leaf_count(condition)
    return count


def _failed_leaf_count(condition: ConditionResult) -> int:
    """len(condition.failed_leaves())."""
    if condition.outcome is not _FAILED:
        return 0
    if not condition.children:
        return 1
    count = 0
    for child in condition.children:
        if child.outcome is _FAILED:
            count += _failed_leaf_count(child)
    return count or 1


def track_runs(track: Any) -> tuple[tuple[Evaluator, ...], tuple[Evaluator, ...]]:
    """A track's own compiled conditions: (the enterprise's, the loan's; a loan's result lists the scheme's loan
    conditions before these). Built once per scheme, in its plan."""
    return tuple(compiled(c) for c in track.enterprise_conditions), tuple(compiled(c) for c in track.loan_conditions)


class _TrackOption:
    """One track's results for the enterprise's loans, with what each loan is granted. Only the chosen track's
    results are explained (steps, caps, notes): the others only need their amounts and conditions."""

    __slots__ = ("index", "results", "eligible", "potential", "pending", "allocated", "cap")

    def __init__(self, index: int, results: list[Result], pending: list[tuple[Result, Any, list[Any]]],
                 allocated: dict[str, dict[int, int]], cap: int):
        self.index, self.results, self.pending, self.allocated, self.cap = index, results, pending, allocated, cap
        self.eligible = sum(r.amount_fen or 0 for r in results if r.status is _ELIGIBLE)
        self.potential = sum(r.amount_fen or 0 for r in results
                             if r.status is _ELIGIBLE or r.status is _NEEDS_CONFIRMATION)


def _track_option(plan: SchemePlan, version: Any, version_texts: tuple[str | None, str | None], index: int,
                  base_facts: dict[str, Any], common: list[ConditionResult], paid: dict[int, int], order: int,
                  loans: list[_LoanCheck]) -> _TrackOption:
    scheme_id = plan.scheme.id
    enterprise_runs, loan_runs = plan.track_runs[index]
    enterprise_conditions = common + [run(base_facts) for run in enterprise_runs]
    enterprise_failed, enterprise_unknown = worse(enterprise_conditions, False, False)
    version_from, version_until = version_texts
    pending: list[tuple[Result, Any, list[Any]]] = []
    results = []
    for check in loans:
        own = [run(check.facts) for run in loan_runs]
        failed, unknown = worse(own, enterprise_failed or check.failed, enterprise_unknown or check.unknown)
        conditions = enterprise_conditions + check.conditions + own
        # a version not in force is set on the chosen track's results afterwards (see interest_subsidy)
        status = status_from(True, failed, unknown)
        loan = check.loan
        # notes are the chosen track's only (see interest_subsidy); not in a stacking group
        result = Result(scheme_id, "loan", loan.id, loan.lender, status, None, conditions, [], None, False, None,
                        None, None, None, None, version_from, version_until, [], {}, None, order)
        results.append(result)
        if status is not _INELIGIBLE and version is not None:
            pending.append((result, loan, check.due()))
    # eligible loans take the yearly room first, then those still to confirm; then by issue date and id
    pending.sort(key=lambda item: (item[0].status is not _ELIGIBLE, item[1].issue_date, item[1].id))
    cap = version.annual_cap_per_enterprise.fen if version else 0
    allocated = allocate_annual_cap([(loan.id, segments) for _, loan, segments in pending], cap, paid)
    for result, loan, _ in pending:
        result.amount_fen = sum(allocated[loan.id].values())
    return _TrackOption(index, results, pending, allocated, cap)


def _explain_subsidies(pending: list[tuple[Result, Any, list[Any]]], allocated: dict[str, dict[int, int]], cap: int,
                       version: Any, paid: dict[int, int], checks: dict[str, _LoanCheck]) -> None:
    """The granted loans' arithmetic: the yearly segments, the cap and the room left under it by all of them."""
    for result, loan, segments in pending:
        granted = allocated[loan.id]
        check = checks[loan.id]
        result.steps = segment_steps(loan.principal_fen, loan.annual_rate, version.share.rate, check.segments(),
                                     granted, check.received)
        result.steps.append(Step("本笔贷款贴息合计", "subsidy for this loan", amount_fen=result.amount_fen))
        result.cap_fen = cap
        used = {year: paid.get(year, 0) for year in granted}
        for _, other, _ in pending:
            for year, amount in allocated[other.id].items():
                if year in used:
                    used[year] += amount
        # awards alone may pass the cap (paid under another reading, say): no room is left, not less than none
        result.headroom_fen = max(min((cap - used[year] for year in used), default=cap), 0)
        result.binding_cap = any(granted[s.year] < s.subsidy_fen for s in segments)
        result.rate = format(version.share.rate, "f")
        result.extra["by_year_fen"] = {str(year): amount for year, amount in sorted(granted.items())}
        result.extra["already_paid_by_year_fen"] = {str(y): paid.get(y, 0) for y in sorted(granted)}
        result.steps.insert(0, Step("企业年度贴息上限", "annual cap per enterprise", amount_fen=cap,
                                    cite=version.annual_cap_per_enterprise.cite))
