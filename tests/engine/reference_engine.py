"""The scalar engine as first written, kept as the reference its prepared paths are tested against (the parts
that have not changed since are imported from the engine).

Conditions are interpreted from the tree (`reference_condition`) instead of compiled, every note is copied,
every track is explained in full, and the facts and the size class are read the long way, as first written.
tests/engine/test_reference_engine.py checks that `incentives.evaluate` answers exactly as this does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from incentives import industry as industry_table
from incentives.calculators.capped_history import annual_percent_with_cap, cumulative_cap
from incentives.calculators.deadline import deadline_for_version, deadline_note
from incentives.calculators.fixed_award import award_up_to_cap, fixed_award
from incentives.calculators.interest_subsidy import allocate_annual_cap, segment_steps, still_due, subsidy_segments
from incentives.calculators.percent_of_base import percent_of_base
from incentives.calculators.rate_table import RateLookupError, find_tool, rate_entry_on
from incentives.conditions import AllOf, ConditionResult, Leaf, NotOf, Outcome, kleene_all, kleene_any, leaves
from incentives.dates import add_months, quarter_end
from incentives.errors import CalendarNotPublished
from incentives.facts import ALL_UNITS, FACTS
from incentives.money import apply_rate, fen_to_yuan, format_rate
from incentives.profile import Enterprise, Profile, Project, Loan, Region
from incentives.results import Computation, Result, Status, Step
from incentives.scheme_files import (
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
    SizeBounds,
    SmeSizeFile,
    TieredPercentOfBase,
)
from incentives.schemes import Catalogue, catalogue as bundled_catalogue
from incentives.sme_size import _LABELS, SizeClassification, category_for

# the parts the engine still has as first written are its own: only what has changed is kept here
from incentives.conditions import _show
from incentives.evaluate import Evaluation, _awards, _fill, _implicit, _note_later_awards, _tiered
from incentives.loan_tracks import (chosen_track_note, implausible_rate_note, other_track_note, over_received_note,
                                    window_ended_note)
from incentives.facts import fund_facts
from incentives.sme_size import _describe_bounds, _threshold

Evaluator = Any


# --- conditions, interpreted from the tree --------------------------------------------------------------------


def reference_condition(condition: Any, facts: dict[str, Any]) -> ConditionResult:
    """A condition's result read straight off the tree (no `text`: that is the compiled form's)."""
    if isinstance(condition, Leaf):
        value = facts[condition.field]
        label_zh, label_en = condition.label_zh or "", condition.label_en or ""
        if value is None:
            outcome = Outcome.unknown
        else:
            outcome = Outcome.met if _test(condition.operator, condition.operand, value) else Outcome.failed
        return ConditionResult(label_zh, label_en, outcome, _show(value), condition.cite, condition.confirm_zh,
                               condition.confirm_en)
    if isinstance(condition, NotOf):
        inner = reference_condition(condition.not_, facts)
        outcome = {Outcome.met: Outcome.failed, Outcome.failed: Outcome.met}.get(inner.outcome, Outcome.unknown)
        return ConditionResult(condition.label_zh or f"并非：{inner.label_zh}", condition.label_en or f"Not: {inner.label_en}",
                               outcome, None, condition.cite or inner.cite, condition.confirm_zh, condition.confirm_en,
                               (inner,))
    is_all = isinstance(condition, AllOf)
    children = tuple(reference_condition(child, facts) for child in (condition.all if is_all else condition.any))
    joiner_zh, joiner_en = ("且", " and ") if is_all else ("或", " or ")
    outcome = (kleene_all if is_all else kleene_any)([child.outcome for child in children])
    return ConditionResult(condition.label_zh or joiner_zh.join(c.label_zh for c in children),
                           condition.label_en or joiner_en.join(c.label_en for c in children), outcome, None,
                           condition.cite, condition.confirm_zh, condition.confirm_en, children)


def _interpreted(condition: Any) -> Any:
    return lambda facts: reference_condition(condition, facts)


def _test(operator: str, operand: Any, value: Any) -> bool:
    if operator == "equals":
        return value == operand
    if operator == "not_equals":
        return value != operand
    if operator == "in_":
        return value in operand
    if operator == "not_in":
        return value not in operand
    if operator == "contains":
        return operand in value
    if operator == "contains_any":
        return any(item in value for item in operand)
    if operator == "gte":
        return value >= operand
    if operator == "gt":
        return value > operand
    if operator == "lte":
        return value <= operand
    if operator == "lt":
        return value < operand
    if operator == "is_":
        return bool(value) is operand
    raise AssertionError(operator)


# --- facts, read the long way ---------------------------------------------------------------------------------


def _value(item: Any) -> Any:
    return getattr(item, "value", item)


def _region(prefix: str, region: Region | None) -> dict[str, Any]:
    if region is None:
        return {f"{prefix}.province": None, f"{prefix}.city": None, f"{prefix}.district": None}
    return {f"{prefix}.province": region.province, f"{prefix}.city": region.city, f"{prefix}.district": region.district}


def enterprise_facts(
    enterprise: Enterprise, size: SizeClassification, projects: list[Project], as_of: date, loans: list = ()
) -> dict[str, Any]:
    industry = industry_table.lookup(enterprise.industry_code) if enterprise.industry_code else None
    facts: dict[str, Any] = {
        "as_of": as_of,
        **_region("enterprise.region", enterprise.region),
        "enterprise.industry_code": enterprise.industry_code,
        "enterprise.industry_section": industry.section if industry else None,
        "enterprise.ownership": _value(enterprise.ownership) if enterprise.ownership else None,
        "enterprise.employees": enterprise.employees,
        "enterprise.revenue_fen": enterprise.revenue_fen,
        "enterprise.total_assets_fen": enterprise.total_assets_fen,
        "enterprise.rd_spend_fen": enterprise.rd_spend_fen,
        "enterprise.size_class": size.size_class,
        "enterprise.is_sme": None if size.size_class is None else size.size_class != "large",
        "enterprise.has_projects_with_activity": tuple(
            sorted({_value(activity) for project in projects for activity in project.activities})
        ),
        "enterprise.pilot_service_fees_fen": _sum_pilot_fees(projects),
        "enterprise.loan_count": sum(1 for _ in loans),
    }
    for name, value in enterprise.certifications:
        facts[f"enterprise.certifications.{name}"] = value
    for name, value in enterprise.declarations:
        facts[f"enterprise.declarations.{name}"] = value
    return facts


def _sum_pilot_fees(projects: list[Project]) -> int | None:
    """Pilot-service fees over the projects that buy pilot services; unknown if any such fee is unknown."""
    buying = [p for p in projects if any(_value(a) == "pilot_services" for a in p.activities)]
    if not buying:
        return 0
    if any(p.pilot_service_fees_fen is None for p in buying):
        return None
    return sum(p.pilot_service_fees_fen or 0 for p in buying)


def project_facts(project: Project) -> dict[str, Any]:
    return {
        "project.activities": tuple(_value(a) for a in project.activities),
        "project.fields": tuple(_value(f) for f in project.fields),
        **_region("project.location", project.location),
        "project.total_input_fen": project.total_input_fen,
        "project.rd_input_fen": project.rd_input_fen,
        "project.challenge_amount_fen": project.challenge_amount_fen,
        "project.annual_operating_expenses_fen": project.annual_operating_expenses_fen,
        "project.pilot_service_fees_fen": project.pilot_service_fees_fen,
        "project.is_independent_legal_entity": project.is_independent_legal_entity,
        "project.is_new": project.is_new,
    }


def loan_facts(loan: Loan) -> dict[str, Any]:
    region = _region("loan.region_of_use", loan.region_of_use)
    del region["loan.region_of_use.district"]
    return {
        "loan.principal_fen": loan.principal_fen,
        "loan.annual_rate": loan.annual_rate,
        "loan.issue_date": loan.issue_date,
        "loan.maturity_date": loan.maturity_date,
        "loan.loan_type": _value(loan.loan_type) if loan.loan_type else None,
        "loan.purpose": _value(loan.purpose) if loan.purpose else None,
        **region,
        "loan.claimed_under_other_policy": loan.claimed_under_other_policy,
        "loan.for_tech_upgrade_project": loan.for_tech_upgrade_project,
    }


def investment_facts(investment: FundInvestment) -> dict[str, Any]:
    return {
        "investment.industry_catalogue": _value(investment.industry_catalogue) if investment.industry_catalogue else None,
        "investment.is_disguised_debt": investment.is_disguised_debt,
        "investment.is_public_stock_trading": investment.is_public_stock_trading,
        "investment.public_trading_kind": (
            _value(investment.public_trading_kind) if investment.public_trading_kind else None
        ),
        "investment.permitted_by_fund_plan": investment.permitted_by_fund_plan,
        "investment.is_derivatives_trading": investment.is_derivatives_trading,
        "investment.provides_guarantee": investment.provides_guarantee,
        "investment.bears_unlimited_liability": investment.bears_unlimited_liability,
    }


# --- the size class -------------------------------------------------------------------------------------------


def _figures(enterprise: Enterprise) -> dict[str, int | None]:
    return {
        "employees": enterprise.employees,
        "revenue_wan": enterprise.revenue_fen,
        "assets_wan": enterprise.total_assets_fen,
    }


def _compare(figures: dict[str, int | None], bounds: SizeBounds, below: bool) -> list[Outcome]:
    outcomes = []
    for metric in ("employees", "revenue_wan", "assets_wan"):
        bound = getattr(bounds, metric)
        if bound is None:
            continue
        value = figures[metric]
        if value is None:
            outcomes.append(Outcome.unknown)
        else:
            hit = value < _threshold(metric, bound) if below else value >= _threshold(metric, bound)
            outcomes.append(Outcome.met if hit else Outcome.failed)
    return outcomes


def classify(table: SmeSizeFile, enterprise: Enterprise, section: str | None) -> SizeClassification:
    category = category_for(table, enterprise.industry_code, section)
    figures = _figures(enterprise)
    reasons_zh = [f"行业类别：{category.label_zh}" + ("（未填写行业代码，按其他未列明行业）" if not enterprise.industry_code else "")]
    reasons_en = [f"Industry category: {category.id}" + (" (no industry code given: 'other')" if not enterprise.industry_code else "")]

    def finish(size: str | None, why_zh: str, why_en: str) -> SizeClassification:
        reasons_zh.append(why_zh)
        reasons_en.append(why_en)
        return SizeClassification(size, category.id, category.label_zh, tuple(reasons_zh), tuple(reasons_en))

    is_sme = kleene_any(_compare(figures, category.sme_if_below_any, below=True))
    sme_zh, sme_en = _describe_bounds(category.sme_if_below_any, "或", " or ", "<")
    if is_sme is Outcome.failed:
        return finish("large", f"不满足中小企业上限（{sme_zh}），为大型企业", f"Not below the SME bounds ({sme_en}): large")
    if is_sme is Outcome.unknown:
        return finish(None, f"缺少判断所需数据（{sme_zh}）", f"Missing figures to decide ({sme_en})")
    for size, bounds in (("medium", category.medium_if_all_at_least), ("small", category.small_if_all_at_least)):
        outcome = kleene_all(_compare(figures, bounds, below=False))
        text_zh, text_en = _describe_bounds(bounds, "且", " and ", "≥")
        if outcome is Outcome.met:
            label_zh, label_en = _LABELS[size]
            return finish(size, f"{text_zh}，为{label_zh}企业", f"{text_en}: {label_en}")
        if outcome is Outcome.unknown:
            return finish(None, f"缺少判断所需数据（{text_zh}）", f"Missing figures to decide ({text_en})")
    return finish("micro", "低于小型企业下限，为微型企业", "Below the small-enterprise bounds: micro")


# --- the engine -----------------------------------------------------------------------------------------------


# --- helpers ------------------------------------------------------------------------------------------------


_FAILED, _UNKNOWN = Outcome.failed, Outcome.unknown


def _status(version: Any, conditions: list[ConditionResult]) -> Status:
    outcomes = {condition.outcome for condition in conditions}
    return _status_from(version, _FAILED in outcomes, _UNKNOWN in outcomes)


def _status_from(version: Any, failed: bool, unknown: bool) -> Status:
    if version is None:
        return Status.not_in_force
    if failed:
        return Status.ineligible
    return Status.needs_confirmation if unknown else Status.eligible


def _version_on(scheme: Scheme, on: date) -> Any:
    for version in scheme.versions:
        if version.from_ <= on and (version.until is None or on <= version.until):
            return version
    return None


def _notes(scheme: Scheme) -> list[dict[str, str]]:
    return _scheme_plan(scheme).fresh_notes()


@dataclass(frozen=True, slots=True)
class _SchemePlan:
    """What can be prepared once per scheme: compiled conditions, which of them read enterprise facts only
    (the same for every unit, so evaluated once per scheme), the notes, and each version's dates as text."""
    scheme: Scheme
    conditions: tuple[tuple[Evaluator, bool], ...]
    # (position, evaluator) of the conditions that read a unit's own facts, evaluated for every unit
    unit_conditions: tuple[tuple[int, Evaluator], ...]
    notes: tuple[dict[str, str], ...]
    version_dates: dict[int, tuple[str | None, str | None]]  # by id of each of the scheme's versions
    # per track of a loan interest subsidy: its compiled enterprise and loan conditions (see _track_runs)
    track_runs: tuple[tuple[tuple[Evaluator, ...], tuple[Evaluator, ...]], ...]

    def fresh_notes(self) -> list[dict[str, str]]:
        # built once per scheme (the catalogue lives for the process); every result gets its own copies, since
        # results add notes of their own
        return [dict(note) for note in self.notes]

    def version_fields(self, version: Any) -> dict[str, Any]:
        """A result's version_from / version_until; nothing when no version is in force."""
        if version is None:
            return {}
        version_from, version_until = self.version_texts(version)
        return {"version_from": version_from, "version_until": version_until}

    def version_texts(self, version: Any) -> tuple[str | None, str | None]:
        """(version_from, version_until) as the result carries them; (None, None) when nothing is in force."""
        return (None, None) if version is None else self.version_dates[id(version)]


_PLANS: dict[int, _SchemePlan] = {}


def _scheme_plan(scheme: Scheme) -> _SchemePlan:
    plan = _PLANS.get(id(scheme))
    if plan is None or plan.scheme is not scheme:
        notes = [{"kind": "note", "zh": n.zh, "en": n.en} for n in scheme.notes]
        notes += [{"kind": "assumption", "zh": a.zh, "en": a.en, "confidence": a.confidence.value}
                  for a in scheme.assumptions]
        conditions = tuple((_interpreted(c), all(FACTS.get(leaf.field) == ALL_UNITS for leaf in leaves(c)))
                           for c in scheme.conditions)
        unit_conditions = tuple((index, run) for index, (run, enterprise_only) in enumerate(conditions)
                                if not enterprise_only)
        version_dates = {id(v): (v.from_.isoformat(), v.until.isoformat() if v.until else None)
                         for v in scheme.versions}
        track_runs = tuple(_track_runs(scheme, track) for track in getattr(scheme, "tracks", ()))
        plan = _SchemePlan(scheme, conditions, unit_conditions, tuple(notes), version_dates, track_runs)
        if len(_PLANS) >= 10_000:  # many catalogues built in one process (tests): start again
            _PLANS.clear()
        _PLANS[id(scheme)] = plan
    return plan


def _base(facts: dict[str, Any], name: str, label_zh: str, label_en: str) -> tuple[int | None, ConditionResult]:
    value = facts[name]
    if value is None:
        return None, _implicit(f"已填写{label_zh}", f"{label_en} is given", Outcome.unknown,
                               confirm=(f"请填写{label_zh}", f"Please give the {label_en}"))
    if value <= 0:
        return None, _implicit(f"{label_zh}大于0", f"{label_en} is above zero", Outcome.failed, "0")
    return value, _implicit(f"已填写{label_zh}", f"{label_en} is given", Outcome.met, f"{fen_to_yuan(value):,}")


# --- per-kind arithmetic for the simple kinds ---------------------------------------------------------------


def _compute(scheme: Scheme, version: Any, facts: dict[str, Any], profile: Profile, as_of: date,
             unit_id: str | None) -> tuple[Computation | None, list[ConditionResult], dict[str, Any]]:
    """Returns the computation (None if an input is missing), conditions it adds, and extra result fields."""
    if isinstance(scheme, PercentOfBase):
        base, check = _base(facts, scheme.base, scheme.base_label_zh, scheme.base_label_en)
        if base is None:
            return None, [check], {}
        cap = version.cap
        return percent_of_base(base, version.rate.rate, cap.fen if cap else None, version.rounding,
                               base_label=(scheme.base_label_zh, scheme.base_label_en),
                               rate_cite=version.rate.cite, cap_cite=cap.cite if cap else None), [check], {}
    if isinstance(scheme, TieredPercentOfBase):
        return _tiered(scheme, version, facts)
    if isinstance(scheme, FixedAward):
        return fixed_award(version.amount.fen, version.amount.cite), [], {}
    if isinstance(scheme, AwardUpToCap):
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
    if isinstance(scheme, AnnualPercentWithCap):
        base, check = _base(facts, scheme.base, scheme.base_label_zh, scheme.base_label_en)
        if base is None:
            return None, [check], {}
        already = _awards(profile, scheme.id, as_of, unit_id, year=as_of.year)
        return annual_percent_with_cap(base, version.rate.rate, version.annual_cap.fen, already, version.rounding,
                                       year=as_of.year, base_label=(scheme.base_label_zh, scheme.base_label_en),
                                       rate_cite=version.rate.cite, cap_cite=version.annual_cap.cite), [check], {}
    if isinstance(scheme, CumulativeCap):
        already = _awards(profile, scheme.id, as_of)
        computation = cumulative_cap(version.cap.fen, already, cite=version.cap.cite)
        if computation.amount_fen == 0:
            return None, [_implicit("累计上限尚有剩余额度", "room left under the cumulative cap", Outcome.failed, "0")], {}
        return computation, [], {"already_awarded_fen": already}
    raise AssertionError(f"no arithmetic for kind {scheme.kind}")


# --- unit enumeration ---------------------------------------------------------------------------------------


def _units(scheme: Scheme, profile: Profile,
           known: dict[str, list[tuple[str | None, str | None, dict[str, Any]]]] | None = None,
           ) -> list[tuple[str | None, str | None, dict[str, Any]]]:
    """Each unit's id, name and own facts; `known` keeps them per unit kind for one evaluation (each scheme
    only reads them)."""
    if known is None:
        return _read_units(scheme.unit, profile)
    units = known.get(scheme.unit)
    if units is None:
        units = known[scheme.unit] = _read_units(scheme.unit, profile)
    return units


def _read_units(unit: str, profile: Profile) -> list[tuple[str | None, str | None, dict[str, Any]]]:
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


_NO_UNIT = {
    "project": ("申报主体有相关项目", "Has a project", "0 个项目"),
    "loan": ("申报主体有贷款", "Has a loan", "0 笔贷款"),
    "fund": ("申报主体是政府投资基金", "Is a government investment fund", "无基金信息"),
    "fund_investment": ("基金有投资项目", "The fund has investments", "无投资项目"),
}


def _placeholder(scheme: Scheme, version: Any, order: int) -> Result:
    label_zh, label_en, actual = _NO_UNIT[scheme.unit]
    status = Status.not_in_force if version is None else Status.ineligible
    return Result(scheme.id, scheme.unit, None, None, status, None,
                  [_implicit(label_zh, label_en, Outcome.failed, actual)], notes=_notes(scheme), order=order,
                  stacking_group=scheme.stacking_group, **_scheme_plan(scheme).version_fields(version))


# --- the evaluator ------------------------------------------------------------------------------------------


def evaluate(profile: Profile, as_of: date, cat: Catalogue | None = None) -> Evaluation:
    """Evaluate every scheme in the catalogue for this profile on this date."""
    cat = cat or bundled_catalogue()
    industry = industry_table.lookup(profile.enterprise.industry_code) if profile.enterprise.industry_code else None
    size = classify(cat.sme_sizes, profile.enterprise, industry.section if industry else None)
    base_facts = enterprise_facts(profile.enterprise, size, profile.projects, as_of, profile.loans)
    results: list[Result] = []
    known_units: dict[str, list[tuple[str | None, str | None, dict[str, Any]]]] = {}
    # (id of a unit's facts, which known_units keeps alive; has an award) -> the enterprise's and the unit's
    # facts merged: built once per unit and award flag, and only ever read by the schemes
    merged_facts: dict[tuple[int, bool], dict[str, Any]] = {}
    awarded = {a.scheme_id for a in profile.awards if a.date <= as_of}
    for order, scheme in enumerate(cat.schemes):
        version = _version_on(scheme, as_of)
        if isinstance(scheme, LoanInterestSubsidy):
            results += _interest_subsidy(scheme, version, profile, base_facts, as_of, order)
            continue
        units = _units(scheme, profile, known_units)
        if not units:
            results.append(_placeholder(scheme, version, order))
            continue
        # an award dated after the evaluation date had not been received on that date
        has_award = scheme.id in awarded
        plan = _scheme_plan(scheme)
        shared: _SharedConditions | None = None  # enterprise-only conditions, evaluated for the first unit
        for unit_id, unit_name, unit_facts in units:
            key = (id(unit_facts), has_award)
            facts = merged_facts.get(key)
            if facts is None:
                facts = merged_facts[key] = {**base_facts, **unit_facts, "history.has_award_for_scheme": has_award}
            if shared is None:
                shared = _SharedConditions(plan, facts, plan.version_texts(version))
            results.append(_evaluate_unit(scheme, plan, version, facts, profile, as_of, unit_id, unit_name, order,
                                          cat, shared))
    _apply_stacking(results)
    _note_later_awards(results, profile, as_of)
    results.sort(key=lambda r: r.order)
    return Evaluation(as_of, cat.rules_version, profile, size, results, cat)


class _SharedConditions:
    """The results of a scheme's enterprise-only conditions, the same for each of its units in one evaluation
    (they read the enterprise's facts and the scheme's award flag only): evaluated once, with what they
    already decide about the status (a failed condition makes the unit ineligible whatever the others say)."""

    __slots__ = ("template", "failed", "unknown", "version_texts")

    def __init__(self, plan: _SchemePlan, facts: dict[str, Any], version_texts: tuple[str | None, str | None]):
        self.version_texts = version_texts  # the scheme's version in force, as its results carry it
        # a unit's own conditions fill the None slots, in the scheme's order
        self.template: list[ConditionResult | None] = [run(facts) if enterprise_only else None
                                                       for run, enterprise_only in plan.conditions]
        outcomes = {c.outcome for c in self.template if c is not None}
        self.failed = _FAILED in outcomes
        self.unknown = _UNKNOWN in outcomes


_PAYING = (Status.eligible, Status.needs_confirmation)


def _evaluate_unit(scheme: Scheme, plan: _SchemePlan, version: Any, facts: dict[str, Any], profile: Profile,
                   as_of: date, unit_id: str | None, unit_name: str | None, order: int, cat: Catalogue,
                   shared: _SharedConditions) -> Result:
    conditions = shared.template.copy()
    failed, unknown = shared.failed, shared.unknown
    for index, run in plan.unit_conditions:
        found = conditions[index] = run(facts)
        outcome = found.outcome
        if outcome is _FAILED:
            failed = True
        elif outcome is _UNKNOWN:
            unknown = True
    status = _status_from(version, failed, unknown)
    version_from, version_until = shared.version_texts
    # positional: this runs for every scheme and unit, and keyword arguments cost more to match
    result = Result(scheme.id, scheme.unit, unit_id, unit_name, status, None, conditions, [], None, False, None,
                    None, None, None, scheme.stacking_group, version_from, version_until, plan.fresh_notes(), {},
                    None, order)
    if status not in _PAYING:
        return result  # nothing is computed, so the conditions and the status stay as they are
    if isinstance(scheme, Relending):
        _relending(result, scheme, version, facts, as_of, cat)
    elif isinstance(scheme, Deadline):
        _deadline(result, scheme, version, facts, as_of)
    elif isinstance(scheme, Compliance):
        _compliance(result, version, facts)
    else:
        computation, added, extra = _compute(scheme, version, facts, profile, as_of, unit_id)
        result.conditions = conditions + added
        result.extra.update(extra)
        if computation is not None:
            _fill(result, computation)
    result.status = _status(version, result.conditions)
    if result.status not in _PAYING:
        result.amount_fen = None
    return result


def _relending(result: Result, scheme: Relending, version: Any, facts: dict[str, Any], as_of: date,
               cat: Catalogue) -> None:
    tool = find_tool(cat.rates, version.tool)
    try:
        entry = rate_entry_on(tool, version.tenor, as_of)
    except RateLookupError as error:
        result.notes.append({"kind": "error", "zh": error.zh, "en": error.en})
        return
    rate = entry.values[version.tenor]
    result.steps.append(Step(f"{tool.name_zh}（{version.tenor}）利率，自{entry.from_}起",
                             f"{tool.name_en} ({version.tenor}) rate, effective {entry.from_}",
                             value=format_rate(Decimal(rate)), cite=entry.cite))
    result.extra.update({"tool": tool.id, "tenor": version.tenor, "relending_rate": rate,
                         "rate_effective_from": entry.from_.isoformat()})
    share = version.share_of_principal
    principal = facts.get("loan.principal_fen")
    if share is not None and principal is not None:
        refinanced = apply_rate(principal, share.rate, version.rounding)
        result.steps.insert(0, Step("贷款本金", "loan principal", amount_fen=principal))
        result.steps.insert(1, Step(f"人民银行按本金的{format_rate(share.rate)}提供再贷款",
                                    f"PBoC refinances {format_rate(share.rate)} of the principal",
                                    amount_fen=refinanced, cite=share.cite))
        result.extra["relending_principal_fen"] = refinanced


def _deadline(result: Result, scheme: Deadline, version: Any, facts: dict[str, Any], as_of: date) -> None:
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


def _compliance(result: Result, version: Any, facts: dict[str, Any]) -> None:
    violations = []
    for rule in version.rules:
        check = reference_condition(rule.violation_when, facts)
        outcome = {Outcome.met: Outcome.failed, Outcome.failed: Outcome.met}.get(check.outcome, Outcome.unknown)
        result.conditions.append(ConditionResult(f"未{rule.label_zh}" if not rule.label_zh.startswith("不") else rule.label_zh,
                                                 f"No {rule.label_en}", outcome, None, rule.cite,
                                                 children=(check,)))
        if check.outcome is Outcome.met:
            violations.append({"rule": rule.id, "label_zh": rule.label_zh, "label_en": rule.label_en,
                               "cite": rule.cite.as_dict()})
    result.violations = violations


# --- the loan interest subsidy: tracks, 12-month windows, the per-enterprise yearly cap ---------------------


def _interest_subsidy(scheme: LoanInterestSubsidy, version: Any, profile: Profile, base_facts: dict[str, Any],
                      as_of: date, order: int) -> list[Result]:
    if not profile.loans:
        return [_placeholder(scheme, version, order)]
    plan = _scheme_plan(scheme)
    common = [run(base_facts) for run, _ in plan.conditions]
    counted = [a for a in profile.awards if a.scheme_id == scheme.id and a.date <= as_of]
    loan_ids = {loan.id for loan in profile.loans}
    # what each loan already received comes off its own subsidy, earliest year first
    received = {loan.id: sum(a.amount_fen for a in counted if a.unit_id == loan.id) for loan in profile.loans}
    # against the yearly cap, an award on another loan (or none) counts in the year it was paid; one on a loan
    # of the profile in the years whose subsidy it paid, and beyond the loan's whole subsidy in its latest year
    paid = {}
    for award in counted:
        if award.unit_id not in loan_ids:
            paid[award.date.year] = paid.get(award.date.year, 0) + award.amount_fen
    for loan in profile.loans if version is not None else []:
        left = received[loan.id]
        if not left:
            continue
        for segment in subsidy_segments(loan.principal_fen, loan.annual_rate, loan.issue_date, loan.maturity_date,
                                        version.share.rate, version.subsidy_months.value, version.rounding):
            taken = min(left, segment.subsidy_fen)
            paid[segment.year] = paid.get(segment.year, 0) + taken
            left -= taken
        if left:
            year = max(a.date.year for a in counted if a.unit_id == loan.id)
            paid[year] = paid.get(year, 0) + left
    # each loan's facts with the enterprise's, merged once for all tracks (the tracks only read them)
    loan_fact_sets = [{**base_facts, **loan_facts(loan)} for loan in profile.loans]
    options = [_track_option(scheme, plan, version, track, index, profile, base_facts, common, paid, order,
                             loan_fact_sets, received)
               for index, track in enumerate(scheme.tracks)]
    viable = [o for o in options if any(r.status is not Status.ineligible for r in o["results"])]
    if viable:
        best = max(viable, key=lambda o: (o["eligible"], o["potential"], -o["index"]))
    else:
        # no track fits: explain with the closest one (fewest failed conditions), so a high-tech firm that lost
        # its certificate is told that, not that it is not a manufacturer
        best = min(options, key=lambda o: (sum(_failed_count(r) for r in o["results"]), o["index"]))
    # the notes' texts are the engine's (loan_tracks); when each applies is decided here
    track_note = chosen_track_note(best["track"], [(o["track"], o["potential"]) for o in options if o is not best])
    rates = {loan.id: loan.annual_rate for loan in profile.loans}
    for result in best["results"]:
        result.notes.insert(0, track_note)
        rate = rates.get(result.unit_id)
        if rate is not None and rate > Decimal("0.24"):  # profile.IMPLAUSIBLE_RATE, written out
            result.notes += implausible_rate_note(rate)
        result.extra["track"] = best["track"].id
        if version is None:
            result.status, result.amount_fen = Status.not_in_force, None
    if version is None:
        return best["results"]
    results = _with_fallbacks(best, options, version, paid, rates, received)
    for loan, result in zip(profile.loans, results):
        if result.amount_fen is None:
            continue
        end = min(add_months(loan.issue_date, version.subsidy_months.value), loan.maturity_date)
        if as_of >= end:  # the subsidised months are over: the claims are to check
            result.notes += window_ended_note(end, as_of)
        whole = sum(s.subsidy_fen for s in subsidy_segments(
            loan.principal_fen, loan.annual_rate, loan.issue_date, loan.maturity_date, version.share.rate,
            version.subsidy_months.value, version.rounding))
        if received[loan.id] > whole:  # more recorded than the loan could get: the awards are to check
            result.notes += over_received_note(received[loan.id], whole)
    return results


def _with_fallbacks(best: dict[str, Any], options: list[dict[str, Any]], version: Any, paid: dict[int, int],
                    rates: dict[str, Decimal], received: dict[str, int]) -> list[Result]:
    """A loan that fails on the chosen track but is to confirm on another is to confirm (on the first such
    track), granted what the yearly cap leaves after the chosen track's loans, in issue order; every granted
    loan's room is then worked out again over all of them."""
    results = list(best["results"])
    taken = []  # (place, result on the other track, the other track)
    for place, result in enumerate(results):
        if result.status is not Status.ineligible:
            continue
        for option in options:
            if option is not best and option["results"][place].status is Status.needs_confirmation:
                taken.append((place, option["results"][place], option["track"]))
                break
    if not taken:
        return results
    used: dict[int, int] = dict(paid)
    for result in results:
        for year, amount in result.extra.get("by_year_fen", {}).items():
            used[int(year)] = used.get(int(year), 0) + amount
    loans = {loan.id: loan for loan in best["loans"]}
    cap = version.annual_cap_per_enterprise.fen
    for place, result, track in sorted(taken, key=lambda t: (loans[t[1].unit_id].issue_date, t[1].unit_id)):
        loan = loans[result.unit_id]
        segments = subsidy_segments(loan.principal_fen, loan.annual_rate, loan.issue_date, loan.maturity_date,
                                    version.share.rate, version.subsidy_months.value, version.rounding)
        granted = {}
        due = still_due(segments, received[loan.id])
        for segment in due:
            room = max(cap - used.get(segment.year, 0), 0)
            granted[segment.year] = granted.get(segment.year, 0) + min(segment.subsidy_fen, room)
            used[segment.year] = used.get(segment.year, 0) + min(segment.subsidy_fen, room)
        result.amount_fen = sum(granted.values())
        result.steps = segment_steps(loan.principal_fen, loan.annual_rate, version.share.rate, segments, granted,
                                     received[loan.id])
        result.steps.append(Step("本笔贷款贴息合计", "subsidy for this loan", amount_fen=result.amount_fen))
        result.steps.insert(0, Step("企业年度贴息上限", "annual cap per enterprise", amount_fen=cap,
                                    cite=version.annual_cap_per_enterprise.cite))
        result.cap_fen = cap
        result.binding_cap = any(granted[s.year] < s.subsidy_fen for s in due)
        result.rate = format(version.share.rate, "f")
        result.extra["by_year_fen"] = {str(year): amount for year, amount in sorted(granted.items())}
        result.extra["already_paid_by_year_fen"] = {str(y): paid.get(y, 0) for y in sorted(granted)}
        result.extra["track"] = track.id
        result.notes.insert(0, other_track_note(best["track"], track))
        rate = rates.get(result.unit_id)
        if rate is not None and rate > Decimal("0.24"):
            result.notes += implausible_rate_note(rate)
        results[place] = result
    # the room left is over every granted loan, the chosen track's and these
    for result in results:
        if result.amount_fen is not None and result.status in (Status.eligible, Status.needs_confirmation):
            years = [int(y) for y in result.extra["by_year_fen"]]
            result.headroom_fen = max(min((cap - used.get(y, 0) for y in years), default=cap), 0)
    return results


def _failed_count(result: Result) -> int:
    """len(result.failed()), counted without writing out the failed leaves."""
    return sum(_failed_leaf_count(condition) for condition in result.conditions)


def _failed_leaf_count(condition: ConditionResult) -> int:
    """len(condition.failed_leaves())."""
    if condition.outcome is not _FAILED:
        return 0
    if not condition.children:
        return 1
    return sum(_failed_leaf_count(child) for child in condition.children) or 1


def _track_runs(scheme: LoanInterestSubsidy, track: Any) -> tuple[tuple[Evaluator, ...], tuple[Evaluator, ...]]:
    """A track's compiled conditions: (the enterprise's, the loan's: the scheme's own loan conditions, then the
    track's). Built once per scheme, in its plan."""
    return (tuple(_interpreted(c) for c in track.enterprise_conditions),
            tuple(_interpreted(c) for c in scheme.loan_conditions + track.loan_conditions))


def _track_option(scheme: LoanInterestSubsidy, plan: _SchemePlan, version: Any, track: Any, index: int,
                  profile: Profile, base_facts: dict[str, Any], common: list[ConditionResult], paid: dict[int, int],
                  order: int, loan_fact_sets: list[dict[str, Any]], received: dict[str, int]) -> dict[str, Any]:
    enterprise_runs, loan_runs = plan.track_runs[index]
    enterprise_conditions = common + [run(base_facts) for run in enterprise_runs]
    version_fields = plan.version_fields(version)
    pending: list[tuple[Result, Any]] = []
    results = []
    for loan, facts in zip(profile.loans, loan_fact_sets):
        conditions = enterprise_conditions + _issue_window(version, loan.issue_date) + [
            run(facts) for run in loan_runs]
        result = Result(scheme.id, "loan", loan.id, loan.lender, _status(True, conditions), None,
                        conditions, notes=plan.fresh_notes(), order=order, **version_fields)
        results.append(result)
        if result.status in (Status.eligible, Status.needs_confirmation) and version is not None:
            segments = subsidy_segments(loan.principal_fen, loan.annual_rate, loan.issue_date, loan.maturity_date,
                                        version.share.rate, version.subsidy_months.value, version.rounding)
            pending.append((result, (loan, segments)))
    due = {loan.id: still_due(segments, received[loan.id]) for _, (loan, segments) in pending}
    # eligible loans take the yearly room first, then those still to confirm; then by issue date and id
    pending.sort(key=lambda item: (item[0].status is not Status.eligible, item[1][0].issue_date, item[1][0].id))
    cap = version.annual_cap_per_enterprise.fen if version else 0
    allocated = allocate_annual_cap([(loan.id, due[loan.id]) for _, (loan, _) in pending], cap, paid)
    for result, (loan, segments) in pending:
        granted = allocated[loan.id]
        result.amount_fen = sum(granted.values())
        result.steps = segment_steps(loan.principal_fen, loan.annual_rate, version.share.rate, segments, granted,
                                     received[loan.id])
        result.steps.append(Step("本笔贷款贴息合计", "subsidy for this loan", amount_fen=result.amount_fen))
        result.cap_fen = cap
        used = {year: paid.get(year, 0) for year in granted}
        for other in pending:
            for year, amount in allocated[other[1][0].id].items():
                if year in used:
                    used[year] += amount
        result.headroom_fen = max(min((cap - used[year] for year in used), default=cap), 0)  # never below none
        result.binding_cap = any(granted[s.year] < s.subsidy_fen for s in due[loan.id])
        result.rate = format(version.share.rate, "f")
        result.extra["by_year_fen"] = {str(year): amount for year, amount in sorted(granted.items())}
        result.extra["already_paid_by_year_fen"] = {str(y): paid.get(y, 0) for y in sorted(granted)}
        result.steps.insert(0, Step("企业年度贴息上限", "annual cap per enterprise", amount_fen=cap,
                                    cite=version.annual_cap_per_enterprise.cite))
    eligible = sum(r.amount_fen or 0 for r in results if r.status is Status.eligible)
    potential = sum(r.amount_fen or 0 for r in results if r.status in (Status.eligible, Status.needs_confirmation))
    return {"track": track, "results": results, "eligible": eligible, "potential": potential,
            "index": index, "loans": profile.loans}


def _issue_window(version: Any, issued: date) -> list[ConditionResult]:
    if version is None:
        return []
    inside = version.issued_from <= issued <= version.issued_until
    return [ConditionResult(f"贷款在{version.issued_from}至{version.issued_until}期间新发放",
                            f"Loan newly issued between {version.issued_from} and {version.issued_until}",
                            Outcome.met if inside else Outcome.failed, issued.isoformat(), version.issue_window_cite)]


# --- stacking -----------------------------------------------------------------------------------------------


def _apply_stacking(results: list[Result]) -> None:
    """从优、就高、不重复: in each stacking group, each unit keeps only its highest award; the rest are superseded."""
    groups: dict[tuple[str, str, str | None], list[Result]] = {}
    for result in results:
        if result.stacking_group and result.unit_id is not None:
            # a project and a loan may share an id; they are different units
            groups.setdefault((result.stacking_group, result.unit_kind, result.unit_id), []).append(result)
    for members in groups.values():
        candidates = [r for r in members
                      if r.status in (Status.eligible, Status.needs_confirmation) and r.amount_fen is not None]
        if len(candidates) < 2:
            continue
        winner = max(candidates, key=lambda r: (r.amount_fen, r.status is Status.eligible, -r.order))
        for result in candidates:
            if result is not winner:
                result.status = Status.superseded
                result.superseded_by = winner.scheme_id
