"""Profile + evaluation date -> one result per scheme and unit, stacking (从优、就高、不重复) and totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from . import industry as industry_table
from .calculators.capped_history import annual_percent_with_cap, cumulative_cap
from .calculators.deadline import deadline_for_version
from .calculators.fixed_award import award_up_to_cap, fixed_award
from .calculators.interest_subsidy import allocate_annual_cap, segment_steps, still_due, subsidy_segments
from .calculators.percent_of_base import percent_of_base
from .calculators.rate_table import RateLookupError, find_tool, rate_entry_on
from .conditions import ConditionResult, Evaluator, Outcome, compiled, evaluate as evaluate_condition, leaves
from .dates import quarter_end
from .errors import CalendarNotPublished, InputError, Problem
from .facts import ALL_UNITS, FACTS, enterprise_facts, fund_facts, investment_facts, loan_facts, project_facts
from .money import apply_rate, format_rate, grouped_yuan
from .profile import IMPLAUSIBLE_RATE, Profile, parse_profile
from .results import Computation, Result, Status, Step
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


def _worse(conditions: list[ConditionResult], failed: bool, unknown: bool) -> tuple[bool, bool]:
    """(failed, unknown) once these conditions are taken into account too."""
    for condition in conditions:
        outcome = condition.outcome
        if outcome is _FAILED:
            failed = True
        elif outcome is _UNKNOWN:
            unknown = True
    return failed, unknown


def _status_from(version: Any, failed: bool, unknown: bool) -> Status:
    if version is None:
        return _NOT_IN_FORCE
    if failed:
        return _INELIGIBLE
    return _NEEDS_CONFIRMATION if unknown else _ELIGIBLE


def _version_on(plan: _SchemePlan, on: date) -> tuple[Any, tuple[str | None, str | None]]:
    """The scheme's version in force on `on` with its (version_from, version_until) texts; (None, (None, None))
    when none is."""
    for from_, until, found in plan.versions:
        if from_ <= on and (until is None or on <= until):
            return found
    return _NO_VERSION


@dataclass(frozen=True, slots=True)
class _SchemePlan:
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
    # loan conditions (see _track_runs)
    loan_runs: tuple[Evaluator, ...]
    track_runs: tuple[tuple[tuple[Evaluator, ...], tuple[Evaluator, ...]], ...]
    # the loan interest subsidy's issue window condition per version: id(version) -> (labels, cite)
    issue_windows: dict[int, tuple[str, str, Any]]
    pay: Any  # fills in the amount of a unit that meets the conditions (one function per kind), or None


_PLANS: dict[int, _SchemePlan] = {}


def _scheme_plan(scheme: Scheme) -> _SchemePlan:
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
        track_runs = tuple(_track_runs(track) for track in getattr(scheme, "tracks", ()))
        issue_windows = {id(v): (f"贷款在{v.issued_from}至{v.issued_until}期间新发放",
                                 f"Loan newly issued between {v.issued_from} and {v.issued_until}", v.issue_window_cite)
                         for v in scheme.versions if isinstance(scheme, LoanInterestSubsidy)}
        plan = _SchemePlan(scheme, conditions, shared_conditions, unit_conditions, tuple(notes), versions,
                           loan_runs, track_runs, issue_windows, _pay_for(scheme))
        if len(_PLANS) >= 10_000:  # many catalogues built in one process (tests): start again
            _PLANS.clear()
        _PLANS[id(scheme)] = plan
    return plan


# id(catalogue) -> (catalogue, its schemes' plans in catalogue order); the catalogue is kept in the entry so an
# id is never reused while it is cached
_CATALOGUE_PLANS: dict[int, tuple[Catalogue, tuple[_SchemePlan, ...]]] = {}


def _catalogue_plans(cat: Catalogue) -> tuple[_SchemePlan, ...]:
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
    # a scheme paid again each year has a yearly cap: what it paid this year is no longer available
    yearly = {} if scheme.one_off else {"already_this_year_fen": _awards(profile, scheme.id, as_of, unit_id,
                                                                          year=as_of.year), "year": as_of.year}
    if scheme.base is None:
        return award_up_to_cap(version.cap.fen, cite=version.cap.cite, **yearly), [], {"is_upper_bound": True}
    base, check = _base(facts, scheme.base, scheme.base_label_zh or "", scheme.base_label_en or "")
    if base is None:
        return None, [check], {}
    return (award_up_to_cap(version.cap.fen, base, base_label=(scheme.base_label_zh or "", scheme.base_label_en or ""),
                            cite=version.cap.cite, **yearly), [check], {"is_upper_bound": True})


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
        return None, [_implicit("属于支持的产业类别", "in a supported industry tier", Outcome.failed,
                                ", ".join(categories) or "—")], {}
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


_NO_UNIT = {
    "project": ("申报主体有相关项目", "the profile has a project", "0 个项目"),
    "loan": ("申报主体有贷款", "the profile has a loan", "0 笔贷款"),
    "fund": ("申报主体是政府投资基金", "the profile describes a government investment fund", "无基金信息"),
    "fund_investment": ("基金有投资项目", "the fund has investments", "无投资项目"),
}


def _placeholder(plan: _SchemePlan, version: Any, version_texts: tuple[str | None, str | None],
                 order: int) -> Result:
    scheme = plan.scheme
    label_zh, label_en, actual = _NO_UNIT[scheme.unit]
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
    base_facts = enterprise_facts(enterprise, size, profile.projects, as_of)
    results: list[Result] = []
    units = _Units(profile, base_facts)
    # an award dated after the evaluation date had not been received on that date
    awarded = {a.scheme_id for a in profile.awards if a.date <= as_of}
    for order, plan in enumerate(_catalogue_plans(cat)):
        version, version_texts = _version_on(plan, as_of)
        scheme = plan.scheme
        if plan.pay is None:
            results += _interest_subsidy(plan, version, version_texts, profile, base_facts, as_of, order, units)
            continue
        unit_facts = units.with_enterprise(scheme.unit, scheme.id in awarded)
        if not unit_facts:
            results.append(_placeholder(plan, version, version_texts, order))
            continue
        _evaluate_units(plan, version, version_texts, unit_facts, profile, as_of, order, cat, results)
    _apply_stacking(results)
    # the results are in catalogue order already: each scheme's follow the previous scheme's
    return Evaluation(as_of, cat.rules_version, profile, size, results, cat)


def _evaluate_units(plan: _SchemePlan, version: Any, version_texts: tuple[str | None, str | None],
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
    shared_failed, shared_unknown = _worse(shared, False, False)
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
        failed, unknown = _worse(own, shared_failed, shared_unknown)
        status = _status_from(version, failed, unknown)
        # positional: this runs for every scheme and unit, and keyword arguments cost more to match
        result = Result(scheme_id, unit_kind, unit_id, unit_name, status, None, conditions, [], None, False, None,
                        None, None, None, stacking_group, version_from, version_until, list(notes), {}, None, order)
        results.append(result)
        if status is _INELIGIBLE or status is _NOT_IN_FORCE:
            continue  # nothing is computed, so the conditions and the status stay as they are
        checked = len(conditions)
        pay(result, scheme, version, facts, profile, as_of, cat)
        # the conditions the arithmetic added can only make the status worse
        failed, unknown = _worse(result.conditions[checked:], failed, unknown)
        result.status = status = _status_from(version, failed, unknown)
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


# --- the loan interest subsidy: tracks, 12-month windows, the per-enterprise yearly cap ---------------------


def _interest_subsidy(plan: _SchemePlan, version: Any, version_texts: tuple[str | None, str | None],
                      profile: Profile, base_facts: dict[str, Any], as_of: date, order: int,
                      units: _Units) -> list[Result]:
    if not profile.loans:
        return [_placeholder(plan, version, version_texts, order)]
    scheme = plan.scheme
    common = [run(base_facts) for run, _ in plan.conditions]
    paid: dict[int, int] = {}  # per year, against the enterprise's yearly cap
    received: dict[str, int] = {}  # per loan, against the loan's own subsidy
    for award in profile.awards:
        if award.scheme_id == scheme.id and award.date <= as_of:
            paid[award.date.year] = paid.get(award.date.year, 0) + award.amount_fen
            if award.unit_id is not None:
                received[award.unit_id] = received.get(award.unit_id, 0) + award.amount_fen
    loans = [_LoanCheck(plan, version, loan, {**base_facts, **facts}, received.get(loan.id, 0))
             for loan, (_, _, facts) in zip(profile.loans, units.own_facts("loan"))]
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
    note_zh = f"按“{track.label_zh}”路径计算"
    note_en = f"Evaluated on the '{track.label_en}' track"
    others = [o for o in options if o is not best]
    if others:
        note_zh += "（企业只能选择一个路径，取较优者；" + "；".join(
            f"{scheme.tracks[o.index].label_zh}路径可获 {grouped_yuan(o.potential)} 元" for o in others) + "）"
        note_en += " (an enterprise joins one track; the better one is chosen; " + "; ".join(
            f"{scheme.tracks[o.index].label_en}: {grouped_yuan(o.potential)} yuan" for o in others) + ")"
    fallbacks = _fallbacks(best, options, version, paid)
    _explain_subsidies(best.pending + [(result, loan, segments) for result, loan, segments, _, _ in fallbacks],
                       best.allocated, best.cap, version, paid, {check.loan.id: check for check in loans})
    track_note = {"kind": "track", "zh": note_zh, "en": note_en}
    rates = {loan.id: loan.annual_rate for loan in profile.loans}
    results = list(best.results)
    for result in best.results:
        result.notes = [track_note, *plan.notes, *_implausible_rate_note(rates.get(result.unit_id))]
        result.extra["track"] = track.id
        if version is None:
            result.status, result.amount_fen = _NOT_IN_FORCE, None
    for result, _, _, index, position in fallbacks:
        other = scheme.tracks[index]
        result.notes = [_fallback_note(track, other), *plan.notes, *_implausible_rate_note(rates.get(result.unit_id))]
        result.extra["track"] = other.id
        results[position] = result
    return results


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


def _fallback_note(chosen: Any, other: Any) -> dict[str, str]:
    return {"kind": "other_track",
            "zh": f"按“{chosen.label_zh}”路径本笔贷款不符合；若企业可按“{other.label_zh}”路径申报，本笔贷款可能获得贴息，"
                  f"需确认。企业只能选择一个路径：金额按“{chosen.label_zh}”路径各笔贷款用后所余的年度上限额度计算",
            "en": f"Not subsidised on the '{chosen.label_en}' track; it may be on the '{other.label_en}' track, to be "
                  f"confirmed. An enterprise joins one track: the amount is what the yearly cap leaves after the "
                  f"'{chosen.label_en}' track's loans"}


def _implausible_rate_note(rate: Decimal | None) -> list[dict[str, str]]:
    """A check note for a loan rate above profile.IMPLAUSIBLE_RATE: evaluated as given, but likely mistyped."""
    if rate is None or rate <= IMPLAUSIBLE_RATE:
        return []
    shown = format_rate(rate)
    return [{"kind": "check", "zh": f"年利率 {shown} 高于 24%，请核对（如 4.5% 是否写成了 0.45）；已按所填利率计算",
             "en": f"an annual rate of {shown} is above 24%: please check (is 4.5% written as 0.45?); computed as given"}]


class _LoanCheck:
    """What is the same for a loan on every track: the issue window and the scheme's loan conditions (with
    what they decide about the status), and the loan's subsidy before the yearly cap, less what it already
    received, worked out when a track first needs it."""

    __slots__ = ("loan", "facts", "conditions", "failed", "unknown", "version", "received", "_segments", "_due")

    def __init__(self, plan: _SchemePlan, version: Any, loan: Any, facts: dict[str, Any], received: int):
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
        failed, unknown = _worse(own, failed, unknown)
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


def _track_runs(track: Any) -> tuple[tuple[Evaluator, ...], tuple[Evaluator, ...]]:
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


def _track_option(plan: _SchemePlan, version: Any, version_texts: tuple[str | None, str | None], index: int,
                  base_facts: dict[str, Any], common: list[ConditionResult], paid: dict[int, int], order: int,
                  loans: list[_LoanCheck]) -> _TrackOption:
    scheme_id = plan.scheme.id
    enterprise_runs, loan_runs = plan.track_runs[index]
    enterprise_conditions = common + [run(base_facts) for run in enterprise_runs]
    enterprise_failed, enterprise_unknown = _worse(enterprise_conditions, False, False)
    version_from, version_until = version_texts
    pending: list[tuple[Result, Any, list[Any]]] = []
    results = []
    for check in loans:
        own = [run(check.facts) for run in loan_runs]
        failed, unknown = _worse(own, enterprise_failed or check.failed, enterprise_unknown or check.unknown)
        conditions = enterprise_conditions + check.conditions + own
        # a version not in force is set on the chosen track's results afterwards (see _interest_subsidy)
        status = _status_from(True, failed, unknown)
        loan = check.loan
        # notes are the chosen track's only (see _interest_subsidy); not in a stacking group
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
        result.headroom_fen = min((cap - used[year] for year in used), default=cap)
        result.binding_cap = any(granted[s.year] < s.subsidy_fen for s in segments)
        result.rate = format(version.share.rate, "f")
        result.extra["by_year_fen"] = {str(year): amount for year, amount in sorted(granted.items())}
        result.extra["already_paid_by_year_fen"] = {str(y): paid.get(y, 0) for y in sorted(granted)}
        result.steps.insert(0, Step("企业年度贴息上限", "annual cap per enterprise", amount_fen=cap,
                                    cite=version.annual_cap_per_enterprise.cite))


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
