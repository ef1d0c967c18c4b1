"""Facts: the flat, dotted names that conditions and bases refer to, and how to read them from a profile.

A scheme is evaluated once per unit (the enterprise, each project, each loan, the fund, each fund investment).
Enterprise facts are visible to every unit; a unit's own facts only to that unit. The registry lets the scheme
loader reject a misspelt or misplaced fact name at load time instead of at evaluation.
"""

from __future__ import annotations

from datetime import date
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
    return getattr(item, "value", item)


def _region(prefix: str, region: Region | None) -> dict[str, Any]:
    if region is None:
        return {f"{prefix}.province": None, f"{prefix}.city": None, f"{prefix}.district": None}
    return {f"{prefix}.province": region.province, f"{prefix}.city": region.city, f"{prefix}.district": region.district}


def enterprise_facts(
    enterprise: Enterprise, size: SizeClassification, projects: list[Project], as_of: date
) -> dict[str, Any]:
    from . import industry as industry_table

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
