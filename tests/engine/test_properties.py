"""Hypothesis properties for every scheme in the catalogue, discovered from the scheme data.

Each property starts from the scheme's first eligible worked case and varies one thing (the base, earlier
awards, the loans, the projects, which facts are unknown). Single-scheme properties evaluate a catalogue cut
down to that scheme (or its stacking group), which is what the amount is before stacking and keeps them fast.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

import pytest
from hypothesis import example, given, strategies as st

from flip_inputs import World, all_leaves, facts_of, steer, unit_dict, witness
from incentives.conditions import Outcome, leaves
from incentives.dates import add_months
from incentives.evaluate import evaluate
from incentives.profile import Activity, TechField, parse_profile
from incentives.report import evaluation_dict
from incentives.scheme_files import (
    AnnualPercentWithCap,
    AwardUpToCap,
    Compliance,
    CumulativeCap,
    FixedAward,
    LoanInterestSubsidy,
    PercentOfBase,
    TieredPercentOfBase,
)
from incentives.schemes import catalogue

CAT = catalogue()
MAX_FEN = 10**12 * 100  # a trillion yuan


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _cut(scheme_ids: list[str]):
    return dataclasses.replace(CAT, schemes=tuple(s for s in CAT.schemes if s.id in scheme_ids))


def _results(world: World, scheme_ids: list[str]) -> list[dict]:
    return evaluation_dict(evaluate(parse_profile(world.profile), world.as_of, _cut(scheme_ids)))["results"]


def _result(world: World) -> dict:
    return next(r for r in _results(world, [world.scheme_id]) if r["unit_id"] == world.unit_id)


def _version(scheme: Any, on: date) -> Any:
    return next(v for v in scheme.versions if v.from_ <= on and (v.until is None or on <= v.until))


# --- the money terms of a scheme, read from its data ----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Terms:
    cap_fen: int | None  # no award is ever above this
    max_rate: Decimal | None  # no award is ever above base × this (None: no base)


def terms(scheme: Any, on: date) -> Terms:
    version = _version(scheme, on)
    if isinstance(scheme, PercentOfBase):
        return Terms(version.cap.fen if version.cap else None, version.rate.rate)
    if isinstance(scheme, TieredPercentOfBase):
        caps = [t.cap.fen if t.cap else None for t in version.tiers]
        rates = [r.rate for t in version.tiers for r in (t.rate, t.rate_if_independent_legal_entity) if r]
        return Terms(None if None in caps else max(caps), max(rates))
    if isinstance(scheme, FixedAward):
        return Terms(version.amount.fen, None)
    if isinstance(scheme, AwardUpToCap):
        return Terms(version.cap.fen, Decimal(1) if scheme.base else None)
    if isinstance(scheme, AnnualPercentWithCap):
        return Terms(version.annual_cap.fen, version.rate.rate)
    if isinstance(scheme, CumulativeCap):
        return Terms(version.cap.fen, None)
    raise AssertionError(scheme.kind)


MONEY_KINDS = (PercentOfBase, TieredPercentOfBase, FixedAward, AwardUpToCap, AnnualPercentWithCap, CumulativeCap)
MONEY_SCHEMES = [s.id for s in CAT.schemes if isinstance(s, MONEY_KINDS)]
BASE_SCHEMES = [s.id for s in CAT.schemes if isinstance(s, MONEY_KINDS) and getattr(s, "base", None)]
SUBSIDY_SCHEMES = [s.id for s in CAT.schemes if isinstance(s, LoanInterestSubsidy)]


def set_base(world: World, fact: str, fen: int | None) -> World:
    """Put an amount behind a base fact (project.X_fen is the project's X_yuan; pilot fees sum over projects)."""
    value = None if fen is None else _yuan(fen)

    def edit(profile: dict) -> None:
        if fact == "enterprise.pilot_service_fees_fen":
            buying = [p for p in profile["projects"] if "pilot_services" in (p.get("activities") or [])]
            for index, project in enumerate(buying):
                project["pilot_service_fees_yuan"] = value if index == 0 else "0"
            return
        owner, name = fact.split(".")
        assert owner in ("project", "loan") and name.endswith("_fen"), f"no input for base '{fact}'"
        unit_dict(profile, world)[name.removesuffix("_fen") + "_yuan"] = value
    return world.edited(edit)


@lru_cache(maxsize=None)
def cap_edge(scheme_id: str) -> int:
    """The smallest base (fen) whose award reaches the cap, at the rate the witness gets."""
    world = witness(scheme_id)
    result = _result(world)
    rate = Fraction(Decimal(result["rate"])) if result["rate"] else Fraction(1)
    cap = result["cap_fen"]
    return -(-cap * rate.denominator // rate.numerator)


BASES = st.one_of(st.integers(0, MAX_FEN), st.tuples(st.just("edge"), st.integers(-2, 2)))


@pytest.mark.parametrize("scheme_id", BASE_SCHEMES)
@given(base=BASES, more=st.integers(0, MAX_FEN))
@example(base=("edge", -1), more=1)
@example(base=("edge", 0), more=0)
@example(base=("edge", 1), more=1)
@example(base=0, more=1)
@example(base=1, more=0)
def test_amount_stays_within_zero_and_cap_never_exceeds_rate_times_base_and_never_falls_as_base_grows(
        scheme_id: str, base: Any, more: int) -> None:
    scheme = CAT.scheme(scheme_id)
    world = witness(scheme_id)
    limits = terms(scheme, world.as_of)
    fen = cap_edge(scheme_id) + base[1] if isinstance(base, tuple) else base
    fen = max(fen, 0)
    low = _result(set_base(world, scheme.base, fen))
    high = _result(set_base(world, scheme.base, fen + more))
    for result, amount_base in ((low, fen), (high, fen + more)):
        amount = result["amount_fen"]
        if amount is None:
            assert result["status"] not in ("eligible", "needs_confirmation") or amount_base == 0
            continue
        assert 0 <= amount
        if limits.cap_fen is not None:
            assert amount <= limits.cap_fen
        ceiling = (Decimal(amount_base) * limits.max_rate).quantize(Decimal(1), rounding=ROUND_FLOOR)
        assert amount <= ceiling
    assert (high["amount_fen"] or 0) >= (low["amount_fen"] or 0)
    if isinstance(base, tuple):  # the exact edge: below it the award is under the cap, from it on it is the cap
        assert (low["amount_fen"] == low["cap_fen"]) is (base[1] >= 0)


@pytest.mark.parametrize("scheme_id", [s for s in MONEY_SCHEMES if s not in BASE_SCHEMES])
def test_an_award_without_a_base_is_never_above_its_cap(scheme_id: str) -> None:
    world = witness(scheme_id)
    limits = terms(CAT.scheme(scheme_id), world.as_of)
    amount = _result(world)["amount_fen"]
    assert 0 <= amount <= limits.cap_fen
    if isinstance(CAT.scheme(scheme_id), FixedAward):
        assert amount == limits.cap_fen


HISTORY_SCHEMES = [s.id for s in CAT.schemes if isinstance(s, (AnnualPercentWithCap, CumulativeCap))]


@pytest.mark.parametrize("scheme_id", HISTORY_SCHEMES)
@given(awards=st.lists(st.tuples(st.integers(0, 3_000_000_000), st.integers(-800, 400)), max_size=4))
@example(awards=[])
@example(awards=[(2_000_000_000, -1)])  # ¥20M the day before: a ¥20M cumulative cap exactly used up
@example(awards=[(200_000_000, -1)])  # ¥2M the day before: a ¥2M yearly cap exactly used up
@example(awards=[(199_999_999, -1)])  # one fen of a ¥2M yearly cap left
@example(awards=[(1, 1)])  # an award after the evaluation date is not counted yet
def test_earlier_awards_never_let_the_total_pass_the_cap(scheme_id: str, awards: list[tuple[int, int]]) -> None:
    scheme = CAT.scheme(scheme_id)
    start = witness(scheme_id)
    cap = terms(scheme, start.as_of).cap_fen
    records = [{"scheme_id": scheme_id, "amount_yuan": _yuan(fen), "date": (start.as_of + timedelta(days=days)).isoformat()}
               for fen, days in awards]
    world = start.edited(lambda p: p.update(awards=records))
    result = _result(world)
    counted = [(fen, start.as_of + timedelta(days=days)) for fen, days in awards if days <= 0]
    if isinstance(scheme, AnnualPercentWithCap):
        counted = [(fen, day) for fen, day in counted if day.year == start.as_of.year]
    already = sum(fen for fen, _ in counted)
    amount = result["amount_fen"] or 0
    assert amount >= 0
    assert amount <= max(cap - already, 0)
    if already < cap and isinstance(scheme, CumulativeCap):
        assert amount == cap - already  # the room left is what a cumulative cap offers


# --- stacking: a group pays at most its best member ---------------------------------------------------------

GROUPS = sorted({s.stacking_group for s in CAT.schemes if s.stacking_group})
PROJECT_AMOUNTS = st.one_of(st.none(), st.integers(0, 500_000_000_00), st.sampled_from(
    [10_000_000_000, 6_666_666_667, 33_333_333_334, 28_571_428_572]))


@st.composite
def projects(draw: Any, count: int = 3) -> list[dict]:
    items = []
    for index in range(draw(st.integers(1, count))):
        items.append({
            "id": f"g{index}",
            "activities": sorted(draw(st.sets(st.sampled_from([a.value for a in Activity]), max_size=4))),
            "fields": sorted(draw(st.sets(st.sampled_from([f.value for f in TechField]), max_size=3))),
            "total_input_yuan": None if (v := draw(PROJECT_AMOUNTS)) is None else _yuan(v),
            "rd_input_yuan": None if (v := draw(PROJECT_AMOUNTS)) is None else _yuan(v),
            "challenge_amount_yuan": None if (v := draw(PROJECT_AMOUNTS)) is None else _yuan(v),
            "annual_operating_expenses_yuan": None if (v := draw(PROJECT_AMOUNTS)) is None else _yuan(v),
            "is_new": draw(st.sampled_from([True, False, None])),
            "is_independent_legal_entity": draw(st.sampled_from([True, False, None])),
        })
    return items


def _with_projects(world: World, items: list[dict]) -> World:
    location = unit_dict(world.profile, world).get("location") if world.unit == "project" else None

    def edit(profile: dict) -> None:
        profile["projects"] = [{**item, "location": location} for item in items]
        profile["awards"] = []
    return world.edited(edit)


@pytest.mark.parametrize("group", GROUPS)
@given(items=projects())
def test_a_stacking_group_pays_each_project_at_most_its_best_member(group: str, items: list[dict]) -> None:
    members = [s.id for s in CAT.schemes if s.stacking_group == group]
    world = _with_projects(witness(members[0]), items)
    results = [r for r in _results(world, members) if r["unit_id"] is not None]
    for unit in {r["unit_id"] for r in results}:
        mine = [r for r in results if r["unit_id"] == unit]
        paying = [r for r in mine if r["status"] in ("eligible", "needs_confirmation") and r["amount_fen"] is not None]
        superseded = [r for r in mine if r["status"] == "superseded"]
        assert len(paying) <= 1
        if superseded:
            assert len(paying) == 1
            assert all(r["superseded_by"] == paying[0]["scheme_id"] for r in superseded)
            assert all(r["amount_fen"] <= paying[0]["amount_fen"] for r in superseded)


ORDER_WITNESSES = sorted({next(s.id for s in CAT.schemes if s.stacking_group == g) for g in GROUPS}
                         | {next(s.id for s in CAT.schemes if s.unit == "project" and not s.stacking_group)})


@pytest.mark.parametrize("scheme_id", ORDER_WITNESSES)
@given(items=projects(count=4), seed=st.integers(0, 2**32))
def test_results_do_not_depend_on_the_order_of_projects(scheme_id: str, items: list[dict], seed: int) -> None:
    world = _with_projects(witness(scheme_id), items)
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    other = _with_projects(witness(scheme_id), shuffled)

    def summary(w: World) -> tuple[dict, int, int]:
        document = evaluation_dict(evaluate(parse_profile(w.profile), w.as_of))
        rows = {(r["scheme_id"], r["unit_id"]): (r["status"], r["amount_fen"], r["superseded_by"])
                for r in document["results"]}
        return rows, document["total_fen"], document["potential_total_fen"]

    assert summary(world) == summary(other)


# --- loan interest subsidy: the per-enterprise yearly cap over any set of loans -------------------------------


@st.composite
def loans(draw: Any, scheme_id: str) -> list[dict]:
    version = _version(CAT.scheme(scheme_id), witness(scheme_id, "manufacturing").as_of)
    template = unit_dict(witness(scheme_id, "manufacturing").profile, witness(scheme_id, "manufacturing"))
    span = (version.issued_until - version.issued_from).days
    items = []
    for index in range(draw(st.integers(1, 6))):
        issued = version.issued_from + timedelta(days=draw(st.integers(-5, span + 5)))
        rate = draw(st.integers(1, 2000))  # basis points of a hundredth: 0.0001 .. 0.2000
        items.append({**template, "id": f"loan{index}",
                      "principal_yuan": _yuan(draw(st.sampled_from([1, 100_000_000, 190_476_190_477]) |
                                                   st.integers(1, 3_000_000_000_00))),
                      "annual_rate": f"0.{rate:04d}",
                      # working-capital loans fail on the manufacturing track and may be to confirm on the other
                      "loan_type": draw(st.sampled_from(["fixed_asset", "working_capital"])),
                      "issue_date": issued.isoformat(),
                      "maturity_date": (issued + timedelta(days=draw(st.integers(1, 800)))).isoformat()})
    return items


def _exact_subsidy(loan: dict, share: Decimal, months: int) -> Fraction:
    issued, maturity = date.fromisoformat(loan["issue_date"]), date.fromisoformat(loan["maturity_date"])
    days = (min(add_months(issued, months), maturity) - issued).days
    principal = Fraction(Decimal(loan["principal_yuan"])) * 100
    return principal * Fraction(Decimal(loan["annual_rate"])) * days * Fraction(share) / 365


def _with_hnte(profile: dict, hnte: bool | None) -> None:
    enterprise = profile["enterprise"]
    enterprise["certifications"] = {**(enterprise.get("certifications") or {}), "hnte": hnte}
    enterprise["declarations"] = {**(enterprise.get("declarations") or {}), "main_business_encouraged": True}


@pytest.mark.parametrize("scheme_id", SUBSIDY_SCHEMES)
@given(data=st.data(), paid=st.lists(st.tuples(st.sampled_from([2025, 2026]), st.integers(0, 2_500_000_000)),
                                     max_size=3), seed=st.integers(0, 2**32), hnte=st.sampled_from([False, None, True]))
def test_the_yearly_cap_holds_over_any_set_of_loans_in_any_order(scheme_id: str, data: Any,
                                                                  paid: list[tuple[int, int]], seed: int,
                                                                  hnte: bool | None) -> None:
    # a manufacturer; its HNTE status known or not, so that loans are granted on one track, the other, or both
    # (the chosen track's, then those to confirm on the other in the room left)
    start = witness(scheme_id, "manufacturing").edited(lambda p: _with_hnte(p, hnte))
    version = _version(CAT.scheme(scheme_id), start.as_of)
    cap = version.annual_cap_per_enterprise.fen
    items = data.draw(loans(scheme_id))
    awards = [{"scheme_id": scheme_id, "amount_yuan": _yuan(fen), "date": f"{year}-01-02"} for year, fen in paid]
    world = start.edited(lambda p: p.update(loans=items, awards=awards))
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    other = world.edited(lambda p: p.update(loans=shuffled))
    results = [r for r in _results(world, [scheme_id]) if r["unit_id"]]
    again = {r["unit_id"]: (r["status"], r["amount_fen"]) for r in _results(other, [scheme_id]) if r["unit_id"]}
    assert {r["unit_id"]: (r["status"], r["amount_fen"]) for r in results} == again
    paid_by_year: dict[int, int] = {}
    for year, fen in paid:
        paid_by_year[year] = paid_by_year.get(year, 0) + fen
    granted: dict[int, int] = {}
    for result in results:
        if result["amount_fen"] is None:
            continue
        by_year = {int(y): fen for y, fen in result["details"]["by_year_fen"].items()}
        assert sum(by_year.values()) == result["amount_fen"] >= 0
        loan = next(l for l in items if l["id"] == result["unit_id"])
        assert result["amount_fen"] <= _exact_subsidy(loan, version.share.rate, version.subsidy_months.value)
        for year, fen in by_year.items():
            granted[year] = granted.get(year, 0) + fen
    for year, fen in granted.items():
        assert fen <= max(cap - paid_by_year.get(year, 0), 0), year


@pytest.mark.parametrize("scheme_id", SUBSIDY_SCHEMES)
@given(data=st.data(), hnte=st.sampled_from([False, None, True]))
def test_what_a_loan_received_is_never_granted_again_and_the_yearly_cap_holds(scheme_id: str, data: Any,
                                                                               hnte: bool | None) -> None:
    start = witness(scheme_id, "manufacturing").edited(lambda p: _with_hnte(p, hnte))
    version = _version(CAT.scheme(scheme_id), start.as_of)
    cap = version.annual_cap_per_enterprise.fen
    items = data.draw(loans(scheme_id))
    awards = data.draw(st.lists(st.fixed_dictionaries({
        "scheme_id": st.just(scheme_id),
        "amount_yuan": st.integers(1, 2_500_000_000).map(_yuan),
        "date": st.sampled_from(["2025-06-30", "2025-12-31", "2026-01-15", "2026-04-10"]),
        "unit_id": st.sampled_from([item["id"] for item in items] + ["an-earlier-loan"])}), max_size=4))
    world = start.edited(lambda p: p.update(loans=items, awards=awards))
    granted: dict[int, int] = {}
    for result in _results(world, [scheme_id]):
        if not result["unit_id"] or result["amount_fen"] is None:
            continue
        loan = next(l for l in items if l["id"] == result["unit_id"])
        received = sum(Fraction(Decimal(a["amount_yuan"])) * 100 for a in awards
                       if a["unit_id"] == loan["id"] and date.fromisoformat(a["date"]) <= start.as_of)
        # what it received plus what it is granted never passes the loan's own subsidy (unless it was paid more)
        exact = _exact_subsidy(loan, version.share.rate, version.subsidy_months.value)
        assert result["amount_fen"] <= max(exact - received, 0)
        assert 0 <= result["headroom_fen"] <= cap
        for year, fen in result["details"]["by_year_fen"].items():
            granted[int(year)] = granted.get(int(year), 0) + fen
    for year, fen in granted.items():
        assert fen <= cap, year


@pytest.mark.parametrize("scheme_id", SUBSIDY_SCHEMES)
@given(principal=st.integers(1, 10**12), more=st.integers(0, 10**12), days=st.integers(1, 800))
@example(principal=190_476_190_476, more=1, days=365)  # one fen under the ¥20M cap at 3% × 35%, then at it
def test_a_loan_subsidy_never_falls_as_the_principal_grows(scheme_id: str, principal: int, more: int,
                                                           days: int) -> None:
    start = witness(scheme_id, "manufacturing")
    issued = unit_dict(start.profile, start)["issue_date"]  # a YAML date in the worked case
    issued = issued if isinstance(issued, date) else date.fromisoformat(issued)

    def amount(fen: int) -> int:
        world = start.edited(lambda p: unit_dict(p, start).update(
            principal_yuan=_yuan(fen), annual_rate="0.03", maturity_date=(issued + timedelta(days=days)).isoformat()))
        return _result(world)["amount_fen"] or 0

    assert 0 <= amount(principal) <= amount(principal + more)


# --- unknown inputs never count as met ----------------------------------------------------------------------

BLANKABLE_PREFIXES = ("enterprise.certifications.", "enterprise.declarations.", "project.is_", "loan.",
                      "investment.", "project.location.", "enterprise.region.city", "enterprise.region.district")


def _blank(world: World, fact: str) -> World:
    def edit(profile: dict) -> None:
        enterprise = profile["enterprise"]
        if fact == "enterprise.industry_section":
            enterprise["industry_code"] = None
        elif fact == "enterprise.is_sme":
            enterprise.update(employees=None, revenue_yuan=None, total_assets_yuan=None)
        elif fact == "enterprise.ownership":
            enterprise["ownership"] = None
        elif fact.startswith("enterprise.region."):
            enterprise["region"][fact.rsplit(".", 1)[1]] = None
        elif fact.startswith("enterprise."):
            head, group, name = fact.split(".")
            enterprise.setdefault(group, {})[name] = None
        elif fact.startswith(("project.location.", "loan.region_of_use.")):
            unit_dict(profile, world)[fact.split(".")[1]] = None
        else:
            unit_dict(profile, world)[fact.split(".", 1)[1]] = None
    return world.edited(edit)


def blankable(scheme: Any) -> list[str]:
    leaves_ = all_leaves(scheme) if not isinstance(scheme, Compliance) else [
        leaf for version in scheme.versions for rule in version.rules for leaf in leaves(rule.violation_when)]
    names = {leaf.field for leaf in leaves_ if leaf.field.startswith(BLANKABLE_PREFIXES)
             or leaf.field in ("enterprise.industry_section", "enterprise.is_sme", "enterprise.ownership")}
    return sorted(names)


UNKNOWN_SCHEMES = [s.id for s in CAT.schemes if blankable(s) or getattr(s, "base", None)]


@pytest.mark.parametrize("scheme_id", UNKNOWN_SCHEMES)
@given(data=st.data())
def test_unknown_inputs_never_make_a_scheme_eligible(scheme_id: str, data: Any) -> None:
    scheme = CAT.scheme(scheme_id)
    tracks = [t.id for t in scheme.tracks] if isinstance(scheme, LoanInterestSubsidy) else [None]
    start = witness(scheme_id, data.draw(st.sampled_from(tracks)))
    choices = blankable(scheme) + ([scheme.base] if getattr(scheme, "base", None) else [])
    blanks = data.draw(st.sets(st.sampled_from(choices), min_size=1))
    world = start
    for fact in sorted(blanks):
        world = _blank(world, fact) if fact != getattr(scheme, "base", None) else set_base(world, fact, None)
    result = _result(world)
    assert result["status"] in ("eligible", "needs_confirmation"), "a blank never fails a condition outright"
    if getattr(scheme, "base", None) in blanks:
        assert result["status"] == "needs_confirmation"
        assert result["amount_fen"] is None
    if result["status"] == "eligible":
        # eligibility must not rest on a blank: giving it a failing value keeps the unit eligible
        others = all_leaves(scheme) if not isinstance(scheme, Compliance) else []
        for leaf in others:
            if leaf.field in blanks and facts_of(world)[leaf.field] is None:
                assert _result(steer(world, leaf, Outcome.failed, others))["status"] == "eligible", leaf.label_en
