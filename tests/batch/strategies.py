"""Hypothesis strategies for random, valid profiles that exercise every scheme of the bundled catalogue.

Regions lean toward the schemes' regions (Songjiang, Beijing, Guangdong with and without Shenzhen), amounts
cluster at the caps' exact boundaries (base × rate = cap, one fen either side), loans straddle 1 January and
the edges of the Guangdong issue window, and unknown (None) values appear everywhere they are allowed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from incentives.batch.tables import ACTIVITIES, FIELDS, LOAN_PURPOSES, LOAN_TYPES, OWNERSHIP
from incentives.profile import Profile, parse_profile

REGIONS = [
    {"province": "上海市", "city": "上海市", "district": "松江区"},
    {"province": "上海市", "city": "上海市", "district": "松江区"},
    {"province": "上海市", "city": "上海市", "district": "浦东新区"},
    {"province": "上海市", "city": "上海市"},
    {"province": "上海市"},
    {"province": "北京市", "city": "北京市", "district": "海淀区"},
    {"province": "北京市", "city": "北京市"},
    {"province": "广东省", "city": "广州市", "district": "黄埔区"},
    {"province": "广东省", "city": "深圳市", "district": "南山区"},
    {"province": "广东省", "city": "佛山市"},
    {"province": "广东省"},
    {"province": "江苏省"},
]
INDUSTRY_CODES = [None, "C", "3743", "C3311", "13", "65", "6513", "51", "52", "7010", "7020", "A", "E", "L", "59",
                  "D", "63"]
# yuan amounts at the caps' edges: base × rate lands on, just under or just over a cap
CAP_EDGE_YUAN = ["100000000", "99999999.99", "100000000.01",  # 30% of it = ¥30M
                 "66666666.66", "66666666.67", "66666666.70",  # 30% -> ¥20M
                 "33333333.33", "33333333.34",  # 30% -> ¥10M
                 "333333333.33", "333333333.34",  # 15% -> ¥50M
                 "285714285.71", "285714285.72",  # 35% -> ¥100M
                 "222222222.22", "222222222.23",  # 45% -> ¥100M
                 "200000000", "142857142.85", "142857142.86",  # 25% / 35% -> ¥50M
                 "6666666.66", "6666666.67",  # 30% -> ¥2M a year
                 "500000", "499999.99", "500000.01", "10000000", "5000000", "2000000", "20000000"]
SMALL_YUAN = ["0", "0.01", "1", "123.45", "3000000", "18000000", "240000000", "1000000000"]
AS_OF_DATES = [date(2025, 4, 30), date(2025, 6, 1), date(2026, 1, 4), date(2026, 3, 15), date(2026, 6, 1),
               date(2026, 12, 31), date(2027, 6, 30), date(2028, 12, 31), date(2029, 1, 1), date(2031, 2, 1)]
AWARD_SCHEMES = ["sh-g60/industry-cluster", "sh-g60/intl-org-operations", "gd/loan-interest-subsidy",
                 "sh-g60/satellite-services-award", "sh-g60/satellite-licence-award", "sh-g60/intl-org-startup",
                 "sh-g60/overseas-incubator", "bj-pilot/innovation-voucher", "other/scheme"]


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


def mostly(favoured: st.SearchStrategy, broad: st.SearchStrategy) -> st.SearchStrategy:
    """Three draws in four from the favoured values: enough profiles fit a scheme to reach its arithmetic."""
    return st.integers(0, 3).flatmap(lambda pick: favoured if pick else broad)


# archetypes lean a profile toward one region's schemes; "any" leaves every field broad
ARCHETYPES = ("any", "songjiang", "beijing", "guangdong")
HOME = {"songjiang": REGIONS[0], "beijing": {"province": "北京市", "city": "北京市"},
        "guangdong": {"province": "广东省", "city": "广州市"}}


def yuan() -> st.SearchStrategy[str]:
    cents = st.integers(min_value=0, max_value=50_000_000_000).map(lambda fen: f"{fen // 100}.{fen % 100:02d}")
    return st.one_of(st.sampled_from(CAP_EDGE_YUAN), st.sampled_from(SMALL_YUAN), cents)


def wan_figure() -> st.SearchStrategy[str]:
    # around the SME size thresholds, in 万元 × 10,000 yuan
    thresholds = [50, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 6000, 8000, 10000, 20000, 30000, 40000, 80000,
                  100000, 120000, 200000]
    edge = st.tuples(st.sampled_from(thresholds), st.sampled_from([-1, 0, 1])).map(
        lambda t: str(max(t[0] * 10_000 + t[1], 0)))
    return st.one_of(edge, st.integers(min_value=0, max_value=3_000_000_000).map(str))


@st.composite
def projects(draw: Any, archetype: str = "any") -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=0, max_value=4))
    out = []
    for index in range(count):
        project: dict[str, Any] = {
            "id": f"P{index}",
            "activities": draw(st.lists(st.sampled_from(ACTIVITIES), max_size=3)),
            "fields": draw(st.lists(st.sampled_from(FIELDS), max_size=3)),
        }
        if archetype == "beijing":
            project["activities"] += draw(st.lists(st.sampled_from(["pilot_platform", "pilot_services"]), max_size=2))
        regions = st.sampled_from(REGIONS)
        location = draw(maybe(mostly(st.just(HOME[archetype]), regions) if archetype in HOME else regions))
        if location is not None:
            project["location"] = location
        for name in ("total_input_yuan", "rd_input_yuan", "challenge_amount_yuan", "annual_operating_expenses_yuan",
                     "pilot_service_fees_yuan"):
            value = draw(maybe(yuan()))
            if value is not None:
                project[name] = value
        for name in ("is_independent_legal_entity", "is_new"):
            project[name] = draw(maybe(st.booleans()))
        if archetype == "beijing" and draw(st.booleans()):
            project["is_new"] = True
        out.append(project)
    return out


ISSUE_EDGES = [date(2025, 4, 30), date(2025, 5, 1), date(2027, 12, 31), date(2028, 1, 1), date(2025, 12, 31),
               date(2026, 1, 1), date(2026, 2, 28), date(2027, 2, 28), date(2027, 3, 1), date(2024, 2, 29)]


@st.composite
def loans(draw: Any, archetype: str = "any") -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=0, max_value=3))
    out = []
    for index in range(count):
        issue = draw(st.one_of(st.sampled_from(ISSUE_EDGES),
                               st.dates(min_value=date(2024, 6, 1), max_value=date(2028, 6, 30))))
        fits = archetype == "guangdong"
        maturity = issue + timedelta(days=draw(st.one_of(st.integers(1, 40), st.integers(300, 430),
                                                         st.integers(431, 1500))))
        principal = draw(st.one_of(st.sampled_from(["10000000", "50000000", "2000000000", "5000000000",
                                                    "1500000000.55", "0.01", "1"]),
                                   st.integers(min_value=1, max_value=10**9).map(str)))
        loan: dict[str, Any] = {
            "id": f"L{index}", "principal_yuan": principal,
            "annual_rate": draw(st.sampled_from(["0.035", "0.028", "0.04", "0.0315", "0.05", "0.0299", "1", "0"])),
            "issue_date": issue.isoformat(), "maturity_date": maturity.isoformat(),
            "loan_type": draw(mostly(st.sampled_from(["fixed_asset", "working_capital"]), maybe(st.sampled_from(LOAN_TYPES)))
                              if fits else maybe(st.sampled_from(LOAN_TYPES))),
            "purpose": draw(mostly(st.sampled_from(["build_plant", "buy_equipment", "tech_upgrade", "rd"]),
                                   maybe(st.sampled_from(LOAN_PURPOSES))) if fits else maybe(st.sampled_from(LOAN_PURPOSES))),
            "claimed_under_other_policy": draw(mostly(st.just(False), maybe(st.booleans())) if fits else maybe(st.booleans())),
            "for_tech_upgrade_project": draw(maybe(st.booleans())),
        }
        region = draw(mostly(st.just(HOME["guangdong"]), maybe(st.sampled_from(REGIONS))) if fits
                      else maybe(st.sampled_from(REGIONS)))
        if region is not None:
            loan["region_of_use"] = {k: v for k, v in region.items() if k != "district"}
        out.append({k: v for k, v in loan.items() if v is not None})
    return out


@st.composite
def awards(draw: Any, unit_ids: list[str], as_of: date) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=0, max_value=3))
    out = []
    for _ in range(count):
        when = draw(st.one_of(st.sampled_from([as_of, as_of - timedelta(days=1), as_of + timedelta(days=1),
                                               date(as_of.year, 1, 1), date(as_of.year - 1, 12, 31)]),
                              st.dates(min_value=date(2024, 1, 1), max_value=date(2031, 12, 31))))
        award: dict[str, Any] = {
            "scheme_id": draw(st.sampled_from(AWARD_SCHEMES)),
            "amount_yuan": draw(st.one_of(st.sampled_from(["20000000", "19999999.99", "2000000", "1999999.99",
                                                           "5000000", "0.01", "15000000"]), yuan())),
            "date": when.isoformat(),
        }
        unit = draw(maybe(st.sampled_from(unit_ids or ["P9"])))
        if unit is not None:
            award["unit_id"] = unit
        out.append(award)
    return out


@st.composite
def profile_dicts(draw: Any, as_of: date) -> dict[str, Any]:
    archetype = draw(st.sampled_from(ARCHETYPES))
    regions = st.sampled_from(REGIONS)
    enterprise: dict[str, Any] = {"name": draw(st.sampled_from(["甲公司", "乙科技", "=cmd|' /C calc'!A0", "Acme"])),
                                  "region": draw(mostly(st.just(HOME[archetype]), regions) if archetype in HOME
                                                 else regions)}
    optional = {
        "industry_code": st.sampled_from(INDUSTRY_CODES),
        "ownership": maybe(st.sampled_from(OWNERSHIP)),
        "employees": maybe(st.one_of(st.sampled_from([0, 5, 9, 10, 19, 20, 49, 50, 99, 100, 199, 200, 299, 300,
                                                       999, 1000, 1999, 2000]), st.integers(0, 5000))),
        "revenue_yuan": maybe(wan_figure()),
        "total_assets_yuan": maybe(wan_figure()),
        "rd_spend_yuan": maybe(yuan()),
    }
    for name, strategy in optional.items():
        value = draw(strategy)
        if value is not None:
            enterprise[name] = value
    enterprise["certifications"] = {name: draw(maybe(st.booleans())) for name in
                                    ("hnte", "tech_sme", "specialized_sme", "little_giant")}
    enterprise["declarations"] = {name: draw(maybe(st.booleans())) for name in
                                  ("on_dishonesty_list", "main_business_encouraged", "on_tech_sme_list",
                                   "has_high_rd_intensity")}
    if archetype == "guangdong":
        enterprise["industry_code"] = draw(mostly(st.sampled_from(["C", "3311", "C3743", "13"]),
                                                  st.sampled_from(INDUSTRY_CODES[1:])))
        enterprise["declarations"]["on_dishonesty_list"] = draw(mostly(st.just(False), maybe(st.booleans())))
        for group, name in (("certifications", "hnte"), ("declarations", "main_business_encouraged")):
            enterprise[group][name] = draw(mostly(st.just(True), maybe(st.booleans())))
    project_list = draw(projects(archetype))
    loan_list = draw(loans(archetype))
    # an award names a project or a loan (a loan's own subsidy less what it received)
    return {"enterprise": enterprise, "projects": project_list, "loans": loan_list,
            "awards": draw(awards([p["id"] for p in project_list] + [l["id"] for l in loan_list], as_of))}


@st.composite
def populations(draw: Any, max_size: int = 4) -> tuple[date, list[tuple[str, Profile]]]:
    """An evaluation date and a few enterprises (ids E0, E1, ...) evaluated together in one table."""
    as_of = draw(st.sampled_from(AS_OF_DATES))
    count = draw(st.integers(min_value=1, max_value=max_size))
    return as_of, [(f"E{i}", parse_profile(draw(profile_dicts(as_of)))) for i in range(count)]
