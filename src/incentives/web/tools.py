"""The calculator tools without HTTP: rate look-ups, deadlines and the government-fund check."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..calculators.deadline import DeadlineAnswer, deadline_for_rule, deadline_rules
from ..calculators.rate_table import find_tool, rate_entry_on
from ..errors import InputError, Problem
from ..evaluate import evaluate
from ..profile import parse_profile
from ..report import evaluation_dict
from ..schemes import Catalogue

FUND_UNITS = ("fund", "fund_investment")
# The engine evaluates profiles of enterprises; a fund check needs only the fund, so the enterprise part is a
# fixed stand-in that no fund rule reads (fund rules see fund and investment facts only).
_STAND_IN_ENTERPRISE = {"name": "fund-check", "region": {"province": "北京市"}}


def rate_answer(cat: Catalogue, tool_id: str, tenor: str, on: date) -> dict[str, Any]:
    """Raises RateLookupError (zh / en) for an unknown tool, tenor or a date before the first rate."""
    tool = find_tool(cat.rates, tool_id)
    entry = rate_entry_on(tool, tenor, on)
    return {"tool": tool.id, "name_zh": tool.name_zh, "name_en": tool.name_en, "tenor": tenor, "on": on.isoformat(),
            "rate": entry.values[tenor], "effective_from": entry.from_.isoformat(), "cite": entry.cite.as_dict()}


def deadline_answer(cat: Catalogue, rule_id: str, event: date) -> tuple[Any, DeadlineAnswer]:
    """The deadline of a rule for an event date; raises InputError (unknown rule) or CalendarNotPublished."""
    rules = deadline_rules(cat)
    rule = rules.get(rule_id)
    if rule is None:
        known = ", ".join(rules)
        raise InputError([Problem("rule", f"未知的期限规则“{rule_id}”，可选：{known}",
                                  f"unknown deadline rule '{rule_id}'; known: {known}")])
    return rule, deadline_for_rule(rule, event)


def deadline_document(rule: Any, answer: DeadlineAnswer, event: date) -> dict[str, Any]:
    return {"rule": rule.id, "title_zh": rule.title_zh, "title_en": rule.title_en, "event_date": event.isoformat(),
            "counted_from": answer.event.isoformat(), "deadline": answer.deadline.isoformat(),
            "working_days": [d.isoformat() for d in answer.working_days]}


def fund_check(fund: Any, as_of: date, cat: Catalogue | None = None) -> dict[str, Any]:
    """Evaluate the fund rules (investment checks, deadlines) for one fund; raises InputError."""
    profile = parse_profile({"enterprise": _STAND_IN_ENTERPRISE, "fund": fund})
    document = evaluation_dict(evaluate(profile, as_of, cat))
    results = [r for r in document["results"] if r["unit_kind"] in FUND_UNITS]
    violations = [{"unit_id": r["unit_id"], **v} for r in results for v in r.get("violations") or []]
    return {"as_of": document["as_of"], "rules_version": document["rules_version"], "results": results,
            "violations": violations}

