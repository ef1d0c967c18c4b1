"""Arranges the engine's result document for the results panel: what pays (largest first), what only informs,
what was superseded, and the ineligible schemes (collapsed, one line each with the conditions that failed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..conditions import ConditionResult, Outcome
from ..results import Status
from .display_values import unit_caption

if TYPE_CHECKING:
    from ..evaluate import Evaluation

PAYING = ("eligible", "needs_confirmation")
_STATUS_VALUES = {status: status.value for status in Status}


@dataclass
class IneligibleScheme:
    scheme_id: str
    title_zh: str
    title_en: str
    units: list[str]
    failed: list[dict[str, Any]]  # the first one or two failed conditions
    unit_kind: str  # what the failed conditions' values are about (a loan's "rd" is a purpose)


@dataclass
class Panel:
    document: dict[str, Any]
    paying: list[dict[str, Any]] = field(default_factory=list)
    informing: list[dict[str, Any]] = field(default_factory=list)  # deadlines, rates, checks: no amount
    superseded: list[dict[str, Any]] = field(default_factory=list)
    not_in_force: list[dict[str, Any]] = field(default_factory=list)
    ineligible: list[IneligibleScheme] = field(default_factory=list)
    titles: dict[str, dict[str, str]] = field(default_factory=dict)


def arrange(document: dict[str, Any]) -> Panel:
    panel = Panel(document)
    by_scheme: dict[str, IneligibleScheme] = {}
    for result in document["results"]:
        panel.titles[result["scheme_id"]] = {"title_zh": result["title_zh"], "title_en": result["title_en"]}
        if result["status"] != "ineligible":
            _place(panel, result)
        else:
            entry = by_scheme.get(result["scheme_id"])
            if entry is None:
                entry = by_scheme[result["scheme_id"]] = IneligibleScheme(
                    result["scheme_id"], result["title_zh"], result["title_en"], [], _failed(result)[:2],
                    result["unit_kind"])
                panel.ineligible.append(entry)
            if result["unit_id"]:
                entry.units.append(unit_caption(result["unit_id"], result["unit_name"]))
    return _sorted(panel)


def _place(panel: Panel, result: dict[str, Any]) -> None:
    """File a result the panel shows as a card (anything but ineligible) under its heading."""
    status = result["status"]
    if status in PAYING and result["amount_fen"] is not None:
        panel.paying.append(result)
    elif status in PAYING:
        panel.informing.append(result)
    elif status == "superseded":
        panel.superseded.append(result)
    else:
        panel.not_in_force.append(result)


def _sorted(panel: Panel) -> Panel:
    panel.paying.sort(key=lambda r: (-r["amount_fen"], r["status"] != "eligible"))
    panel.superseded.sort(key=lambda r: -(r["amount_fen"] or 0))
    return panel


def _failed(result: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(condition: dict[str, Any]) -> None:
        if condition["outcome"] != "failed":
            return
        children = condition.get("children") or []
        failed_children = [c for c in children if c["outcome"] == "failed"]
        if not failed_children:
            found.append(condition)
        for child in failed_children:
            walk(child)

    for condition in result["conditions"]:
        walk(condition)
    return found


def flat_conditions(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Top-level conditions grouped by outcome, for the card: met / failed / to confirm."""
    groups: dict[str, list[dict[str, Any]]] = {"met": [], "failed": [], "unknown": []}
    for condition in result["conditions"]:
        groups[condition["outcome"]].append(condition)
    return [{"outcome": key, "items": items} for key, items in groups.items() if items]


def arrange_evaluation(evaluation: Evaluation) -> Panel:
    """`arrange(evaluation_dict(evaluation))` without writing out the results the panel only lists: an
    ineligible result shows its title and its first failed conditions, so only those become dicts. The
    panel's document has every top-level field of the result document but not its results list (the panel
    never reads it). A test keeps the two panels equal."""
    from ..report import result_dict

    enterprise = evaluation.profile.enterprise
    panel = Panel({
        "as_of": evaluation.as_of.isoformat(),
        "rules_version": evaluation.rules_version,
        "enterprise": {"name": enterprise.name, "size": evaluation.size.as_dict()},
        "total_fen": evaluation.total_fen,
        "potential_total_fen": evaluation.potential_total_fen,
    })
    catalogue = evaluation.catalogue
    by_scheme: dict[str, IneligibleScheme] = {}
    for result in evaluation.results:
        status = _STATUS_VALUES[result.status]  # Enum.value is a slow descriptor, read here for every result
        if status != "ineligible":
            document = result_dict(evaluation, result)
            panel.titles[result.scheme_id] = {"title_zh": document["title_zh"], "title_en": document["title_en"]}
            _place(panel, document)
            continue
        scheme = catalogue.scheme(result.scheme_id) if result.order >= len(catalogue.schemes) \
            or catalogue.schemes[result.order].id != result.scheme_id else catalogue.schemes[result.order]
        panel.titles[result.scheme_id] = {"title_zh": scheme.title_zh, "title_en": scheme.title_en}
        entry = by_scheme.get(result.scheme_id)
        if entry is None:
            failed = [condition.as_dict() for condition in _failed_conditions(result.conditions, limit=2)]
            entry = by_scheme[result.scheme_id] = IneligibleScheme(
                result.scheme_id, scheme.title_zh, scheme.title_en, [], failed, result.unit_kind)
            panel.ineligible.append(entry)
        if result.unit_id:
            entry.units.append(unit_caption(result.unit_id, result.unit_name))
    return _sorted(panel)


def _failed_conditions(conditions: list[ConditionResult], limit: int | None = None) -> list[ConditionResult]:
    """`_failed` on the engine's conditions instead of their dicts; with a limit, only the first `limit` of them
    (the walk stops there: the panel shows two)."""
    found: list[ConditionResult] = []
    failed = Outcome.failed
    enough = limit if limit is not None else -1

    def walk(condition: ConditionResult) -> None:
        failed_children = [c for c in condition.children if c.outcome is failed]
        if not failed_children:
            found.append(condition)
        for child in failed_children:
            if len(found) == enough:
                return
            walk(child)

    for condition in conditions:
        if len(found) == enough:
            break
        if condition.outcome is failed:
            walk(condition)
    return found
