"""Flip one input: for each fact a scheme tests, the profile edits that can change it, and how to pick one.

A flip test starts from an eligible worked case, makes one leaf condition decisive (the other branches of an
`any` fail, the other members of an `all` hold), then changes only the input behind that leaf. The edit is
chosen among the proposals below as the one that disturbs the scheme's other conditions least, so moving a
project out of Songjiang does not also "fail" the district test by accident.

A new scheme that tests a fact with no proposals here fails loudly, naming the fact.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Callable, Iterator

from incentives.conditions import AllOf, AnyOf, Leaf, NotOf, Outcome, evaluate as evaluate_condition, leaves
from incentives.errors import InputError
from incentives.evaluate import evaluate
from incentives.facts import enterprise_facts, fund_facts, investment_facts, loan_facts, project_facts
from incentives.industry import lookup
from incentives.profile import (
    IndustryCatalogue,
    LoanPurpose,
    LoanType,
    Ownership,
    PublicTradingKind,
    parse_profile,
)
from incentives.report import evaluation_dict
from incentives.scheme_files import Compliance, LoanInterestSubsidy, Scheme
from incentives.schemes import catalogue
from incentives.sme_size import classify
from worked_cases import all_cases, case_profile


@dataclass(frozen=True)
class World:
    """A profile, an evaluation date, and the scheme × unit being watched."""

    profile: dict
    as_of: date
    scheme_id: str
    unit: str
    unit_id: str | None

    def edited(self, edit: Callable[[dict], None]) -> World:
        profile = copy.deepcopy(self.profile)
        edit(profile)
        return replace(self, profile=profile)


# --- reading the world --------------------------------------------------------------------------------------

_UNIT_LISTS = {"project": ("projects",), "loan": ("loans",), "fund_investment": ("fund", "investments")}


def unit_dict(profile: dict, world: World) -> dict:
    items: Any = profile
    for key in _UNIT_LISTS[world.unit]:
        items = items[key]
    return next(item for item in items if item["id"] == world.unit_id)


def facts_of(world: World) -> dict[str, Any]:
    """The facts the engine's conditions see for the watched unit (raises InputError for an invalid profile)."""
    profile = parse_profile(world.profile)
    industry = lookup(profile.enterprise.industry_code) if profile.enterprise.industry_code else None
    size = classify(catalogue().sme_sizes, profile.enterprise, industry.section if industry else None)
    facts = enterprise_facts(profile.enterprise, size, profile.projects, world.as_of, profile.loans)
    if world.unit == "project":
        facts.update(project_facts(next(p for p in profile.projects if p.id == world.unit_id)))
    elif world.unit == "loan":
        facts.update(loan_facts(next(l for l in profile.loans if l.id == world.unit_id)))
    elif world.unit in ("fund", "fund_investment"):
        facts.update(fund_facts(profile.fund))
        if world.unit == "fund_investment":
            facts.update(investment_facts(next(i for i in profile.fund.investments if i.id == world.unit_id)))
    facts["history.has_award_for_scheme"] = any(
        a.scheme_id == world.scheme_id and a.date <= world.as_of for a in profile.awards)
    return facts


def result_of(world: World) -> dict:
    document = evaluation_dict(evaluate(parse_profile(world.profile), world.as_of))
    return next(r for r in document["results"] if r["scheme_id"] == world.scheme_id and r["unit_id"] == world.unit_id)


def failed_labels(result: dict) -> set[str]:
    def walk(condition: dict) -> list[str]:
        if condition["outcome"] != "failed":
            return []
        below = [label for child in condition.get("children") or [] for label in walk(child)]
        return below or [condition["label_en"]]

    return {label for condition in result["conditions"] for label in walk(condition)}


# --- proposals: the profile edits that can change each fact --------------------------------------------------

REGIONS = [
    {"province": "上海市", "city": "上海市", "district": "松江区"},
    {"province": "上海市", "city": "上海市", "district": "浦东新区"},
    {"province": "北京市", "city": "北京市", "district": "海淀区"},
    {"province": "广东省", "city": "广州市", "district": "黄埔区"},
    {"province": "广东省", "city": "深圳市", "district": None},
    {"province": "浙江省", "city": None, "district": None},
]
INDUSTRY_CODES = ["3421", "7320", "65"]  # sections C, M, I
SME_FIGURES = {
    True: {"employees": 50, "revenue_yuan": 10_000_000, "total_assets_yuan": 10_000_000},
    False: {"employees": 100_000, "revenue_yuan": 10**11, "total_assets_yuan": 10**11},
}
ENUMS = {
    "enterprise.ownership": Ownership,
    "loan.loan_type": LoanType,
    "loan.purpose": LoanPurpose,
    "investment.industry_catalogue": IndustryCatalogue,
    "investment.public_trading_kind": PublicTradingKind,
}
BOOLEAN_PREFIXES = ("enterprise.certifications.", "enterprise.declarations.", "project.is_", "loan.claimed_",
                    "loan.for_", "investment.is_", "investment.provides_", "investment.bears_",
                    "investment.permitted_")

Edit = tuple[str, Callable[[dict], None]]


def _operands(leaf: Leaf) -> list[Any]:
    operand = leaf.operand
    return list(operand) if isinstance(operand, list) else [operand]


def _set_field(world: World, key: str, value: Any) -> Callable[[dict], None]:
    """Set e.g. enterprise.certifications.hnte, or loan.purpose on the watched loan."""
    def edit(profile: dict) -> None:
        head, *path, last = key.split(".")
        target = profile["enterprise"] if head == "enterprise" else unit_dict(profile, world)
        for part in path:
            if target.get(part) is None:
                target[part] = {}
            target = target[part]
        target[last] = value
    return edit


def _region_edits(world: World, fact: str) -> list[Edit]:
    owner, container = fact.split(".")[:2]  # enterprise.region / project.location / loan.region_of_use

    def setter(region: dict | None) -> Callable[[dict], None]:
        def edit(profile: dict) -> None:
            holder = profile["enterprise"] if owner == "enterprise" else unit_dict(profile, world)
            holder[container] = None if region is None else dict(region)
        return edit

    edits = [(f"{container} = {r}", setter(r)) for r in REGIONS]
    if owner != "enterprise":  # a project's or loan's location may be unstated; the enterprise's may not
        edits.append((f"{container} = null", setter(None)))
    return edits


def _list_edits(world: World, leaf: Leaf, key: str) -> list[Edit]:
    operands = _operands(leaf)

    def add(profile: dict) -> None:
        items = unit_dict(profile, world).setdefault(key, [])
        items.extend(o for o in operands if o not in items)

    def remove(profile: dict) -> None:
        unit = unit_dict(profile, world)
        unit[key] = [item for item in unit.get(key) or [] if item not in operands]

    return [(f"add {operands} to {key}", add), (f"remove {operands} from {key}", remove)]


def _activity_edits(leaf: Leaf) -> list[Edit]:
    operands = _operands(leaf)

    def add(profile: dict) -> None:
        projects = profile.setdefault("projects", [])
        if not projects:
            projects.append({"id": "flip-project"})
        items = projects[0].setdefault("activities", [])
        items.extend(o for o in operands if o not in items)

    def remove(profile: dict) -> None:
        for project in profile.get("projects") or []:
            project["activities"] = [a for a in project.get("activities") or [] if a not in operands]

    return [(f"a project does {operands}", add), (f"no project does {operands}", remove)]


def _history_edits(world: World) -> list[Edit]:
    def add(profile: dict) -> None:
        profile.setdefault("awards", []).append(
            {"scheme_id": world.scheme_id, "amount_yuan": 1, "date": world.as_of.isoformat()})

    def remove(profile: dict) -> None:
        profile["awards"] = [a for a in profile.get("awards") or [] if a["scheme_id"] != world.scheme_id]

    return [("an earlier award of this scheme", add), ("no earlier award of this scheme", remove)]


def _loan_count_edits() -> list[Edit]:
    def keep_one(profile: dict) -> None:
        loans = profile.get("loans") or []
        profile["loans"] = loans[:1] or [{"id": "flip-loan"}]

    def remove(profile: dict) -> None:
        profile["loans"] = []

    return [("one loan", keep_one), ("no loan", remove)]


def _enterprise_set(**values: Any) -> Callable[[dict], None]:
    def edit(profile: dict) -> None:
        profile["enterprise"].update(values)
    return edit


def edits_for(world: World, leaf: Leaf) -> list[Edit]:
    fact = leaf.field
    if fact.startswith(("enterprise.region.", "project.location.", "loan.region_of_use.")):
        return _region_edits(world, fact)
    if fact in ("project.activities", "project.fields"):
        return _list_edits(world, leaf, fact.split(".")[1])
    if fact == "enterprise.has_projects_with_activity":
        return _activity_edits(leaf)
    if fact == "history.has_award_for_scheme":
        return _history_edits(world)
    if fact == "enterprise.loan_count":
        return _loan_count_edits()
    if fact == "enterprise.industry_section":
        return [(f"industry_code {code}", _enterprise_set(industry_code=code)) for code in INDUSTRY_CODES]
    if fact == "enterprise.is_sme":
        return [(f"figures of an {'SME' if sme else 'large firm'}", _enterprise_set(**figures))
                for sme, figures in SME_FIGURES.items()]
    if fact == "as_of":
        return []  # handled by as_of_worlds: the evaluation date is an input too
    if fact in ENUMS:
        return [(f"{fact} = {member.value}", _set_field(world, fact, member.value)) for member in ENUMS[fact]]
    if fact.startswith(BOOLEAN_PREFIXES):
        return [(f"{fact} = {value}", _set_field(world, fact, value)) for value in (True, False)]
    raise AssertionError(f"no flip input for fact '{fact}': add its edits to tests/engine/flip_inputs.py")


def _candidate_worlds(world: World, leaf: Leaf) -> Iterator[tuple[str, World]]:
    if leaf.field == "as_of":
        for operand in _operands(leaf):
            for delta in (-1, 0, 1):
                yield f"as_of {operand + timedelta(days=delta)}", replace(world, as_of=operand + timedelta(days=delta))
        return
    for description, edit in edits_for(world, leaf):
        yield description, world.edited(edit)


def outcome(leaf: Leaf, world: World) -> Outcome:
    return evaluate_condition(leaf, facts_of(world)).outcome


def steer(world: World, leaf: Leaf, want: Outcome, others: list[Leaf]) -> World:
    """Change only the input behind `leaf` so that it evaluates to `want`, disturbing the others least."""
    if outcome(leaf, world) is want:
        return world
    before = {id(other): evaluate_condition(other, facts_of(world)).outcome for other in others}
    best: tuple[int, World] | None = None
    for _, candidate in _candidate_worlds(world, leaf):
        try:
            facts = facts_of(candidate)
        except InputError:
            continue  # an edit the profile model rejects is not an input a user could give
        if evaluate_condition(leaf, facts).outcome is not want:
            continue
        cost = 0
        for other in others:
            if other.field == leaf.field:
                continue
            now = evaluate_condition(other, facts).outcome
            if now is not before[id(other)]:
                cost += 2 if now is Outcome.failed else 1
        if best is None or cost < best[0]:
            best = (cost, candidate)
    if best is None:
        raise AssertionError(f"no input makes '{leaf.field}' {want.value} for {leaf.label_en!r}")
    return best[1]


# --- making one leaf decisive -------------------------------------------------------------------------------


def _contains(node: Any, target: Leaf) -> bool:
    return any(leaf is target for leaf in leaves(node))


def _children(node: Any) -> list[Any]:
    if isinstance(node, AllOf):
        return node.all
    if isinstance(node, AnyOf):
        return node.any
    if isinstance(node, NotOf):
        return [node.not_]
    return []


@dataclass
class Isolation:
    world: World
    touched: set[str]  # facts changed to make other branches fail


def make_pass(node: Any, iso: Isolation, others: list[Leaf]) -> None:
    if isinstance(node, Leaf):
        iso.world = steer(iso.world, node, Outcome.met, others)
    elif isinstance(node, AllOf):
        for child in node.all:
            make_pass(child, iso, others)
    elif isinstance(node, AnyOf):
        facts = facts_of(iso.world)
        if not any(evaluate_condition(child, facts).outcome is Outcome.met for child in node.any):
            make_pass(node.any[0], iso, others)
    else:
        make_fail(node.not_, iso, others, avoid=set())


def make_fail(node: Any, iso: Isolation, others: list[Leaf], avoid: set[str]) -> None:
    iso.touched.update(leaf.field for leaf in leaves(node))  # a branch made to fail may report any of its leaves
    if isinstance(node, Leaf):
        iso.world = steer(iso.world, node, Outcome.failed, others)
    elif isinstance(node, AllOf):
        if evaluate_condition(node, facts_of(iso.world)).outcome is Outcome.failed:
            return
        plain = [c for c in node.all if isinstance(c, Leaf) and c.field not in avoid | {"as_of"}]
        make_fail((plain or node.all)[0], iso, others, avoid)
    elif isinstance(node, AnyOf):
        for child in node.any:
            make_fail(child, iso, others, avoid)
    else:
        make_pass(node.not_, iso, others)


def isolate(world: World, roots: list[Any], rivals: list[Any], target: Leaf, others: list[Leaf]) -> Isolation:
    """A world in which `target` holds and decides the outcome; `rivals` (other tracks) are made to fail."""
    iso = Isolation(world, set())
    avoid = {target.field}
    for rival in rivals:
        make_fail(rival, iso, others, avoid)
    chain: list[Any] = []
    level: list[Any] = roots
    while True:
        node = next(n for n in level if _contains(n, target))
        for sibling in level:
            if sibling is not node:
                if chain and isinstance(chain[-1], AnyOf):
                    make_fail(sibling, iso, others, avoid)
                else:
                    make_pass(sibling, iso, others)
        if node is target:
            break
        if isinstance(node, NotOf):
            raise NotImplementedError("flipping a leaf under `not` in an eligibility condition")
        chain.append(node)
        level = _children(node)
    iso.world = steer(iso.world, target, Outcome.met, others)
    return iso


# --- what to flip, per scheme -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlipTarget:
    scheme_id: str
    track_id: str | None
    leaf_index: int
    label_en: str
    field: str

    @property
    def test_id(self) -> str:
        track = f"[{self.track_id}]" if self.track_id else ""
        return f"{self.scheme_id}{track}::{self.label_en}"


def eligibility_roots(scheme: Scheme, track_id: str | None) -> tuple[list[Any], list[Any]]:
    """(conditions that must all hold, rival groups that must fail) for a scheme, on one track if it has tracks."""
    if isinstance(scheme, LoanInterestSubsidy):
        track = next(t for t in scheme.tracks if t.id == track_id)
        roots = list(scheme.conditions) + list(scheme.loan_conditions) + list(track.enterprise_conditions) + list(
            track.loan_conditions)
        rivals = [AllOf.model_validate({"all": list(t.enterprise_conditions)})
                  for t in scheme.tracks if t.id != track_id and t.enterprise_conditions]
        return roots, rivals
    return list(scheme.conditions), []


def all_leaves(scheme: Scheme) -> list[Leaf]:
    groups = [scheme.conditions]
    if isinstance(scheme, LoanInterestSubsidy):
        groups += [scheme.loan_conditions] + [t.enterprise_conditions + t.loan_conditions for t in scheme.tracks]
    return [leaf for group in groups for condition in group for leaf in leaves(condition)]


def flip_targets() -> list[FlipTarget]:
    targets = []
    for scheme in catalogue().schemes:
        if isinstance(scheme, Compliance):
            continue  # its rules are prohibitions, flipped in test_flips.py's compliance tests
        tracks = [t.id for t in scheme.tracks] if isinstance(scheme, LoanInterestSubsidy) else [None]
        for track_id in tracks:
            roots, _ = eligibility_roots(scheme, track_id)
            for index, leaf in enumerate(l for root in roots for l in leaves(root)):
                targets.append(FlipTarget(scheme.id, track_id, index, leaf.label_en or "", leaf.field))
    return targets


@lru_cache(maxsize=None)
def witness(scheme_id: str, track_id: str | None = None) -> World:
    """The first worked case in which this scheme (on this track) is eligible for some unit."""
    scheme = catalogue().scheme(scheme_id)
    for _, parsed, case in all_cases():
        for expectation in case.expect:
            if expectation.scheme_id != scheme_id or expectation.status != "eligible":
                continue
            world = World(case_profile(parsed, case), case.as_of, scheme_id, scheme.unit, expectation.unit_id)
            if track_id is None or (result_of(world).get("details") or {}).get("track") == track_id:
                return world
    raise AssertionError(f"no eligible worked case for {scheme_id} {track_id or ''}: add one to its .cases.yaml")
