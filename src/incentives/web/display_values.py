"""How the engine's values read on the results page: a unit as "id · name", a condition's value (the `actual`
text in parentheses), a province / city / district and an industry code in the page's language.

The engine writes `actual` as plain text for its JSON output (str() of the fact: "True", "working_capital",
"rd, pilot_platform", or its own Chinese "0 个项目" when a scheme has no unit). That output stays as it is;
only the page translates it, with the labels the self-check form already shows for the same codes, and region
names with the English names of regions_en.json (the engine and the form's values keep the Chinese names).
"""

from __future__ import annotations

from functools import cache

from markupsafe import Markup

from .. import industry, regions
from . import i18n, labels
from .labels import N_

_BOOLEANS = {"True": N_("Yes"), "False": N_("No")}

# evaluate.NO_UNIT's texts for a scheme whose unit the profile lacks (a test keeps the two in step)
_NO_UNIT = {
    "0 个项目": N_("0 projects"),
    "0 笔贷款": N_("0 loans"),
    "无基金信息": N_("No fund information"),
    "无投资项目": N_("No investments"),
}

# The choice lists whose codes are fact values. "rd" is both an activity and a loan purpose with different
# labels: the table listed last wins, so a loan's conditions read it as a purpose and the others as an activity.
_CHOICE_LISTS = (labels.OWNERSHIP, labels.SIZE, labels.TECH_FIELDS, labels.INDUSTRY_CATALOGUE,
                 labels.PUBLIC_TRADING, labels.LOAN_TYPES)
_LOAN_LAST = (labels.ACTIVITIES, labels.LOAN_PURPOSES)
_ACTIVITIES_LAST = (labels.LOAN_PURPOSES, labels.ACTIVITIES)

_ITEM_SEPARATOR = ", "  # how the engine joins the items of a list fact (conditions._show)


@cache  # one table per language and unit kind; interface texts only, never a visitor's values
def _translations(lang: str, is_loan: bool) -> dict[str, str]:
    tables = _CHOICE_LISTS + (_LOAN_LAST if is_loan else _ACTIVITIES_LAST)
    messages = {code: message for table in tables for code, message in table.items()}
    messages.update(_BOOLEANS)
    messages.update(_NO_UNIT)
    translated = {text: i18n.gettext(lang, message) for text, message in messages.items()}
    if not i18n.is_zh(lang):
        translated.update(regions.english_names())  # a region fact's value is the region's Chinese name
    return translated


def condition_value(actual: str, unit_kind: str | None, lang: str) -> str:
    """The engine's `actual` text as the page shows it; what has no label (amounts, dates, a region without an
    English name) is shown as written."""
    translations = _translations(lang, unit_kind == "loan")
    found = translations.get(actual)
    if found is not None:
        return found
    if _ITEM_SEPARATOR not in actual:
        return actual
    items = actual.split(_ITEM_SEPARATOR)
    if not any(item in translations for item in items):
        return actual
    separator = "、" if i18n.is_zh(lang) else _ITEM_SEPARATOR
    return separator.join(translations.get(item, item) for item in items)


def unit_caption(unit_id: str, unit_name: str | None) -> str:
    """A unit's id and, when it has one, its name: two loans from one bank differ by their ids, which are also
    what the batch output names them by."""
    if unit_name and unit_name != unit_id:
        return f"{unit_id} · {unit_name}"
    return unit_id


def region_name(name: str, lang: str) -> str:
    """A province / city / district as the page names it: its English name on the English page, else (a Chinese
    page, or a region without an English name) its Chinese name as written, never a blank."""
    if not name or i18n.is_zh(lang):
        return name
    return regions.english_name(name) or name


def industry_names(found: industry.Industry, lang: str) -> tuple[str, str | None]:
    """An industry as a list of codes names it: (its name, a second name or None). The English page names a
    group or class by its division (industry.english_name), so the Chinese name comes second to tell the
    classes of one division apart; a code without an English name, and the Chinese page, show the Chinese only."""
    english = None if i18n.is_zh(lang) else industry.english_name(found)
    return (english, found.name_zh) if english else (found.name_zh, None)


def industry_caption(found: industry.Industry, lang: str) -> str:
    """The chosen industry under its field: the Chinese name on the Chinese page (the code is in the field);
    "4021 · Manufacture of instruments and meters" and the Chinese class name on the English page, as markup
    that marks the Chinese name as Chinese (the names themselves are escaped)."""
    name, chinese = industry_names(found, lang)
    if chinese is None:
        return name
    return Markup('{} · {} (<span lang="zh-CN">{}</span>)').format(found.code, name, chinese)
