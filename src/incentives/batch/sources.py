"""Where the results come from: every cited number, condition and assumption of every scheme, one row each.

The details name a scheme by its id; this table (依据 in a workbook, `sources` in a CSV or Parquet folder) gives
that scheme's document, clause and quoted text for each rate, cap and condition, the dates each version is in
force (and whether it was in force on the evaluation date), and the assumptions made where the policy is
silent, with their confidence. It is built from the same scheme objects the engine evaluates, so it cannot
drift from them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
from pydantic import BaseModel

from ..citations import Cite
from ..conditions import Leaf
from ..money import Rounding, format_rate
from ..scheme_files import CitedCount, CitedRate, CitedYuan, Version
from ..schemes import Catalogue

SOURCES_SCHEMA = {
    "scheme_id": pl.String, "scheme_title_zh": pl.String, "scheme_title_en": pl.String, "kind": pl.String,
    "item_zh": pl.String, "item_en": pl.String, "value": pl.String, "version_from": pl.Date,
    "version_until": pl.Date, "in_force_on_as_of": pl.Boolean, "document": pl.String, "clause": pl.String,
    "quote_zh": pl.String, "quote_wording": pl.String, "confidence": pl.String, "source": pl.String,
    "note_zh": pl.String, "note_en": pl.String,
}
# whether quote_zh is the document's own text or restates secondary sources (Cite.wording)
_WORDING = {None: "原文 / verbatim", "secondary": "转述（据二手来源，非文件原文）/ restated from secondary sources"}
KIND_LABELS = {"in_force": "施行期间", "value": "数额", "rounding": "取整", "condition": "条件", "assumption": "假设",
               "note": "说明"}
_ROUNDING = {Rounding.down_to_fen: "向下取整到分（“不超过/最高”不进位）/ down to the fen",
             Rounding.half_up_to_fen: "四舍五入到分 / half up to the fen"}

# a version's cited values by field name; a field not listed reads as its name
_ITEMS = {
    "rate": ("比例", "Rate"), "cap": ("上限", "Cap"), "amount": ("金额", "Amount"),
    "annual_cap": ("年度上限", "Yearly cap"), "share": ("贴息比例", "Share of interest subsidised"),
    "subsidy_months": ("贴息月数", "Months subsidised"),
    "annual_cap_per_enterprise": ("每家企业每年上限", "Yearly cap per enterprise"),
    "day_count_cite": ("计息天数规则", "Day count"), "issue_window_cite": ("贷款发放期间", "Loan issue window"),
    "share_of_principal": ("占贷款本金比例", "Share of principal"),
    "rate_if_independent_legal_entity": ("独立法人的比例", "Rate for an independent legal entity"),
    "working_days": ("工作日数", "Working days"), "months": ("月数", "Months"),
}


def sources_table(cat: Catalogue, as_of: date) -> pl.DataFrame:
    rows: list[dict[str, Any]] = []
    for scheme in cat.schemes:
        base = {"scheme_id": scheme.id, "scheme_title_zh": scheme.title_zh, "scheme_title_en": scheme.title_en}
        for version in scheme.versions:
            dated = {"version_from": version.from_, "version_until": version.until,
                     "in_force_on_as_of": version.from_ <= as_of and (version.until is None or as_of <= version.until)}
            rows.append(base | dated | _cited("in_force", "本版本施行期间", "This version in force", _dates(version),
                                                     version.cite))
            rows += [base | dated | row for row in _values(version)]
            rounding = getattr(version, "rounding", None)
            if rounding is not None:  # the engine's own rule, written next to the rule: no policy text to cite
                rows.append(base | dated | {"kind": "rounding", "item_zh": "金额取整", "item_en": "Rounding",
                                            "value": _ROUNDING[rounding]})
        rows += [base | row for row in _conditions(scheme)]
        rows += [base | {"kind": "assumption", "item_zh": a.zh, "item_en": a.en, "confidence": a.confidence.value,
                         "source": a.source} for a in scheme.assumptions]
        rows += [base | {"kind": "note", "item_zh": n.zh, "item_en": n.en} for n in scheme.notes]
    return pl.DataFrame([{name: row.get(name) for name in SOURCES_SCHEMA} for row in rows], schema=SOURCES_SCHEMA)


def _dates(version: Version) -> str:
    return f"{version.from_.isoformat()} – {version.until.isoformat() if version.until else '（未定终止日 / open-ended）'}"


def _cited(kind: str, item_zh: str, item_en: str, value: str | None, cite: Cite) -> dict[str, Any]:
    return {"kind": kind, "item_zh": item_zh, "item_en": item_en, "value": value, "document": cite.document,
            "clause": cite.clause, "quote_zh": cite.quote_zh, "quote_wording": _WORDING[cite.wording],
            "confidence": cite.confidence.value,
            "source": cite.source, "note_zh": cite.note_zh, "note_en": cite.note_en}


def _value_text(value: Any) -> str:
    if isinstance(value, CitedRate):
        return format_rate(Decimal(value.value))
    if isinstance(value, CitedYuan):
        return f"{value.yuan:,} 元"
    return str(value.value)  # CitedCount


def _values(model: BaseModel, label: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    """Each cited value of a version, tiers and rules included (a tier's values named by the tier)."""
    rows = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        item_zh, item_en = _ITEMS.get(name, (name, name))
        if label is not None:
            item_zh, item_en = f"{label[0]}：{item_zh}", f"{label[1]}: {item_en}"
        if isinstance(value, (CitedRate, CitedYuan, CitedCount)):
            rows.append(_cited("value", item_zh, item_en, _value_text(value), value.cite))
        elif isinstance(value, Cite) and name != "cite":
            rows.append(_cited("value", item_zh, item_en, _extra_value(model, name), value))
        elif isinstance(value, list):
            for entry in value:
                if isinstance(entry, BaseModel) and hasattr(entry, "label_zh"):
                    if isinstance(getattr(entry, "cite", None), Cite):  # a compliance rule: cited as a whole
                        rows.append(_cited("condition", entry.label_zh, entry.label_en, None, entry.cite))
                        rows += _conditions(entry)  # and by the tests it is made of
                    rows += _values(entry, (entry.label_zh, entry.label_en))
    return rows


def _extra_value(version: BaseModel, name: str) -> str | None:
    """The value a bare citation stands for, where the version holds it beside the citation."""
    if name == "day_count_cite":
        return getattr(version, "day_count", None)
    if name == "issue_window_cite":
        return f"{version.issued_from.isoformat()} – {version.issued_until.isoformat()}"
    return None


def _conditions(owner: BaseModel) -> list[dict[str, Any]]:
    """Every condition node under `owner` that cites its source, in order (tracks' conditions included; a
    scheme's versions are listed on their own)."""
    rows: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        if not isinstance(node, BaseModel) or isinstance(node, Cite):
            return
        if hasattr(node, "field") or hasattr(node, "all") or hasattr(node, "any") or hasattr(node, "not_"):
            if node.cite is not None:
                label_zh = node.label_zh or (node.field if isinstance(node, Leaf) else "")
                rows.append(_cited("condition", label_zh, node.label_en or label_zh, None, node.cite))
        for name in type(node).model_fields:
            if name not in ("versions", "cite"):
                walk(getattr(node, name))

    for name in type(owner).model_fields:
        if name not in ("versions", "cite"):
            walk(getattr(owner, name))
    return rows


_CONFIDENCE = {"high": "高 / high", "medium": "中 / medium", "low": "低 / low"}


def sources_sheet(sources: pl.DataFrame) -> pl.DataFrame:
    """The table as a workbook shows it: labels for codes, dates and yes/no as text."""
    return sources.with_columns(
        pl.col("kind").replace_strict(KIND_LABELS, return_dtype=pl.String).alias("kind_zh"),
        pl.col("version_from").dt.to_string("%Y-%m-%d"), pl.col("version_until").dt.to_string("%Y-%m-%d"),
        pl.col("in_force_on_as_of").replace_strict({True: "是", False: "否"}, default=None, return_dtype=pl.String)
        .alias("in_force_zh"),
        pl.col("confidence").replace_strict(_CONFIDENCE, default=None, return_dtype=pl.String))
