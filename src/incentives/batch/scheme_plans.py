"""One scheme (all kinds but the loan interest subsidy) -> polars expressions for status, amount and caps.

Mirrors evaluate._evaluate_units and the per-kind arithmetic it picks (evaluate._pay_for): the scheme's
conditions, then the conditions the calculator adds (a base it needs, a tier it must find, room under a
cumulative cap), then the arithmetic in exact integers: base × rate is base × numerator // denominator of the
Decimal rate, so no float ever touches an amount. The version in force is chosen once, since the whole batch
has one evaluation date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from ..conditions import leaves
from ..money import Rounding, format_rate
from ..scheme_files import (
    AnnualPercentWithCap,
    AwardUpToCap,
    Compliance,
    CumulativeCap,
    Deadline,
    FixedAward,
    PercentOfBase,
    Relending,
    Scheme,
    TieredPercentOfBase,
)
from .compile_conditions import (LIST_FACT_VALUES, OTHER_BIT, Compiled, FactResolver, Reason, all_of, bit_of,
                                compile_condition, mask_column)

ELIGIBLE, NEEDS_CONFIRMATION, INELIGIBLE, NOT_IN_FORCE, SUPERSEDED = range(5)
STATUS_NAMES = ("eligible", "needs_confirmation", "ineligible", "not_in_force", "superseded")
# status_code computes the first three from a 0/1 truth: their codes must stay 0, 1 and 2
assert (ELIGIBLE, NEEDS_CONFIRMATION, INELIGIBLE) == (0, 1, 2)
_MAX_SAFE_INT64_RATE_NUMERATOR = 9_000  # amounts stay below 10^15 fen, so base × 9000 fits in Int64


def version_on(scheme: Scheme, on: date) -> Any:
    for version in scheme.versions:
        if version.from_ <= on and (version.until is None or on <= version.until):
            return version
    return None


def apply_rate(base: pl.Expr, rate: Decimal, rounding: Rounding) -> pl.Expr:
    """base × rate rounded once, in exact integer arithmetic (money.apply_rate, column-wise)."""
    numerator, denominator = rate.as_integer_ratio()
    wide = numerator > _MAX_SAFE_INT64_RATE_NUMERATOR
    dtype = pl.Int128 if wide else pl.Int64
    product = base.cast(dtype) * pl.lit(numerator, dtype=dtype)
    if rounding is Rounding.down_to_fen:
        result = product // pl.lit(denominator, dtype=dtype)
    else:
        result = (product * 2 + pl.lit(denominator, dtype=dtype)) // pl.lit(2 * denominator, dtype=dtype)
    return result.cast(pl.Int64)


def status_code(met: pl.Expr) -> pl.Expr:
    """Kleene truth -> status: met is eligible, failed is ineligible, unknown needs confirmation.

    As arithmetic on the 0/1 truth (2 - 2 × met, unknown filled in) rather than a when/then chain, which
    would evaluate the whole condition twice (once for true, once for false).
    """
    truth = met.cast(pl.UInt8)
    return (pl.lit(INELIGIBLE, dtype=pl.UInt8) - truth * pl.lit(2, dtype=pl.UInt8)).fill_null(
        pl.lit(NEEDS_CONFIRMATION, dtype=pl.UInt8))


def awards_column(scheme_id: str, kind: str) -> str:
    """Name of the column holding awards already received under a scheme (kind: 'total' or 'this_year')."""
    return f"_awards[{scheme_id}].{kind}"


def history_column(scheme_id: str) -> str:
    return f"history.has_award_for_scheme[{scheme_id}]"


@dataclass
class Implicit:
    """A condition the calculator adds; `present` says on which rows the scalar path would have added it."""

    compiled: Compiled
    present: pl.Expr


@dataclass
class Plan:
    scheme: Scheme
    order: int
    version: Any
    conditions: list[Compiled]
    implicit: list[Implicit] = field(default_factory=list)
    amount: pl.Expr | None = None  # the computation's amount; null where the calculator gives none
    cap: pl.Expr | None = None
    binding: pl.Expr | None = None
    headroom: pl.Expr | None = None
    room: pl.Expr | None = None  # where set, headroom is room − amount (so it can be read off a computed amount)

    @property
    def unit(self) -> str:
        return self.scheme.unit

    def met(self) -> pl.Expr:
        """Kleene AND of every condition, the calculator's own included."""
        return all_of(self.conditions + [i.compiled for i in self.implicit])

    def status(self) -> pl.Expr:
        if self.version is None:
            return pl.lit(NOT_IN_FORCE, dtype=pl.UInt8)
        return status_code(self.met())

    def headroom_given(self, amount: pl.Expr) -> pl.Expr | None:
        """The headroom from an amount column already computed (equal to `headroom` where that amount is given)."""
        return self.headroom if self.room is None else self.room - amount

    def reasons(self) -> tuple[list[Reason], list[Reason]]:
        """Failed and unknown leaves, the calculator's conditions only where the scalar path adds them."""
        failed = [r for c in self.conditions for r in c.failed]
        unknown = [r for c in self.conditions for r in c.unknown]
        if self.version is None:
            return failed, unknown
        reached = all_of(self.conditions).fill_null(True)  # the calculator runs unless a condition failed
        for extra in self.implicit:
            gate = reached & extra.present
            failed += [Reason(gate & r.when, r.zh, r.en) for r in extra.compiled.failed]
            unknown += [Reason(gate & r.when, r.zh, r.en) for r in extra.compiled.unknown]
        return failed, unknown


def _implicit(expr: pl.Expr, zh: str, en: str, present: pl.Expr | None = None,
              confirm: tuple[str, str] | None = None) -> Implicit:
    confirm_zh, confirm_en = confirm or (f"请确认：{zh}", f"Please confirm: {en}")
    compiled = Compiled(expr, zh, en, [Reason(expr.not_(), zh, en)], [Reason(expr.is_null(), confirm_zh, confirm_en)])
    return Implicit(compiled, present if present is not None else pl.lit(True))


def given_or_unknown(fact: pl.Expr) -> pl.Expr:
    """True where the fact is given, unknown (null) where it is missing: Kleene `given OR unknown`, one pass
    instead of a when/then over the column."""
    return fact.is_not_null() | pl.lit(None, dtype=pl.Boolean)


def base_check(base: pl.Expr, label_zh: str, label_en: str, present: pl.Expr | None = None) -> list[Implicit]:
    """evaluate._base: unknown when missing, failed when not above zero, met otherwise (two labels, as there)."""
    given = _implicit(given_or_unknown(base),
                      f"已填写{label_zh}", f"{label_en} is given", present,
                      (f"请填写{label_zh}", f"Please give the {label_en}"))
    positive = _implicit((base > 0).fill_null(True),
                         f"{label_zh}大于0", f"{label_en} is above zero", present)
    return [given, positive]


def fact_names(scheme: Scheme) -> set[str]:
    names = set(scheme.fact_names())
    base = getattr(scheme, "base", None)
    if base:
        names.add(base)
    for name in ("category_field", "independence_field"):
        if getattr(scheme, name, None):
            names.add(getattr(scheme, name))
    return names


def plan_for(scheme: Scheme, order: int, as_of: date, resolve: FactResolver) -> Plan:
    version = version_on(scheme, as_of)
    conditions = [compile_condition(c, resolve) for c in scheme.conditions]
    plan = Plan(scheme, order, version, conditions)
    if version is None:
        return plan
    if isinstance(scheme, PercentOfBase):
        base = resolve(scheme.base)
        plan.implicit = base_check(base, scheme.base_label_zh, scheme.base_label_en)
        raw = apply_rate(base, version.rate.rate, version.rounding)
        _capped(plan, base, raw, version.cap.fen if version.cap else None)
    elif isinstance(scheme, TieredPercentOfBase):
        _tiered(plan, scheme, version, resolve)
    elif isinstance(scheme, FixedAward):
        plan.amount = pl.lit(version.amount.fen, dtype=pl.Int64)
    elif isinstance(scheme, AwardUpToCap):
        cap = version.cap.fen
        # a yearly cap (not one-off) loses what the scheme paid this year; a unit's cap in total, all it paid
        used = None if scheme.one_off and not scheme.cap_in_total else (
            awards_column(scheme.id, "total" if scheme.one_off else "this_year"))
        room = pl.lit(cap, dtype=pl.Int64) if used is None else pl.max_horizontal(
            pl.lit(cap, dtype=pl.Int64) - pl.col(used), pl.lit(0, dtype=pl.Int64))
        if scheme.base is None:
            plan.amount = room
            plan.binding, plan.headroom = pl.lit(True), pl.lit(0, dtype=pl.Int64)
        else:
            base = resolve(scheme.base)
            plan.implicit = base_check(base, scheme.base_label_zh or "", scheme.base_label_en or "")
            valid = base > 0
            plan.amount = pl.when(valid).then(pl.min_horizontal(base, room))
            plan.binding = base >= room
            plan.room = room
            plan.headroom = plan.room - plan.amount
        plan.cap = pl.lit(cap, dtype=pl.Int64)
    elif isinstance(scheme, AnnualPercentWithCap):
        base = resolve(scheme.base)
        plan.implicit = base_check(base, scheme.base_label_zh, scheme.base_label_en)
        cap = version.annual_cap.fen
        room = pl.max_horizontal(pl.lit(cap, dtype=pl.Int64) - pl.col(awards_column(scheme.id, "this_year")),
                                 pl.lit(0, dtype=pl.Int64))
        inner = apply_rate(base, version.rate.rate, version.rounding)
        plan.amount = pl.when(base > 0).then(pl.min_horizontal(inner, room))
        plan.cap = pl.lit(cap, dtype=pl.Int64)
        plan.binding = inner >= room
        plan.room = room
        plan.headroom = room - plan.amount
    elif isinstance(scheme, CumulativeCap):
        cap = version.cap.fen
        room = pl.max_horizontal(pl.lit(cap, dtype=pl.Int64) - pl.col(awards_column(scheme.id, "total")),
                                 pl.lit(0, dtype=pl.Int64))
        plan.implicit = [_implicit(room > 0, "累计上限尚有剩余额度", "room left under the cumulative cap")]
        plan.amount = pl.when(room > 0).then(room)
        plan.cap, plan.binding, plan.headroom = pl.lit(cap, dtype=pl.Int64), pl.lit(True), pl.lit(0, dtype=pl.Int64)
    elif isinstance(scheme, Compliance):
        for rule in version.rules:
            check = compile_condition(rule.violation_when, resolve)
            zh = f"未{rule.label_zh}" if not rule.label_zh.startswith("不") else rule.label_zh
            plan.implicit.append(_implicit(~check.expr, zh, f"No {rule.label_en}"))
    elif isinstance(scheme, Deadline):
        if scheme.event == "quarter_end":
            plan.implicit = _calendar_check(version, as_of)
        else:
            event = resolve(scheme.event)
            plan.implicit = [_implicit(given_or_unknown(event),
                                       f"已填写{scheme.event_label_zh}", f"{scheme.event_label_en} is given",
                                       confirm=(f"请填写{scheme.event_label_zh}", f"Please give the {scheme.event_label_en}"))]
    elif isinstance(scheme, Relending):
        pass  # the result is a rate, not an amount: status comes from the conditions alone
    else:
        raise NotImplementedError(f"no columnar arithmetic for kind {scheme.kind}")
    return plan


def _calendar_check(version: Any, as_of: date) -> list[Implicit]:
    """A quarter-end deadline is the same for every row: count it once; an unpublished calendar leaves it open."""
    from ..calculators.deadline import deadline_for_version
    from ..dates import quarter_end
    from ..errors import CalendarNotPublished

    try:
        deadline_for_version(version, quarter_end(as_of))
    except CalendarNotPublished as error:
        return [_implicit(pl.lit(None, dtype=pl.Boolean), f"{error.year}年节假日安排已发布",
                          f"the {error.year} holiday calendar is published", confirm=(error.zh, error.en))]
    return []


def _capped(plan: Plan, base: pl.Expr, raw: pl.Expr, cap: int | None) -> None:
    """percent_of_base: the amount where the base is above zero, limited to the cap."""
    valid = base > 0
    if cap is None:
        plan.amount = pl.when(valid).then(raw)
        return
    plan.amount = pl.when(valid).then(pl.min_horizontal(raw, pl.lit(cap, dtype=pl.Int64)))
    plan.cap = pl.when(valid).then(pl.lit(cap, dtype=pl.Int64))
    plan.binding = raw >= cap
    plan.room = pl.lit(cap, dtype=pl.Int64)
    plan.headroom = plan.room - plan.amount


def _tiered(plan: Plan, scheme: TieredPercentOfBase, version: Any, resolve: FactResolver) -> None:
    """The first tier whose categories meet the unit's; an independent legal entity may lift the rate."""
    if scheme.category_field not in LIST_FACT_VALUES:
        raise NotImplementedError(f"tier categories from {scheme.category_field}")
    mask = pl.col(mask_column(scheme.category_field))
    matches = []
    for tier in version.tiers:
        bits = 0
        for category in tier.categories:
            bits |= bit_of(scheme.category_field, category)
        matches.append((mask & bits) != 0)
    listed = pl.any_horizontal(matches)
    found = listed
    open_tier = next((tier for tier in version.tiers if tier.open_list), None)
    if open_tier is not None:
        # an industry no tier lists may still be in the tier whose list ends in 等: assessed there, to confirm
        named = {category for tier in version.tiers for category in tier.categories}
        bits = 1 << OTHER_BIT
        for value in LIST_FACT_VALUES[scheme.category_field]:
            bits |= 0 if value in named else bit_of(scheme.category_field, value)
        unlisted = listed.not_() & ((mask & bits) != 0)
        at = version.tiers.index(open_tier)
        matches[at] = matches[at] | unlisted
        found = pl.when(unlisted).then(pl.lit(None, dtype=pl.Boolean)).otherwise(listed)
    any_tier = pl.any_horizontal(matches)
    base = resolve(scheme.base)
    independent = resolve(scheme.independence_field)
    tier_found = _implicit(found, "属于支持的产业类别", "in a supported industry tier",
                           confirm=open_tier.unlisted_confirm() if open_tier is not None else None)
    checks = base_check(base, scheme.base_label_zh, scheme.base_label_en, present=any_tier)
    amount = pl.lit(None, dtype=pl.Int64)
    cap_expr = pl.lit(None, dtype=pl.Int64)
    raw_expr = pl.lit(None, dtype=pl.Int64)
    lifted_unknown: pl.Expr = pl.lit(False)
    # build from the last tier to the first so that the first matching tier wins
    for tier, match in reversed(list(zip(version.tiers, matches))):
        first = match
        for earlier in matches[: version.tiers.index(tier)]:
            first = first & earlier.not_()
        rate = apply_rate(base, tier.rate.rate, version.rounding)
        if tier.rate_if_independent_legal_entity is not None:
            lifted = tier.rate_if_independent_legal_entity.rate
            rate = pl.when(independent.fill_null(False)).then(apply_rate(base, lifted, version.rounding)).otherwise(rate)
            lifted_unknown = lifted_unknown | (first & independent.is_null())
        cap = tier.cap.fen if tier.cap else None
        capped = rate if cap is None else pl.min_horizontal(rate, pl.lit(cap, dtype=pl.Int64))
        amount = pl.when(first).then(capped).otherwise(amount)
        cap_expr = pl.when(first).then(pl.lit(cap, dtype=pl.Int64)).otherwise(cap_expr)
        raw_expr = pl.when(first).then(rate).otherwise(raw_expr)
    plan.implicit = [tier_found, *checks]
    if any(t.rate_if_independent_legal_entity is not None for t in version.tiers):
        # what to confirm names the matched tier's two rates, so each tier has its own text
        texts = []
        for tier, match in zip(version.tiers, matches):
            if tier.rate_if_independent_legal_entity is None:
                continue
            lifted = tier.rate_if_independent_legal_entity.rate
            texts.append((match, f"请确认是否为独立法人；若是，比例为{format_rate(lifted)}（否则{format_rate(tier.rate.rate)}）",
                          f"Confirm whether it is an independent legal entity: if so the rate is {format_rate(lifted)}, "
                          f"otherwise {format_rate(tier.rate.rate)}"))
        unknown_expr = pl.when(lifted_unknown).then(pl.lit(None, dtype=pl.Boolean)).otherwise(pl.lit(True))
        compiled = Compiled(unknown_expr, "是否为独立法人平台（影响补助比例）",
                            "whether the platform is an independent legal entity (sets the rate)", [], [])
        earlier = pl.lit(False)
        for match, zh, en in texts:
            this = match & earlier.not_()
            compiled.unknown.append(Reason(lifted_unknown & this & (base > 0), zh, en))
            earlier = earlier | match
        plan.implicit.append(Implicit(compiled, base > 0))
    plan.amount = pl.when(base > 0).then(amount)
    plan.cap = pl.when(base > 0).then(cap_expr)
    plan.binding = raw_expr >= cap_expr
    plan.room = cap_expr
    plan.headroom = cap_expr - plan.amount


def enterprise_facts_used(schemes: list[Scheme]) -> set[str]:
    names: set[str] = set()
    for scheme in schemes:
        names |= {n for n in fact_names(scheme) if n.startswith("enterprise.")}
        for condition in getattr(scheme, "loan_conditions", []):
            names |= {leaf.field for leaf in leaves(condition) if leaf.field.startswith("enterprise.")}
        for track in getattr(scheme, "tracks", []):
            for condition in track.enterprise_conditions + track.loan_conditions:
                names |= {leaf.field for leaf in leaves(condition) if leaf.field.startswith("enterprise.")}
    return names
