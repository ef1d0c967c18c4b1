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

from .conditions import KLEENE_NOT, Outcome

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
    index = _index_of(table)
    if industry_code is None:
        return index.default
    # every code that can match: the code's prefixes (numeric codes) and its section (letter codes); the
    # longest wins, and of two as long, the one listed first
    best: tuple[int, int, SizeCategory] | None = None
    for length in range(len(industry_code) + 1):
        found = index.by_prefix.get(industry_code[:length])
        if found is not None and (best is None or (length, -found[0]) > (best[0], -best[1])):
            best = (length, found[0], found[1])
    if section is not None:
        found = index.by_section.get(section)
        if found is not None and (best is None or (len(section), -found[0]) > (best[0], -best[1])):
            best = (len(section), found[0], found[1])
    return best[2] if best else index.default


class _CategoryIndex:
    """A size table's codes by what they match, each with its position in the table (scheme data only)."""

    __slots__ = ("table", "default", "by_prefix", "by_section", "rules")

    def __init__(self, table: SmeSizeFile):
        self.table = table
        self.rules = {category.id: _CategoryRules(category) for category in table.categories}
        self.default = {c.id: c for c in table.categories}[table.default_category]
        self.by_prefix: dict[str, tuple[int, SizeCategory]] = {}
        self.by_section: dict[str, tuple[int, SizeCategory]] = {}
        position = 0
        for category in table.categories:
            for code in category.codes:
                # a letter code names a section; any other code is a prefix of the industry code
                target = self.by_section if code.isalpha() else self.by_prefix
                target.setdefault(code, (position, category))
                position += 1


# id(table) -> its index; the table is kept in the entry so its id is never reused while it is cached
_INDEXES: dict[int, _CategoryIndex] = {}


def _index_of(table: SmeSizeFile) -> _CategoryIndex:
    found = _INDEXES.get(id(table))
    if found is None or found.table is not table:
        if len(_INDEXES) >= 1_000:  # many catalogues built in one process (tests): start again
            _INDEXES.clear()
        found = _INDEXES[id(table)] = _CategoryIndex(table)
    return found


_METRICS = ("employees", "revenue_wan", "assets_wan")


def _figures(enterprise: Enterprise) -> tuple[int | None, int | None, int | None]:
    """The enterprise's figures in _METRICS order."""
    return enterprise.employees, enterprise.revenue_fen, enterprise.total_assets_fen


def _threshold(metric: str, bound: int) -> int:
    return bound if metric == "employees" else bound * _WAN_FEN


def _thresholds(bounds: SizeBounds) -> tuple[tuple[int, int], ...]:
    """(position in _METRICS, threshold in the figure's unit) for each bound the table gives."""
    return tuple((position, _threshold(metric, getattr(bounds, metric))) for position, metric in enumerate(_METRICS)
                 if getattr(bounds, metric) is not None)


def _any_below(figures: tuple[int | None, ...], thresholds: tuple[tuple[int, int], ...]) -> Outcome:
    """kleene_any of "figure < bound" over the bounds given: met as soon as one figure is below its bound. Its
    negation is kleene_all of "figure >= bound"."""
    outcome = Outcome.failed
    for position, threshold in thresholds:
        value = figures[position]
        if value is None:
            outcome = Outcome.unknown
        elif value < threshold:
            return Outcome.met
    return outcome


def _describe_bounds(bounds: SizeBounds, joiner_zh: str, joiner_en: str, op: str) -> tuple[str, str]:
    # the table's bounds are in 万元 (ten thousand yuan), as the standard writes them; English readers get yuan
    names = {"employees": ("从业人员", "staff", "人", "persons"), "revenue_wan": ("营业收入", "revenue", "万元", None),
             "assets_wan": ("资产总额", "assets", "万元", None)}
    zh, en = [], []
    for metric, (name_zh, name_en, unit_zh, unit_en) in names.items():
        bound = getattr(bounds, metric)
        if bound is not None:
            zh.append(f"{name_zh}{op}{bound}{unit_zh}")
            en.append(f"{name_en} {op} {bound} {unit_en}" if unit_en else f"{name_en} {op} ¥{bound * 10_000:,}")
    return joiner_zh.join(zh), joiner_en.join(en)


# (id(bounds), joiners, operator) -> (bounds, texts): the bounds are the size table's, so their description is
# written once each; the bounds are kept in the entry so an id is never reused while it is cached
_DESCRIBED: dict[tuple[int, str, str, str], tuple[SizeBounds, tuple[str, str]]] = {}


def _describe(bounds: SizeBounds, joiner_zh: str, joiner_en: str, op: str) -> tuple[str, str]:
    key = (id(bounds), joiner_zh, joiner_en, op)
    found = _DESCRIBED.get(key)
    if found is None or found[0] is not bounds:
        if len(_DESCRIBED) >= 10_000:
            _DESCRIBED.clear()
        found = _DESCRIBED[key] = (bounds, _describe_bounds(bounds, joiner_zh, joiner_en, op))
    return found[1]


class _CategoryRules:
    """A size category's bounds as thresholds in the figures' units (scheme data only)."""

    __slots__ = ("sme", "tiers")

    def __init__(self, category: SizeCategory):
        self.sme = _thresholds(category.sme_if_below_any)
        # (size, bounds, thresholds) for the sizes decided by "every figure at least", largest first
        self.tiers = tuple((size, bounds, _thresholds(bounds))
                           for size, bounds in (("medium", category.medium_if_all_at_least),
                                                ("small", category.small_if_all_at_least)))


def classify(table: SmeSizeFile, enterprise: Enterprise, section: str | None) -> SizeClassification:
    category = category_for(table, enterprise.industry_code, section)
    figures = _figures(enterprise)
    reasons_zh = [f"行业类别：{category.label_zh}" + ("（未填写行业代码，按其他未列明行业）" if not enterprise.industry_code else "")]
    reasons_en = [f"Industry category: {category.id}" + (" (no industry code given: 'other')" if not enterprise.industry_code else "")]

    def finish(size: str | None, why_zh: str, why_en: str) -> SizeClassification:
        reasons_zh.append(why_zh)
        reasons_en.append(why_en)
        return SizeClassification(size, category.id, category.label_zh, tuple(reasons_zh), tuple(reasons_en))

    rules = _index_of(table).rules[category.id]
    is_sme = _any_below(figures, rules.sme)
    sme_zh, sme_en = _describe(category.sme_if_below_any, "或", " or ", "<")
    if is_sme is Outcome.failed:
        return finish("large", f"不满足中小企业上限（{sme_zh}），为大型企业", f"Not below the SME bounds ({sme_en}): large")
    if is_sme is Outcome.unknown:
        return finish(None, f"缺少判断所需数据（{sme_zh}）", f"Missing figures to decide ({sme_en})")
    for size, bounds, thresholds in rules.tiers:
        outcome = KLEENE_NOT[_any_below(figures, thresholds)]  # every figure at least its bound
        text_zh, text_en = _describe(bounds, "且", " and ", "≥")
        if outcome is Outcome.met:
            label_zh, label_en = _LABELS[size]
            return finish(size, f"{text_zh}，为{label_zh}企业", f"{text_en}: {label_en}")
        if outcome is Outcome.unknown:
            return finish(None, f"缺少判断所需数据（{text_zh}）", f"Missing figures to decide ({text_en})")
    return finish("micro", "低于小型企业下限，为微型企业", "Below the small-enterprise bounds: micro")
