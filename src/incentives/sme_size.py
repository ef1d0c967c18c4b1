"""SME size class (大 / 中 / 小 / 微) under 工信部联企业〔2011〕300号, from industry, staff, revenue and assets.

Thresholds live in schemes/tables/sme-size-2011-300.yaml. Logic (three-valued, so a missing figure only makes
the class unknown when the other figures do not already decide it):
  SME      if any figure is below its upper bound ("或");
  medium   if every figure is at or above the medium bounds ("且");
  small    if every figure is at or above the small bounds;
  micro    otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .conditions import Outcome, kleene_all, kleene_any

if TYPE_CHECKING:
    from .profile import Enterprise
    from .scheme_files import SizeBounds, SizeCategory, SmeSizeFile

_WAN_FEN = 10_000 * 100
_LABELS = {"large": ("大型", "large"), "medium": ("中型", "medium"), "small": ("小型", "small"),
           "micro": ("微型", "micro")}


@dataclass(frozen=True, slots=True)
class SizeClassification:
    size_class: str | None  # large / medium / small / micro, or None when the figures given cannot decide it
    category_id: str | None
    category_zh: str | None
    reasons_zh: tuple[str, ...]
    reasons_en: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "size_class": self.size_class,
            "category": self.category_id,
            "category_zh": self.category_zh,
            "reasons_zh": list(self.reasons_zh),
            "reasons_en": list(self.reasons_en),
        }


def category_for(table: SmeSizeFile, industry_code: str | None, section: str | None) -> SizeCategory:
    """The most specific category whose codes match the industry code (class > group > division > section)."""
    by_id = {c.id: c for c in table.categories}
    if industry_code is None:
        return by_id[table.default_category]
    best: tuple[int, SizeCategory] | None = None
    for category in table.categories:
        for code in category.codes:
            matches = code == section if code.isalpha() else industry_code.startswith(code)
            if matches and (best is None or len(code) > best[0]):
                best = (len(code), category)
    return best[1] if best else by_id[table.default_category]


def _figures(enterprise: Enterprise) -> dict[str, int | None]:
    return {
        "employees": enterprise.employees,
        "revenue_wan": enterprise.revenue_fen,
        "assets_wan": enterprise.total_assets_fen,
    }


def _threshold(metric: str, bound: int) -> int:
    return bound if metric == "employees" else bound * _WAN_FEN


def _compare(figures: dict[str, int | None], bounds: SizeBounds, below: bool) -> list[Outcome]:
    outcomes = []
    for metric in ("employees", "revenue_wan", "assets_wan"):
        bound = getattr(bounds, metric)
        if bound is None:
            continue
        value = figures[metric]
        if value is None:
            outcomes.append(Outcome.unknown)
        else:
            hit = value < _threshold(metric, bound) if below else value >= _threshold(metric, bound)
            outcomes.append(Outcome.met if hit else Outcome.failed)
    return outcomes


def _describe(bounds: SizeBounds, joiner_zh: str, joiner_en: str, op: str) -> tuple[str, str]:
    names = {"employees": ("从业人员", "staff", "人", "persons"), "revenue_wan": ("营业收入", "revenue", "万元", "×10k yuan"),
             "assets_wan": ("资产总额", "assets", "万元", "×10k yuan")}
    zh, en = [], []
    for metric, (name_zh, name_en, unit_zh, unit_en) in names.items():
        bound = getattr(bounds, metric)
        if bound is not None:
            zh.append(f"{name_zh}{op}{bound}{unit_zh}")
            en.append(f"{name_en} {op} {bound} {unit_en}")
    return joiner_zh.join(zh), joiner_en.join(en)


def classify(table: SmeSizeFile, enterprise: Enterprise, section: str | None) -> SizeClassification:
    category = category_for(table, enterprise.industry_code, section)
    figures = _figures(enterprise)
    reasons_zh = [f"行业类别：{category.label_zh}" + ("（未填写行业代码，按其他未列明行业）" if not enterprise.industry_code else "")]
    reasons_en = [f"Industry category: {category.id}" + (" (no industry code given: 'other')" if not enterprise.industry_code else "")]

    def finish(size: str | None, why_zh: str, why_en: str) -> SizeClassification:
        reasons_zh.append(why_zh)
        reasons_en.append(why_en)
        return SizeClassification(size, category.id, category.label_zh, tuple(reasons_zh), tuple(reasons_en))

    is_sme = kleene_any(_compare(figures, category.sme_if_below_any, below=True))
    sme_zh, sme_en = _describe(category.sme_if_below_any, "或", " or ", "<")
    if is_sme is Outcome.failed:
        return finish("large", f"不满足中小企业上限（{sme_zh}），为大型企业", f"Not below the SME bounds ({sme_en}): large")
    if is_sme is Outcome.unknown:
        return finish(None, f"缺少判断所需数据（{sme_zh}）", f"Missing figures to decide ({sme_en})")
    for size, bounds in (("medium", category.medium_if_all_at_least), ("small", category.small_if_all_at_least)):
        outcome = kleene_all(_compare(figures, bounds, below=False))
        text_zh, text_en = _describe(bounds, "且", " and ", "≥")
        if outcome is Outcome.met:
            label_zh, label_en = _LABELS[size]
            return finish(size, f"{text_zh}，为{label_zh}企业", f"{text_en}: {label_en}")
        if outcome is Outcome.unknown:
            return finish(None, f"缺少判断所需数据（{text_zh}）", f"Missing figures to decide ({text_en})")
    return finish("micro", "低于小型企业下限，为微型企业", "Below the small-enterprise bounds: micro")
