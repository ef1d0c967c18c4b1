"""Facts: the flat, dotted names that conditions and bases refer to, and how to read them from a profile.

A scheme is evaluated once per unit (the enterprise, each project, each loan, the fund, each fund investment).
Enterprise facts are visible to every unit; a unit's own facts only to that unit. The registry lets the scheme
loader reject a misspelt or misplaced fact name at load time instead of at evaluation.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .profile import Enterprise, Fund, FundInvestment, Loan, Project, Region
    from .sme_size import SizeClassification

Unit = Literal["enterprise", "project", "loan", "fund", "fund_investment"]
ALL_UNITS: frozenset[str] = frozenset({"enterprise", "project", "loan", "fund", "fund_investment"})

_ENTERPRISE = [
    "as_of",
    "enterprise.region.province",
    "enterprise.region.city",
    "enterprise.region.district",
    "enterprise.industry_code",
    "enterprise.industry_section",
    "enterprise.ownership",
    "enterprise.employees",
    "enterprise.revenue_fen",
    "enterprise.total_assets_fen",
    "enterprise.rd_spend_fen",
    "enterprise.size_class",
    "enterprise.is_sme",
    "enterprise.certifications.hnte",
    "enterprise.certifications.tech_sme",
    "enterprise.certifications.specialized_sme",
    "enterprise.certifications.little_giant",
    "enterprise.certifications.single_champion",
    "enterprise.certifications.chain_leader",
    "enterprise.certifications.tech_leader",
    "enterprise.declarations.on_dishonesty_list",
    "enterprise.declarations.main_business_encouraged",
    "enterprise.declarations.on_tech_sme_list",
    "enterprise.declarations.has_high_rd_intensity",
    "enterprise.has_projects_with_activity",
    "enterprise.pilot_service_fees_fen",
    "enterprise.loan_count",
    "history.has_award_for_scheme",
]
_PROJECT = [
    "project.activities",
    "project.fields",
    "project.location.province",
    "project.location.city",
    "project.location.district",
    "project.total_input_fen",
    "project.rd_input_fen",
    "project.challenge_amount_fen",
    "project.annual_operating_expenses_fen",
    "project.pilot_service_fees_fen",
    "project.is_independent_legal_entity",
    "project.is_new",
]
_LOAN = [
    "loan.principal_fen",
    "loan.annual_rate",
    "loan.issue_date",
    "loan.maturity_date",
    "loan.loan_type",
    "loan.purpose",
    "loan.region_of_use.province",
    "loan.region_of_use.city",
    "loan.claimed_under_other_policy",
    "loan.for_tech_upgrade_project",
]
_FUND = ["fund.established_date", "fund.first_paid_in_date", "fund.fiscal_year_end", "fund.is_present"]
_INVESTMENT = [
    "investment.industry_catalogue",
    "investment.is_disguised_debt",
    "investment.is_public_stock_trading",
    "investment.public_trading_kind",
    "investment.permitted_by_fund_plan",
    "investment.is_derivatives_trading",
    "investment.provides_guarantee",
    "investment.bears_unlimited_liability",
]

FACTS: dict[str, frozenset[str]] = {
    **{name: ALL_UNITS for name in _ENTERPRISE},
    **{name: frozenset({"project"}) for name in _PROJECT},
    **{name: frozenset({"loan"}) for name in _LOAN},
    **{name: frozenset({"fund", "fund_investment"}) for name in _FUND},
    **{name: frozenset({"fund_investment"}) for name in _INVESTMENT},
}
MONEY_FACTS = frozenset(name for name in FACTS if name.endswith("_fen"))


def _value(item: Any) -> Any:
    # an enum member's value read directly: Enum.value is a descriptor several times slower, on the hot path
    if isinstance(item, Enum):
        return item._value_
    return getattr(item, "value", item)


# the fact names of each region prefix, written once: the facts are read for every unit of every request
_REGION_NAMES: dict[str, tuple[str, str, str]] = {}


def _region(prefix: str, region: Region | None) -> dict[str, Any]:
    names = _REGION_NAMES.get(prefix)
    if names is None:
        names = _REGION_NAMES[prefix] = (f"{prefix}.province", f"{prefix}.city", f"{prefix}.district")
    province, city, district = names
    if region is None:
        return {province: None, city: None, district: None}
    return {province: region.province, city: region.city, district: region.district}


_CERTIFICATION_NAMES: dict[str, str] = {}  # field name -> fact name, e.g. hnte -> enterprise.certifications.hnte
_DECLARATION_NAMES: dict[str, str] = {}


def _flag_facts(facts: dict[str, Any], model: Any, names: dict[str, str], prefix: str) -> None:
    """One fact per field of a flags model (certifications, declarations), in the model's field order."""
    # the model's own fields, as iterating over it yields them (these models forbid extra fields)
    for name, value in model.__dict__.items():
        fact = names.get(name)
        if fact is None:
            fact = names[name] = prefix + name
        facts[fact] = value


def enterprise_facts(
    enterprise: Enterprise, size: SizeClassification, projects: list[Project], as_of: date, loans: Sequence[Loan] = ()
) -> dict[str, Any]:
    from . import industry as industry_table

    industry = industry_table.lookup(enterprise.industry_code) if enterprise.industry_code else None
    ownership = enterprise.ownership
    size_class = size.size_class
    facts: dict[str, Any] = {
        "as_of": as_of,
        **_region("enterprise.region", enterprise.region),
        "enterprise.industry_code": enterprise.industry_code,
        "enterprise.industry_section": industry.section if industry else None,
        "enterprise.ownership": _value(ownership) if ownership else None,
        "enterprise.employees": enterprise.employees,
        "enterprise.revenue_fen": enterprise.revenue_fen,
        "enterprise.total_assets_fen": enterprise.total_assets_fen,
        "enterprise.rd_spend_fen": enterprise.rd_spend_fen,
        "enterprise.size_class": size_class,
        "enterprise.is_sme": None if size_class is None else size_class != "large",
        "enterprise.has_projects_with_activity": tuple(
            sorted({_value(activity) for project in projects for activity in project.activities})
        ),
        "enterprise.pilot_service_fees_fen": _sum_pilot_fees(projects),
        "enterprise.loan_count": len(loans),
    }
    _flag_facts(facts, enterprise.certifications, _CERTIFICATION_NAMES, "enterprise.certifications.")
    _flag_facts(facts, enterprise.declarations, _DECLARATION_NAMES, "enterprise.declarations.")
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
    location = project.location
    return {
        "project.activities": tuple([_value(a) for a in project.activities]),
        "project.fields": tuple([_value(f) for f in project.fields]),
        # the region's facts written out (as _region gives them): read for every project of every request
        "project.location.province": location.province if location is not None else None,
        "project.location.city": location.city if location is not None else None,
        "project.location.district": location.district if location is not None else None,
        "project.total_input_fen": project.total_input_fen,
        "project.rd_input_fen": project.rd_input_fen,
        "project.challenge_amount_fen": project.challenge_amount_fen,
        "project.annual_operating_expenses_fen": project.annual_operating_expenses_fen,
        "project.pilot_service_fees_fen": project.pilot_service_fees_fen,
        "project.is_independent_legal_entity": project.is_independent_legal_entity,
        "project.is_new": project.is_new,
    }


def loan_facts(loan: Loan) -> dict[str, Any]:
    region = loan.region_of_use
    return {
        "loan.principal_fen": loan.principal_fen,
        "loan.annual_rate": loan.annual_rate,
        "loan.issue_date": loan.issue_date,
        "loan.maturity_date": loan.maturity_date,
        "loan.loan_type": _value(loan.loan_type) if loan.loan_type else None,
        "loan.purpose": _value(loan.purpose) if loan.purpose else None,
        # the region's province and city (a loan's district is not a fact)
        "loan.region_of_use.province": region.province if region is not None else None,
        "loan.region_of_use.city": region.city if region is not None else None,
        "loan.claimed_under_other_policy": loan.claimed_under_other_policy,
        "loan.for_tech_upgrade_project": loan.for_tech_upgrade_project,
    }


def fund_facts(fund: Fund | None) -> dict[str, Any]:
    if fund is None:
        return {"fund.is_present": False, "fund.established_date": None, "fund.first_paid_in_date": None,
                "fund.fiscal_year_end": None}
    return {
        "fund.is_present": True,
        "fund.established_date": fund.established_date,
        "fund.first_paid_in_date": fund.first_paid_in_date,
        "fund.fiscal_year_end": fund.fiscal_year_end,
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
