"""Sample profiles for the store tests (a module, not conftest: several conftest.py files share that name)."""

from __future__ import annotations


def cluster_profile(name: str = "松江集群科技有限公司", awards: list[dict] | None = None) -> dict:
    """A Songjiang enterprise with an industry-cluster project: sh-g60/industry-cluster applies (¥20M in total)."""
    return {
        "schema_version": 1,
        "enterprise": {
            "name": name,
            "region": {"province": "上海市", "city": "上海市", "district": "松江区"},
            "industry_code": "3743",
            "employees": 120,
            "revenue_yuan": "90000000",
            "declarations": {"on_dishonesty_list": False},
        },
        "projects": [{"id": "cluster-1", "name": "产业集群项目", "activities": ["industry_cluster"],
                      "location": {"province": "上海市", "city": "上海市", "district": "松江区"},
                      "total_input_yuan": "50000000"}],
        "awards": awards or [],
    }


def guangdong_profile(name: str = "广州精工装备制造有限公司", awards: list[dict] | None = None) -> dict:
    """A Guangzhou manufacturer with one eligible fixed-asset loan: gd/loan-interest-subsidy (¥20M a year)."""
    return {
        "schema_version": 1,
        "enterprise": {
            "name": name,
            "region": {"province": "广东省", "city": "广州市", "district": "黄埔区"},
            "industry_code": "3421",
            "ownership": "private",
            "employees": 420,
            "revenue_yuan": "350000000",
            "total_assets_yuan": "600000000",
            "certifications": {"hnte": True},
            "declarations": {"on_dishonesty_list": False, "main_business_encouraged": True},
        },
        "loans": [{"id": "boc-fa-2025", "principal_yuan": "10000000", "annual_rate": "0.04",
                   "issue_date": "2025-07-01", "maturity_date": "2028-06-30", "loan_type": "fixed_asset",
                   "purpose": "buy_equipment", "region_of_use": {"province": "广东省", "city": "广州市"},
                   "claimed_under_other_policy": False, "for_tech_upgrade_project": True}],
        "awards": awards or [],
    }
