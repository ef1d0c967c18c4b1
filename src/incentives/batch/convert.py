"""Profiles <-> batch tables: the same enterprises as validated profiles or as four polars frames.

The tables carry no government fund (batch screening is about enterprises), so a profile's `fund` is dropped
and profiles built from tables have none. Amounts stay integer fen; rates travel as exact decimal text.
A null list cell (activities, fields) reads as an empty list, as in a profile.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import polars as pl

from ..errors import InputError, Problem
from ..money import fen_to_yuan
from ..profile import Profile, parse_profile
from .tables import AWARDS, ENTERPRISES, LOANS, PROJECTS, Column, Tables, schema

_CERTIFICATIONS = ("hnte", "tech_sme", "specialized_sme", "little_giant", "single_champion", "chain_leader",
                   "tech_leader")
_DECLARATIONS = ("on_dishonesty_list", "main_business_encouraged", "on_tech_sme_list", "has_high_rd_intensity")


def _value(item: Any) -> Any:
    return getattr(item, "value", item)


def _frame(rows: list[dict[str, Any]], columns: tuple[Column, ...]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema(columns), orient="row") if rows else pl.DataFrame(schema=schema(columns))


def profiles_to_tables(profiles: list[tuple[str, Profile]]) -> Tables:
    """Flatten (enterprise_id, profile) pairs into the four batch tables, in the order given."""
    enterprises, projects, loans, awards = [], [], [], []
    for enterprise_id, profile in profiles:
        e = profile.enterprise
        row: dict[str, Any] = {
            "enterprise_id": enterprise_id, "name": e.name, "uscc": e.uscc,
            "province": e.region.province, "city": e.region.city, "district": e.region.district,
            "industry_code": e.industry_code, "ownership": _value(e.ownership) if e.ownership else None,
            "employees": e.employees, "revenue_fen": e.revenue_fen, "total_assets_fen": e.total_assets_fen,
            "rd_spend_fen": e.rd_spend_fen,
        }
        row.update({name: getattr(e.certifications, name) for name in _CERTIFICATIONS})
        row.update({name: getattr(e.declarations, name) for name in _DECLARATIONS})
        enterprises.append(row)
        for p in profile.projects:
            location = p.location
            projects.append({
                "enterprise_id": enterprise_id, "project_id": p.id, "name": p.name,
                "activities": [_value(a) for a in p.activities], "fields": [_value(f) for f in p.fields],
                "province": location.province if location else None,
                "city": location.city if location else None,
                "district": location.district if location else None,
                "total_input_fen": p.total_input_fen, "rd_input_fen": p.rd_input_fen,
                "challenge_amount_fen": p.challenge_amount_fen,
                "annual_operating_expenses_fen": p.annual_operating_expenses_fen,
                "pilot_service_fees_fen": p.pilot_service_fees_fen,
                "is_independent_legal_entity": p.is_independent_legal_entity, "is_new": p.is_new,
            })
        for loan in profile.loans:
            region = loan.region_of_use
            loans.append({
                "enterprise_id": enterprise_id, "loan_id": loan.id, "principal_fen": loan.principal_fen,
                "annual_rate": format(loan.annual_rate, "f"), "issue_date": loan.issue_date,
                "maturity_date": loan.maturity_date,
                "loan_type": _value(loan.loan_type) if loan.loan_type else None,
                "purpose": _value(loan.purpose) if loan.purpose else None,
                "use_province": region.province if region else None, "use_city": region.city if region else None,
                "lender": loan.lender, "claimed_under_other_policy": loan.claimed_under_other_policy,
                "for_tech_upgrade_project": loan.for_tech_upgrade_project,
            })
        for award in profile.awards:
            awards.append({"enterprise_id": enterprise_id, "scheme_id": award.scheme_id,
                           "amount_fen": award.amount_fen, "date": award.date, "unit_id": award.unit_id,
                           "source": award.source})
    return Tables(_frame(enterprises, ENTERPRISES), _frame(projects, PROJECTS), _frame(loans, LOANS),
                  _frame(awards, AWARDS))


def _yuan(fen: int | None) -> str | None:
    return None if fen is None else str(fen_to_yuan(fen))


def _region(province: str | None, city: str | None, district: str | None = None) -> dict[str, Any] | None:
    if province is None:
        return None
    region: dict[str, Any] = {"province": province, "city": city}
    if district is not None:
        region["district"] = district
    return region


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def _by_enterprise(frame: pl.DataFrame) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in frame.iter_rows(named=True):
        grouped[row["enterprise_id"]].append(row)
    return grouped


def profile_dict(enterprise: dict[str, Any], projects: list[dict[str, Any]], loans: list[dict[str, Any]],
                 awards: list[dict[str, Any]]) -> dict[str, Any]:
    """One enterprise's table rows as the JSON-like dict a profile is parsed from (amounts in yuan)."""
    e = enterprise
    return {
        "enterprise": _drop_none({
            "name": e["name"], "uscc": e.get("uscc"),
            "region": _region(e["province"], e.get("city"), e.get("district")),
            "industry_code": e.get("industry_code"), "ownership": e.get("ownership"), "employees": e.get("employees"),
            "revenue_yuan": _yuan(e.get("revenue_fen")), "total_assets_yuan": _yuan(e.get("total_assets_fen")),
            "rd_spend_yuan": _yuan(e.get("rd_spend_fen")),
            "certifications": _drop_none({name: e.get(name) for name in _CERTIFICATIONS}),
            "declarations": _drop_none({name: e.get(name) for name in _DECLARATIONS}),
        }),
        "projects": [_drop_none({
            "id": p["project_id"], "name": p.get("name"), "activities": p.get("activities") or [],
            "fields": p.get("fields") or [], "location": _region(p.get("province"), p.get("city"), p.get("district")),
            "total_input_yuan": _yuan(p.get("total_input_fen")), "rd_input_yuan": _yuan(p.get("rd_input_fen")),
            "challenge_amount_yuan": _yuan(p.get("challenge_amount_fen")),
            "annual_operating_expenses_yuan": _yuan(p.get("annual_operating_expenses_fen")),
            "pilot_service_fees_yuan": _yuan(p.get("pilot_service_fees_fen")),
            "is_independent_legal_entity": p.get("is_independent_legal_entity"), "is_new": p.get("is_new"),
        }) for p in projects],
        "loans": [_drop_none({
            "id": l["loan_id"], "principal_yuan": _yuan(l["principal_fen"]), "annual_rate": l["annual_rate"],
            "issue_date": _iso(l["issue_date"]), "maturity_date": _iso(l["maturity_date"]),
            "loan_type": l.get("loan_type"), "purpose": l.get("purpose"),
            "region_of_use": _region(l.get("use_province"), l.get("use_city")), "lender": l.get("lender"),
            "claimed_under_other_policy": l.get("claimed_under_other_policy"),
            "for_tech_upgrade_project": l.get("for_tech_upgrade_project"),
        }) for l in loans],
        "awards": [_drop_none({
            "scheme_id": a["scheme_id"], "amount_yuan": _yuan(a["amount_fen"]), "date": _iso(a["date"]),
            "unit_id": a.get("unit_id"), "source": a.get("source"),
        }) for a in awards],
    }


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def tables_to_profiles(tables: Tables) -> list[tuple[str, Profile]]:
    """Rebuild one validated profile per enterprise row; raises InputError naming the enterprise on bad rows."""
    projects = _by_enterprise(tables.projects)
    loans = _by_enterprise(tables.loans)
    awards = _by_enterprise(tables.awards)
    out = []
    for row in tables.enterprises.iter_rows(named=True):
        enterprise_id = row["enterprise_id"]
        data = profile_dict(row, projects.get(enterprise_id, []), loans.get(enterprise_id, []),
                            awards.get(enterprise_id, []))
        try:
            out.append((enterprise_id, parse_profile(data)))
        except InputError as error:
            raise InputError([Problem(f"{enterprise_id}:{p.path}", p.zh, p.en) for p in error.problems]) from None
    return out
