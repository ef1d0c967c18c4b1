"""The scheme catalogue for people and for the API: summaries, filters, and each scheme's parameters with the
citation, quote and confidence behind every number."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from ..citations import Cite
from ..conditions import leaves
from ..money import format_cny, format_rate
from ..schemes import Catalogue

_SKIP = frozenset({"from_", "until", "cite", "rounding"})


@dataclass
class Parameter:
    name: str
    value: str
    cite: dict[str, Any] | None = None
    children: list[Parameter] = field(default_factory=list)
    is_item: bool = False  # a tier or rule: name is its Chinese label, value its English one


def region_of(cat: Catalogue, scheme_id: str) -> str:
    """The folder of the scheme's file (national, shanghai, beijing, guangdong)."""
    return cat.scheme_files[scheme_id].split("/", 1)[0]


def in_force(scheme: Any) -> dict[str, str | None]:
    first = min(v.from_ for v in scheme.versions)
    ends = [v.until for v in scheme.versions]
    last = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    return {"from": first.isoformat(), "until": last.isoformat() if last else None}


def summary(cat: Catalogue, scheme: Any) -> dict[str, Any]:
    document = cat.document_of(scheme.id)
    return {
        "id": scheme.id, "title_zh": scheme.title_zh, "title_en": scheme.title_en, "kind": scheme.kind,
        "unit": scheme.unit, "region": region_of(cat, scheme.id), "document": document.number_zh,
        "document_title_zh": document.title_zh, "clause": scheme.clause_zh, "in_force": in_force(scheme),
        "stacking_group": scheme.stacking_group,
    }


def summaries(cat: Catalogue, region: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    return [summary(cat, s) for s in cat.schemes
            if (not region or region_of(cat, s.id) == region) and (not kind or s.kind == kind)]


def regions(cat: Catalogue) -> list[str]:
    return sorted({region_of(cat, s.id) for s in cat.schemes})


def kinds(cat: Catalogue) -> list[str]:
    return sorted({s.kind for s in cat.schemes})


def detail(cat: Catalogue, scheme: Any) -> dict[str, Any]:
    """Everything about one scheme, JSON-ready: the data file's content plus document and file."""
    document = cat.document_of(scheme.id)
    out = summary(cat, scheme)
    out["document"] = document.model_dump(mode="json")
    out["file"] = cat.scheme_files[scheme.id]
    out["definition"] = scheme.model_dump(mode="json", by_alias=True, exclude_none=True)
    if scheme.stacking_group and scheme.stacking_group in cat.stacking_groups:
        out["stacking"] = cat.stacking_groups[scheme.stacking_group].model_dump(mode="json")
    return out


def versions(scheme: Any) -> list[dict[str, Any]]:
    return [{"from": v.from_, "until": v.until, "cite": v.cite.as_dict(), "parameters": _parameters(v)}
            for v in scheme.versions]


def _parameters(model: BaseModel) -> list[Parameter]:
    rows = []
    for name in type(model).model_fields:
        if name in _SKIP or name.endswith("_cite"):
            continue
        value = getattr(model, name)
        if value is None:
            continue
        rows.append(_parameter(name, value, getattr(model, f"{name}_cite", None)))
    return rows


def _parameter(name: str, value: Any, cite: Cite | None = None) -> Parameter:
    if hasattr(value, "rate") and hasattr(value, "cite"):
        return Parameter(name, format_rate(value.rate), value.cite.as_dict())
    if hasattr(value, "fen") and hasattr(value, "cite"):
        return Parameter(name, format_cny(value.fen), value.cite.as_dict())
    if hasattr(value, "value") and hasattr(value, "cite"):
        return Parameter(name, str(value.value), value.cite.as_dict())
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return Parameter(name, str(len(value)), None, [_item(item) for item in value])
    if isinstance(value, (date, Decimal, int, str)):
        return Parameter(name, str(value.value if hasattr(value, "value") else value), cite.as_dict() if cite else None)
    return Parameter(name, str(value))


def _item(item: BaseModel) -> Parameter:
    label = getattr(item, "label_zh", None) or getattr(item, "id", "")
    cite = getattr(item, "cite", None)
    children = _parameters(item)
    categories = getattr(item, "categories", None)
    if categories:
        children = [Parameter("categories", ", ".join(categories))] + [c for c in children if c.name != "categories"]
    return Parameter(str(label), getattr(item, "label_en", "") or str(label),
                     cite.as_dict() if isinstance(cite, Cite) else None,
                     [c for c in children if c.name not in ("id", "label_zh", "label_en", "violation_when")], is_item=True)


def conditions(scheme: Any) -> list[dict[str, Any]]:
    """Every leaf condition with its label and citation (all kinds, loan and track conditions included)."""
    groups = [scheme.conditions, getattr(scheme, "loan_conditions", [])]
    for track in getattr(scheme, "tracks", []):
        groups += [track.enterprise_conditions, track.loan_conditions]
    found = []
    for group in groups:
        for condition in group:
            for leaf in leaves(condition):
                found.append({"label_zh": leaf.label_zh, "label_en": leaf.label_en, "field": leaf.field,
                              "cite": leaf.cite.as_dict() if leaf.cite else None})
    return found


def citations(scheme: Any) -> list[dict[str, Any]]:
    """Distinct citations anywhere in the scheme's definition, in order of appearance."""
    seen: set[tuple[str, str, str]] = set()
    out: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, Cite):
            key = (node.document, node.clause, node.quote_zh)
            if key not in seen:
                seen.add(key)
                out.append(node.as_dict())
        elif isinstance(node, BaseModel):
            for name in type(node).model_fields:
                walk(getattr(node, name))
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item)

    walk(scheme)
    return out
