"""Profile + evaluation date -> one result per scheme and unit, stacking (从优、就高、不重复) and totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from . import industry as industry_table
from .calculators.capped_history import annual_percent_with_cap, cumulative_cap
from .calculators.deadline import deadline_for_version, deadline_note
from .calculators.fixed_award import award_up_to_cap, fixed_award
from .calculators.percent_of_base import percent_of_base
from .calculators.rate_table import RateLookupError, find_tool, rate_entry_on
from .conditions import ConditionResult, Evaluator, Outcome, compiled, evaluate as evaluate_condition, leaves
from .dates import quarter_end
from .errors import CalendarNotPublished, InputError, Problem
from .facts import ALL_UNITS, FACTS, enterprise_facts, fund_facts, investment_facts, loan_facts, project_facts
from .money import apply_rate, format_rate, grouped_yuan
from .profile import Profile, parse_profile
from .loan_tracks import interest_subsidy, track_runs as loan_track_runs
from .results import Computation, Result, Status, Step, status_from, worse
from .scheme_files import (
    AnnualPercentWithCap,
    AwardUpToCap,
    Compliance,
    CumulativeCap,
    Deadline,
    FixedAward,
    LoanInterestSubsidy,
    PercentOfBase,
    Relending,
    Scheme,
    TieredPercentOfBase,
)
from .schemes import Catalogue, catalogue as bundled_catalogue
from .sme_size import SizeClassification, classify


@dataclass
class Evaluation:
    as_of: date
    rules_version: str
    profile: Profile
    size: SizeClassification
    results: list[Result]
    catalogue: Catalogue

    @property
    def total_fen(self) -> int:
        return sum(r.amount_fen or 0 for r in self.results if r.status is Status.eligible)

    @property
    def potential_total_fen(self) -> int:
        return sum(r.amount_fen or 0 for r in self.results
                   if r.status in (Status.eligible, Status.needs_confirmation))


# --- helpers ------------------------------------------------------------------------------------------------


def _implicit(label_zh: str, label_en: str, outcome: Outcome, actual: str | None = None,
              confirm: tuple[str, str] | None = None) -> ConditionResult:
    """A condition the calculator adds itself (an amount it needs, a tier it must find)."""
    return ConditionResult(label_zh, label_en, outcome, actual, None,
                           confirm[0] if confirm else None, confirm[1] if confirm else None)


_MET, _FAILED, _UNKNOWN = Outcome.met, Outcome.failed, Outcome.unknown
# module-level names: reading a member off an Enum class costs several times a global's lookup, and these are
# read for every unit of every scheme
_ELIGIBLE, _NEEDS_CONFIRMATION = Status.eligible, Status.needs_confirmation
_INELIGIBLE, _NOT_IN_FORCE = Status.ineligible, Status.not_in_force

_NO_VERSION: tuple[Any, tuple[None, None]] = (None, (None, None))


def _version_on(plan: SchemePlan, on: date) -> tuple[Any, tuple[str | None, str | None]]:
    """The scheme's version in force on `on` with its (version_from, version_until) texts; (None, (None, None))
    when none is."""
    for from_, until, found in plan.versions:
        if from_ <= on and (until is None or on <= until):
            return found
    return _NO_VERSION


@dataclass(frozen=True, slots=True)
class SchemePlan:
    """What can be prepared once per scheme: compiled conditions, which of them read enterprise facts only
    (the same for every unit, so evaluated once per scheme), the notes, each version's dates as text, and the
    arithmetic of the scheme's kind."""
    scheme: Scheme
    conditions: tuple[tuple[Evaluator, bool], ...]
    # (position, evaluator) of the conditions that read the enterprise's facts only, evaluated once per scheme,
    # and of those that read a unit's own facts, evaluated for every unit
    shared_conditions: tuple[tuple[int, Evaluator], ...]
    unit_conditions: tuple[tuple[int, Evaluator], ...]
    # shared by every result of the scheme: never changed in place (a result adds notes to its own list)
    notes: tuple[dict[str, str], ...]
    # (from, until, (version, (version_from, version_until))) of each version, as _version_on reads them
    versions: tuple[tuple[date, date | None, tuple[Any, tuple[str | None, str | None]]], ...]
    # a loan interest subsidy's compiled conditions of every loan, and per track its own compiled enterprise and
    # loan conditions (see loan_tracks.track_runs)
    loan_runs: tuple[Evaluator, ...]
    track_runs: tuple[tuple[tuple[Evaluator, ...], tuple[Evaluator, ...]], ...]
    # the loan interest subsidy's issue window condition per version: id(version) -> (labels, cite)
    issue_windows: dict[int, tuple[str, str, Any]]
    pay: Any  # fills in the amount of a unit that meets the conditions (one function per kind), or None


_PLANS: dict[int, SchemePlan] = {}


def _scheme_plan(scheme: Scheme) -> SchemePlan:
    plan = _PLANS.get(id(scheme))
    if plan is None or plan.scheme is not scheme:
        notes = [{"kind": "note", "zh": n.zh, "en": n.en} for n in scheme.notes]
        notes += [{"kind": "assumption", "zh": a.zh, "en": a.en, "confidence": a.confidence.value}
                  for a in scheme.assumptions]
        conditions = tuple((compiled(c), all(FACTS.get(leaf.field) == ALL_UNITS for leaf in leaves(c)))
                           for c in scheme.conditions)
        shared_conditions = tuple((index, run) for index, (run, enterprise_only) in enumerate(conditions)
                                  if enterprise_only)
        unit_conditions = tuple((index, run) for index, (run, enterprise_only) in enumerate(conditions)
                                if not enterprise_only)
        versions = tuple((v.from_, v.until, (v, (v.from_.isoformat(), v.until.isoformat() if v.until else None)))
                         for v in scheme.versions)
        loan_runs = tuple(compiled(c) for c in getattr(scheme, "loan_conditions", ()))
        track_runs = tuple(loan_track_runs(track) for track in getattr(scheme, "tracks", ()))
        issue_windows = {id(v): (f"贷款在{v.issued_from}至{v.issued_until}期间新发放",
                                 f"Loan newly issued between {v.issued_from} and {v.issued_until}", v.issue_window_cite)
                         for v in scheme.versions if isinstance(scheme, LoanInterestSubsidy)}
        plan = SchemePlan(scheme, conditions, shared_conditions, unit_conditions, tuple(notes), versions,
                           loan_runs, track_runs, issue_windows, _pay_for(scheme))
        if len(_PLANS) >= 10_000:  # many catalogues built in one process (tests): start again
            _PLANS.clear()
        _PLANS[id(scheme)] = plan
    return plan


# id(catalogue) -> (catalogue, its schemes' plans in catalogue order); the catalogue is kept in the entry so an
# id is never reused while it is cached
_CATALOGUE_PLANS: dict[int, tuple[Catalogue, tuple[SchemePlan, ...]]] = {}


def _catalogue_plans(cat: Catalogue) -> tuple[SchemePlan, ...]:
    entry = _CATALOGUE_PLANS.get(id(cat))
    if entry is None or entry[0] is not cat:
        if len(_CATALOGUE_PLANS) >= 1_000:  # many catalogues built in one process (tests): start again
            _CATALOGUE_PLANS.clear()
        entry = _CATALOGUE_PLANS[id(cat)] = (cat, tuple(_scheme_plan(scheme) for scheme in cat.schemes))
    return entry[1]


def _base(facts: dict[str, Any], name: str, label_zh: str, label_en: str) -> tuple[int | None, ConditionResult]:
    value = facts[name]
    if value is None:
        return None, _implicit(f"已填写{label_zh}", f"{label_en} is given", Outcome.unknown,
                               confirm=(f"请填写{label_zh}", f"Please give the {label_en}"))
    if value <= 0:
        return None, _implicit(f"{label_zh}大于0", f"{label_en} is above zero", Outcome.failed, "0")
    return value, _implicit(f"已填写{label_zh}", f"{label_en} is given", Outcome.met, grouped_yuan(value))


def _awards(profile: Profile, scheme_id: str, as_of: date, unit_id: str | None = None, year: int | None = None) -> int:
    total = 0
    for award in profile.awards:
        if award.scheme_id != scheme_id or award.date > as_of:
            continue
        if year is not None and award.date.year != year:
            continue
        if unit_id is not None and award.unit_id is not None and award.unit_id != unit_id:
            continue
        total += award.amount_fen
    return total


# --- per-kind arithmetic for the simple kinds ---------------------------------------------------------------


# Each kind's arithmetic returns the computation (None if an input is missing), the conditions it adds, and extra
# result fields.


def _percent_of_base(scheme: PercentOfBase, version: Any, facts: dict[str, Any], profile: Profile, as_of: date,
                     unit_id: str | None) -> tuple[Computation | None, list[ConditionResult], dict[str, Any]]:
    base, check = _base(facts, scheme.base, scheme.base_label_zh, scheme.base_label_en)
    if base is None:
        return None, [check], {}
    cap = version.cap
    return percent_of_base(base, version.rate.rate, cap.fen if cap else None, version.rounding,
                           base_label=(scheme.base_label_zh, scheme.base_label_en),
                           rate_cite=version.rate.cite, cap_cite=cap.cite if cap else None), [check], {}


def _tiered_percent_of_base(scheme: TieredPercentOfBase, version: Any, facts: dict[str, Any], profile: Profile,
                            as_of: date, unit_id: str | None):
    return _tiered(scheme, version, facts)


def _fixed_award(scheme: FixedAward, version: Any, facts: dict[str, Any], profile: Profile, as_of: date,
                 unit_id: str | None):
    return fixed_award(version.amount.fen, version.amount.cite), [], {}


def _award_up_to_cap(scheme: AwardUpToCap, version: Any, facts: dict[str, Any], profile: Profile, as_of: date,
                     unit_id: str | None):
    # a yearly cap (not one-off) loses what the scheme paid this year; a unit's cap in total, all it paid
    used = {"already_fen": _awards(profile, scheme.id, as_of, unit_id, year=as_of.year),
              "year": as_of.year} if not scheme.one_off else (
        {"already_fen": _awards(profile, scheme.id, as_of, unit_id)} if scheme.cap_in_total else {})
    if scheme.base is None:
        return award_up_to_cap(version.cap.fen, cite=version.cap.cite, **used), [], {"is_upper_bound": True}
    base, check = _base(facts, scheme.base, scheme.base_label_zh or "", scheme.base_label_en or "")
    if base is None:
        return None, [check], {}
    return (award_up_to_cap(version.cap.fen, base, base_label=(scheme.base_label_zh or "", scheme.base_label_en or ""),
                            cite=version.cap.cite, **used), [check], {"is_upper_bound": True})


def _annual_percent_with_cap(scheme: AnnualPercentWithCap, version: Any, facts: dict[str, Any], profile: Profile,
                             as_of: date, unit_id: str | None):
    base, check = _base(facts, scheme.base, scheme.base_label_zh, scheme.base_label_en)
    if base is None:
        return None, [check], {}
    already = _awards(profile, scheme.id, as_of, unit_id, year=as_of.year)
    return annual_percent_with_cap(base, version.rate.rate, version.annual_cap.fen, already, version.rounding,
                                   year=as_of.year, base_label=(scheme.base_label_zh, scheme.base_label_en),
                                   rate_cite=version.rate.cite, cap_cite=version.annual_cap.cite), [check], {}


def _cumulative_cap(scheme: CumulativeCap, version: Any, facts: dict[str, Any], profile: Profile, as_of: date,
                    unit_id: str | None):
    already = _awards(profile, scheme.id, as_of)
    computation = cumulative_cap(version.cap.fen, already, cite=version.cap.cite)
    if computation.amount_fen == 0:
        return None, [_implicit("累计上限尚有剩余额度", "room left under the cumulative cap", Outcome.failed, "0")], {}
    return computation, [], {"already_awarded_fen": already}


def _computed(compute: Any) -> Any:
    """A kind's `pay` from its arithmetic: the conditions it adds follow the scheme's, its fields go to extra."""

    def pay(result: Result, scheme: Scheme, version: Any, facts: dict[str, Any], profile: Profile, as_of: date,
            cat: Catalogue) -> None:
        computation, added, extra = compute(scheme, version, facts, profile, as_of, result.unit_id)
        result.conditions = result.conditions + added
        if extra:
            result.extra.update(extra)
        if computation is not None:
            _fill(result, computation)

    return pay


def _pay_for(scheme: Scheme) -> Any:
    """The function that fills in the amount of one of the scheme's units (None: the interest subsidy, which
    is evaluated for all of the enterprise's loans together)."""
    if isinstance(scheme, LoanInterestSubsidy):
        return None
    if isinstance(scheme, Relending):
        return _relending
    if isinstance(scheme, Deadline):
        return _deadline
    if isinstance(scheme, Compliance):
        return _compliance
    for kind, compute in ((PercentOfBase, _percent_of_base), (TieredPercentOfBase, _tiered_percent_of_base),
                          (FixedAward, _fixed_award), (AwardUpToCap, _award_up_to_cap),
                          (AnnualPercentWithCap, _annual_percent_with_cap), (CumulativeCap, _cumulative_cap)):
        if isinstance(scheme, kind):
            return _computed(compute)
    return _no_arithmetic


def _no_arithmetic(result: Result, scheme: Scheme, *args: Any) -> None:
    raise AssertionError(f"no arithmetic for kind {scheme.kind}")


def _tiered(scheme: TieredPercentOfBase, version: Any, facts: dict[str, Any]):
    categories = facts[scheme.category_field] or ()
    tier = next((t for t in version.tiers if set(t.categories) & set(categories)), None)
    if tier is None:
        # an industry no tier lists may still be in a tier whose list ends in 等: assessed there, to confirm
        unlisted = sorted(set(categories) - {c for t in version.tiers for c in t.categories})
        tier = next((t for t in version.tiers if t.open_list), None) if unlisted else None
        if tier is None:
            return None, [_implicit("属于支持的产业类别", "in a supported industry tier", Outcome.failed,
                                    ", ".join(categories) or "—")], {}
        tier_check = _implicit(f"产业类别：{tier.label_zh}", f"Industry tier: {tier.label_en}", Outcome.unknown,
                               ", ".join(unlisted), tier.unlisted_confirm())
    else:
        tier_check = _implicit(f"产业类别：{tier.label_zh}", f"Industry tier: {tier.label_en}", Outcome.met,
                               ", ".join(sorted(set(tier.categories) & set(categories))))
    base, check = _base(facts, scheme.base, scheme.base_label_zh, scheme.base_label_en)
    if base is None:
        return None, [tier_check, check], {}
    added = [tier_check, check]
    rate = tier.rate
    independent = facts[scheme.independence_field]
    if tier.rate_if_independent_legal_entity is not None:
        lifted = tier.rate_if_independent_legal_entity
        if independent is True:
            rate = lifted
            added.append(_implicit(f"独立法人平台，比例提高至{format_rate(lifted.rate)}",
                                   f"independent legal entity: rate lifted to {format_rate(lifted.rate)}", Outcome.met, "true"))
        elif independent is None:
            added.append(_implicit(
                "是否为独立法人平台（影响补助比例）", "whether the platform is an independent legal entity (sets the rate)",
                Outcome.unknown, None,
                (f"请确认是否为独立法人；若是，比例为{format_rate(lifted.rate)}（否则{format_rate(tier.rate.rate)}）",
                 f"Confirm whether it is an independent legal entity: if so the rate is {format_rate(lifted.rate)}, "
                 f"otherwise {format_rate(tier.rate.rate)}")))
    computation = percent_of_base(base, rate.rate, tier.cap.fen if tier.cap else None, version.rounding,
                                  base_label=(scheme.base_label_zh, scheme.base_label_en), rate_cite=rate.cite,
                                  cap_cite=tier.cap.cite if tier.cap else None)
    return computation, added, {"tier": tier.id}


# --- unit enumeration ---------------------------------------------------------------------------------------


Unit = tuple[str | None, str | None, dict[str, Any]]  # a unit's id, name and facts


def _read_units(unit: str, profile: Profile) -> list[Unit]:
    """Each unit's id, name and own facts."""
    if unit == "enterprise":
        return [(None, None, {})]
    if unit == "project":
        return [(p.id, p.name, project_facts(p)) for p in profile.projects]
    if unit == "loan":
        return [(l.id, l.lender, loan_facts(l)) for l in profile.loans]
    if unit == "fund":
        return [("fund", profile.fund.name, fund_facts(profile.fund))] if profile.fund else []
    fund = profile.fund
    if fund is None:
        return []
    return [(i.id, i.target, {**fund_facts(fund), **investment_facts(i)}) for i in fund.investments]


class _Units:
    """One evaluation's units per unit kind, read when a scheme first asks for them; and each unit's facts with
    the enterprise's and a scheme's award flag merged in, built once per unit kind and flag (the schemes only
    read them)."""

    __slots__ = ("profile", "base_facts", "own", "merged")

    def __init__(self, profile: Profile, base_facts: dict[str, Any]):
        self.profile, self.base_facts = profile, base_facts
        self.own: dict[str, list[Unit]] = {}
        self.merged: dict[tuple[str, bool], list[Unit]] = {}

    def own_facts(self, unit: str) -> list[Unit]:
        units = self.own.get(unit)
        if units is None:
            units = self.own[unit] = _read_units(unit, self.profile)
        return units

    def with_enterprise(self, unit: str, has_award: bool) -> list[Unit]:
        units = self.merged.get((unit, has_award))
        if units is None:
            base_facts = self.base_facts
            units = self.merged[(unit, has_award)] = [
                (unit_id, name, {**base_facts, **facts, "history.has_award_for_scheme": has_award})
                for unit_id, name, facts in self.own_facts(unit)]
        return units


# a scheme whose unit the profile lacks: one placeholder result, failing this (label zh, en, the value shown)
NO_UNIT = {
    "project": ("申报主体有相关项目", "Has a project", "0 个项目"),
    "loan": ("申报主体有贷款", "Has a loan", "0 笔贷款"),
    "fund": ("申报主体是政府投资基金", "Is a government investment fund", "无基金信息"),
    "fund_investment": ("基金有投资项目", "The fund has investments", "无投资项目"),
}


def _placeholder(plan: SchemePlan, version: Any, version_texts: tuple[str | None, str | None],
                 order: int) -> Result:
    scheme = plan.scheme
    label_zh, label_en, actual = NO_UNIT[scheme.unit]
    status = _NOT_IN_FORCE if version is None else _INELIGIBLE
    return Result(scheme.id, scheme.unit, None, None, status, None, [_implicit(label_zh, label_en, _FAILED, actual)],
                  [], None, False, None, None, None, None, scheme.stacking_group, version_texts[0], version_texts[1],
                  list(plan.notes), {}, None, order)


# --- the evaluator ------------------------------------------------------------------------------------------


def unknown_scheme_problem(scheme_id: str, path: str) -> Problem:
    return Problem(path,
                   f"未知的方案“{scheme_id}”：不是方案目录中的方案编号（方案列表：incentives schemes list 或 "
                   "GET /api/v1/schemes）；已获资助只用于累计上限，目录外方案的资助不必填写",
                   f"unknown scheme '{scheme_id}': not a scheme id of the catalogue (the list: incentives schemes "
                   "list, or GET /api/v1/schemes); awards only count against caps, so awards under other schemes "
                   "need not be listed")


def parse_for_evaluation(data: Any, cat: Catalogue | None = None) -> Profile:
    """parse_profile, and the awards' schemes checked against the catalogue, every problem in one round.

    An award under a scheme the catalogue lacks would count against no cap, so a mistyped scheme id would
    silently show headroom the enterprise no longer has: refused, naming it. The check reads the document
    itself, so it is reported together with the profile's other problems, not after they are fixed."""
    known = (cat or bundled_catalogue()).scheme_document
    awards = data.get("awards") if isinstance(data, dict) else None
    unknown = [unknown_scheme_problem(award["scheme_id"], f"$.awards[{index}].scheme_id")
               for index, award in enumerate(awards if isinstance(awards, list) else [])
               if isinstance(award, dict) and isinstance(award.get("scheme_id"), str)
               and award["scheme_id"] not in known]
    try:
        profile = parse_profile(data)
    except InputError as error:
        raise InputError(error.problems + unknown) from None
    if unknown:
        raise InputError(unknown)
    return profile


def evaluate(profile: Profile, as_of: date, cat: Catalogue | None = None) -> Evaluation:
    """Evaluate every scheme in the catalogue for this profile on this date."""
    cat = cat or bundled_catalogue()
    enterprise = profile.enterprise
    industry = industry_table.lookup(enterprise.industry_code) if enterprise.industry_code else None
    size = classify(cat.sme_sizes, enterprise, industry.section if industry else None)
    base_facts = enterprise_facts(enterprise, size, profile.projects, as_of, profile.loans)
    results: list[Result] = []
    units = _Units(profile, base_facts)
    # an award dated after the evaluation date had not been received on that date
    awarded = {a.scheme_id for a in profile.awards if a.date <= as_of}
    for order, plan in enumerate(_catalogue_plans(cat)):
        version, version_texts = _version_on(plan, as_of)
        scheme = plan.scheme
        if plan.pay is None:  # the loan interest subsidy (loan_tracks.py)
            if profile.loans:
                loan_facts = [facts for _, _, facts in units.own_facts("loan")]
                results += interest_subsidy(plan, version, version_texts, profile, base_facts, as_of, order,
                                            loan_facts)
            else:
                results.append(_placeholder(plan, version, version_texts, order))
            continue
        unit_facts = units.with_enterprise(scheme.unit, scheme.id in awarded)
        if not unit_facts:
            results.append(_placeholder(plan, version, version_texts, order))
            continue
        _evaluate_units(plan, version, version_texts, unit_facts, profile, as_of, order, cat, results)
    _apply_stacking(results)
    _note_later_awards(results, profile, as_of)
    # the results are in catalogue order already: each scheme's follow the previous scheme's
    return Evaluation(as_of, cat.rules_version, profile, size, results, cat)


def _note_later_awards(results: list[Result], profile: Profile, as_of: date) -> None:
    """Awards dated after the evaluation date are not counted (not yet received then); each result of their
    scheme says so, with the dates, so a mistyped date does not go unnoticed."""
    later: dict[str, list[str]] = {}
    for award in profile.awards:
        if award.date > as_of:
            later.setdefault(award.scheme_id, []).append(award.date.isoformat())
    for result in results if later else ():
        dates = later.get(result.scheme_id)
        if dates:
            listed = sorted(set(dates))
            result.notes.append({"kind": "note",
                                 "zh": f"已获资助记录中有日期晚于评估日的本方案资助（{'、'.join(listed)}），本次评估未计入；"
                                       "若日期有误请更正",
                                 "en": f"awards of this scheme dated after the evaluation date ({', '.join(listed)}) are "
                                       "not counted; correct the dates if they are typos"})


def _evaluate_units(plan: SchemePlan, version: Any, version_texts: tuple[str | None, str | None],
                    units: list[Unit], profile: Profile, as_of: date, order: int, cat: Catalogue,
                    results: list[Result]) -> None:
    """One result per unit of a scheme, appended to `results`."""
    # the enterprise-only conditions read the enterprise's facts and the scheme's award flag only: the same for
    # every unit, so evaluated once, with what they already decide (a failed one makes every unit ineligible)
    template: list[ConditionResult | None] = [None] * len(plan.conditions)
    first_facts = units[0][2]
    shared = []
    for index, run in plan.shared_conditions:
        found = template[index] = run(first_facts)
        shared.append(found)
    shared_failed, shared_unknown = worse(shared, False, False)
    unit_conditions, notes, pay = plan.unit_conditions, plan.notes, plan.pay
    scheme = plan.scheme
    scheme_id, unit_kind, stacking_group = scheme.id, scheme.unit, scheme.stacking_group
    version_from, version_until = version_texts
    for unit_id, unit_name, facts in units:
        conditions = template.copy()
        own = []
        for index, run in unit_conditions:
            found = conditions[index] = run(facts)
            own.append(found)
        failed, unknown = worse(own, shared_failed, shared_unknown)
        status = status_from(version, failed, unknown)
        # positional: this runs for every scheme and unit, and keyword arguments cost more to match
        result = Result(scheme_id, unit_kind, unit_id, unit_name, status, None, conditions, [], None, False, None,
                        None, None, None, stacking_group, version_from, version_until, list(notes), {}, None, order)
        results.append(result)
        if status is _INELIGIBLE or status is _NOT_IN_FORCE:
            continue  # nothing is computed, so the conditions and the status stay as they are
        checked = len(conditions)
        pay(result, scheme, version, facts, profile, as_of, cat)
        # the conditions the arithmetic added can only make the status worse
        failed, unknown = worse(result.conditions[checked:], failed, unknown)
        result.status = status = status_from(version, failed, unknown)
        if status is _INELIGIBLE:
            result.amount_fen = None


def _fill(result: Result, computation: Computation) -> None:
    result.amount_fen = computation.amount_fen
    result.steps = list(computation.steps)
    result.cap_fen = computation.cap_fen
    result.binding_cap = computation.binding_cap
    result.headroom_fen = computation.headroom_fen
    result.rate = computation.rate
    result.base_fen = computation.base_fen


def _relending(result: Result, scheme: Relending, version: Any, facts: dict[str, Any], profile: Profile,
               as_of: date, cat: Catalogue) -> None:
    tool = _tool(cat.rates, version.tool)
    try:
        entry = rate_entry_on(tool, version.tenor, as_of)
    except RateLookupError as error:
        result.notes.append({"kind": "error", "zh": error.zh, "en": error.en})
        return
    rate_step, extra = _rate_texts(tool, version.tenor, entry)
    result.steps.append(rate_step)
    result.extra.update(extra)
    share = version.share_of_principal
    principal = facts.get("loan.principal_fen")
    if share is not None and principal is not None:
        refinanced = apply_rate(principal, share.rate, version.rounding)
        label_zh, label_en = _share_labels(share)
        result.steps.insert(0, Step("贷款本金", "loan principal", amount_fen=principal))
        result.steps.insert(1, Step(label_zh, label_en, amount_fen=refinanced, cite=share.cite))
        result.extra["relending_principal_fen"] = refinanced


# (id(rate table), tool id) -> (rate table, tool): the table is kept so an id is never reused while it is cached
_TOOLS: dict[tuple[int, str], tuple[Any, Any]] = {}


def _tool(table: Any, tool_id: str) -> Any:
    """find_tool, looked up once per rate table and tool (an unknown tool is looked up, and fails, every time)."""
    found = _TOOLS.get((id(table), tool_id))
    if found is None or found[0] is not table:
        tool = find_tool(table, tool_id)
        if len(_TOOLS) >= 10_000:  # many catalogues built in one process (tests): start again
            _TOOLS.clear()
        found = _TOOLS[(id(table), tool_id)] = (table, tool)
    return found[1]


# id(share) -> (share, labels): a relending version's share of the principal, as its step reads; the share is kept
# so an id is never reused while it is cached
_SHARE_LABELS: dict[int, tuple[Any, tuple[str, str]]] = {}


def _share_labels(share: Any) -> tuple[str, str]:
    found = _SHARE_LABELS.get(id(share))
    if found is None or found[0] is not share:
        percent = format_rate(share.rate)
        if len(_SHARE_LABELS) >= 10_000:  # many catalogues built in one process (tests): start again
            _SHARE_LABELS.clear()
        found = _SHARE_LABELS[id(share)] = (share, (f"人民银行按本金的{percent}提供再贷款",
                                                    f"PBoC refinances {percent} of the principal"))
    return found[1]


# (id(tool), tenor, id(entry)) -> (tool, entry, texts): a rate table entry's step and result fields, written once
# per entry of the rate table; the tool and entry are kept so an id is never reused while it is cached
_RATE_TEXTS: dict[tuple[int, str, int], tuple[Any, Any, tuple[Step, dict[str, Any]]]] = {}


def _rate_texts(tool: Any, tenor: str, entry: Any) -> tuple[Step, dict[str, Any]]:
    """The relending rate's step (immutable, so shared) and the result's fields (copied into each result)."""
    key = (id(tool), tenor, id(entry))
    found = _RATE_TEXTS.get(key)
    if found is None or found[0] is not tool or found[1] is not entry:
        rate = entry.values[tenor]
        step = Step(f"{tool.name_zh}（{tenor}）利率，自{entry.from_}起", f"{tool.name_en} ({tenor}) rate, effective {entry.from_}",
                    value=format_rate(Decimal(rate)), cite=entry.cite)
        extra = {"tool": tool.id, "tenor": tenor, "relending_rate": rate, "rate_effective_from": entry.from_.isoformat()}
        if len(_RATE_TEXTS) >= 10_000:  # many catalogues built in one process (tests): start again
            _RATE_TEXTS.clear()
        found = _RATE_TEXTS[key] = (tool, entry, (step, extra))
    return found[2]


def _deadline(result: Result, scheme: Deadline, version: Any, facts: dict[str, Any], profile: Profile, as_of: date,
              cat: Catalogue) -> None:
    if scheme.event == "quarter_end":
        event = quarter_end(as_of)
    else:
        event = facts[scheme.event]
    if event is None:
        result.conditions.append(_implicit(f"已填写{scheme.event_label_zh}", f"{scheme.event_label_en} is given",
                                           Outcome.unknown, confirm=(f"请填写{scheme.event_label_zh}",
                                                                     f"Please give the {scheme.event_label_en}")))
        return
    try:
        answer = deadline_for_version(version, event, set_up_on=facts.get("fund.established_date"))
    except CalendarNotPublished as error:
        # never a Monday-to-Friday guess: the deadline stays open until the calendar is published
        result.conditions.append(_implicit(f"{error.year}年节假日安排已发布", f"the {error.year} holiday calendar is published",
                                           Outcome.unknown, None, (error.zh, error.en)))
        result.extra.update({"event_date": event.isoformat(), "deadline": None})
        return
    legacy = answer.from_legacy_event
    period = version.working_days or version.months
    unit_zh, unit_en = ("个工作日", "working days") if version.working_days else ("个月", "months")
    result.steps.append(Step(f"起算日：{scheme.event_label_zh}" + ("（办法印发前已设立，按印发日起算）" if legacy else ""),
                             f"counted from: {scheme.event_label_en}" + (" (set up before the rules: from their issue date)" if legacy else ""),
                             value=answer.event.isoformat()))
    result.steps.append(Step(f"{period.value}{unit_zh}内", f"within {period.value} {unit_en}",
                             value=answer.deadline.isoformat(), cite=period.cite))
    result.extra.update({"event_date": answer.event.isoformat(), "deadline": answer.deadline.isoformat(),
                         "working_days": [d.isoformat() for d in answer.working_days],
                         "is_overdue": answer.deadline < as_of})
    result.notes.append(deadline_note(answer.deadline, as_of))


def _compliance(result: Result, scheme: Compliance, version: Any, facts: dict[str, Any], profile: Profile,
                as_of: date, cat: Catalogue) -> None:
    violations = []
    for rule in version.rules:
        check = evaluate_condition(rule.violation_when, facts)
        outcome = {Outcome.met: Outcome.failed, Outcome.failed: Outcome.met}.get(check.outcome, Outcome.unknown)
        result.conditions.append(ConditionResult(f"未{rule.label_zh}" if not rule.label_zh.startswith("不") else rule.label_zh,
                                                 f"No {rule.label_en}", outcome, None, rule.cite,
                                                 children=(check,)))
        if check.outcome is Outcome.met:
            violations.append({"rule": rule.id, "label_zh": rule.label_zh, "label_en": rule.label_en,
                               "cite": rule.cite.as_dict()})
    result.violations = violations


# --- stacking -----------------------------------------------------------------------------------------------


def _apply_stacking(results: list[Result]) -> None:
    """从优、就高、不重复: in each stacking group, each unit keeps only its highest award; the rest are superseded."""
    # only the results with an amount to pay compete; the others are left as they are
    groups: dict[tuple[str, str, str | None], list[Result]] = {}
    for result in results:
        if (result.amount_fen is not None and result.stacking_group and result.unit_id is not None
                and (result.status is _ELIGIBLE or result.status is _NEEDS_CONFIRMATION)):
            # a project and a loan may share an id; they are different units
            groups.setdefault((result.stacking_group, result.unit_kind, result.unit_id), []).append(result)
    for candidates in groups.values():
        if len(candidates) < 2:
            continue
        winner = max(candidates, key=lambda r: (r.amount_fen, r.status is _ELIGIBLE, -r.order))
        for result in candidates:
            if result is not winner:
                result.status = Status.superseded
                result.superseded_by = winner.scheme_id
