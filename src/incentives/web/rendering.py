"""Shared page rendering: the one `templates` object, i18n in templates, money filters, full page vs fragment.

Other routers import from here: `render(request, "page.html", {...}, block="result")` renders the whole page,
or only the named block when htmx asked (HX-Request), so a page and its fragments live in one template.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

import jinja2
from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.requests import Request
from starlette.responses import Response

from ..money import MoneyError, format_cny, format_glance, format_rate, format_wan, yuan_to_fen
from ..resources import web_assets_dir
from ..results import FLAGGED_NOTE_KINDS
from ..schemes import catalogue
from . import cards, i18n, labels
from .display_values import condition_value, industry_names, region_name, unit_caption
from .labels import N_

STATIC_VERSION = "1"  # bump to bust browser caches of app.css / app.js


@jinja2.pass_context
def _gettext(context: Any, message: str, **variables: Any) -> str:
    text = i18n.gettext(context.get("lang", i18n.DEFAULT_LANG), message)
    return text % variables if variables else text


def _cny(fen: int | None) -> str:
    return "—" if fen is None else format_cny(fen)


def _yuan_as_written(value: Any) -> str:
    """An amount kept from an imported file, in yuan as written there, shown as the page shows amounts."""
    try:
        return format_cny(yuan_to_fen(value))
    except MoneyError:
        return str(value)


def _wan(fen: int | None) -> str:
    return "—" if fen is None else format_wan(fen)


def _glance(fen: int | None, zh: bool) -> str:
    return "—" if fen is None else format_glance(fen, zh)


def _percent(rate: str | Decimal | None) -> str:
    return "—" if rate is None else format_rate(Decimal(str(rate)))


@jinja2.pass_context
def _pick(context: Any, item: Mapping[str, Any] | Any, key: str) -> Any:
    """item[key_zh] in Chinese, item[key_en] in English (falling back to the other one)."""
    zh = i18n.is_zh(context.get("lang", i18n.DEFAULT_LANG))
    first, second = _PICK_KEYS.get((key, zh)) or _pick_keys(key, zh)
    # the exact-type test first: isinstance against typing.Mapping is slow, and nearly every item is a dict
    if type(item) is dict or isinstance(item, Mapping):
        value = item.get(first)
        return value if value not in (None, "") else item.get(second)
    value = getattr(item, first, None)
    return value if value not in (None, "") else getattr(item, second, None)


# (key, is Chinese) -> the two names `pick` reads, in order; the keys are the templates' own few words
_PICK_KEYS: dict[tuple[str, bool], tuple[str, str]] = {}


def _pick_keys(key: str, zh: bool) -> tuple[str, str]:
    names = (f"{key}_zh", f"{key}_en") if zh else (f"{key}_en", f"{key}_zh")
    if len(_PICK_KEYS) < 1_000:
        _PICK_KEYS[(key, zh)] = names
    return names


def _scheme_bars(*args: Any) -> Any:
    from .charts import scheme_bars

    return scheme_bars(*args)


@jinja2.pass_context
def _award_chart(context: Any, result: Mapping[str, Any]) -> Any:
    from .charts import award_chart, has_award_chart

    if not has_award_chart(result):
        return ""
    lang = context.get("lang", i18n.DEFAULT_LANG)
    base_label = result["steps"][0]["label_zh" if i18n.is_zh(lang) else "label_en"] if result.get("steps") else ""
    texts = {"title": N_("Award against base, with the cap"), "cap": N_("Cap"), "headroom": N_("Headroom"),
             "you": N_("You")}
    chart_labels = {key: i18n.gettext(lang, text) for key, text in texts.items()}
    chart_labels["x"] = base_label
    return award_chart(result, chart_labels, zh=i18n.is_zh(lang))


class _BoundedMemo:
    """Rendered HTML remembered by key, forgotten all at once when full (the working set is small and hot)."""

    def __init__(self, limit: int):
        self._items: dict[Any, Any] = {}
        self._limit = limit

    def get_or_make(self, key: Any, make: Any) -> Any:
        try:
            found = self._items.get(key)
        except TypeError:  # an unhashable value in the key: render without remembering
            return make()
        if found is None:
            found = make()
            if len(self._items) >= self._limit:
                self._items.clear()
            self._items[key] = found
        return found


# The results panel shows ~180 citations per request, each through the cite_details macro, and the same few
# hundred catalogue citations come back every time: remember each one's HTML per language and summary (they
# are scheme data; nothing derived from a visitor's profile or results is remembered).
_CITE_HTML = _BoundedMemo(20_000)


@jinja2.pass_context
def _cached_cite(context: Any, macro: Any, cite: Mapping[str, Any] | None, summary: Any = None) -> Any:
    """`macro(cite, summary)`, remembered (the macro's output depends only on these and the language)."""
    if type(cite) is not dict and not isinstance(cite, Mapping):
        return macro(cite, summary)
    key = (context.get("lang", i18n.DEFAULT_LANG), type(summary), summary, tuple(cite.items()))
    return _CITE_HTML.get_or_make(key, lambda: macro(cite, summary))


@jinja2.pass_context
def _result_card(context: Any, result: Mapping[str, Any], titles: Mapping[str, Any]) -> Any:
    """One result card (cards.py writes what the `result_card` macro of _selfcheck.html describes)."""
    return cards.result_card(result, titles, context.get("lang", i18n.DEFAULT_LANG))


@jinja2.pass_context
def _condition_value(context: Any, actual: str, unit_kind: str | None) -> str:
    """A condition's value in the page's language (display_values.condition_value)."""
    return condition_value(actual, unit_kind, context.get("lang", i18n.DEFAULT_LANG))


@jinja2.pass_context
def _region_name(context: Any, name: str) -> str:
    """A region's name in the page's language (display_values.region_name); form values keep the Chinese."""
    return region_name(name, context.get("lang", i18n.DEFAULT_LANG))


@jinja2.pass_context
def _industry_names(context: Any, found: Any) -> tuple[str, str | None]:
    """An industry's name in the page's language and, on the English page, its Chinese name second."""
    return industry_names(found, context.get("lang", i18n.DEFAULT_LANG))


# Navigation of the shared layout: (path, English message id). A new area adds its entry with add_nav_link().
NAV_LINKS: list[tuple[str, str]] = [
    ("/", N_("Self-check")),
    ("/schemes", N_("Schemes")),
    ("/tools/rates", N_("PBoC rates")),
    ("/tools/deadline", N_("Deadlines")),
    ("/tools/fund", N_("Fund check")),
]


def add_nav_link(path: str, label: str) -> None:
    """Adds a top-level page to the navigation (label: an English message id, translated in the catalogues)."""
    if (path, label) not in NAV_LINKS:
        NAV_LINKS.append((path, label))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(web_assets_dir() / "templates")),
        autoescape=True,  # every template, whatever its extension: user text is never markup
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.ChainableUndefined,
    )
    env.globals.update(_=_gettext, gettext=_gettext, pick=_pick, static_version=STATIC_VERSION,
                       lang_names=i18n.LANG_NAMES, award_chart=_award_chart, nav_links=NAV_LINKS,
                       cached_cite=_cached_cite, result_card=_result_card,
                       condition_value=_condition_value, region_name=_region_name, industry_names=_industry_names,
                       unit_caption=unit_caption,
                       flagged_note_kinds=FLAGGED_NOTE_KINDS,
                       labels=labels, scheme_bars=_scheme_bars)
    env.filters.update(cny=_cny, wan=_wan, glance=_glance, percent=_percent, yuan=_yuan_as_written)
    return env


def _base_context(request: Request) -> dict[str, Any]:
    lang = i18n.lang_of(request)
    return {"lang": lang, "is_zh": i18n.is_zh(lang), "rules_version": catalogue().rules_version,
            "path": request.url.path, "current_url": _current_url(request)}


def _current_url(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


templates = Jinja2Blocks(env=_environment(), context_processors=[_base_context])


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, block: str | None = None,
           status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """The full page, or only `block` when the request came from htmx."""
    context = dict(context or {})
    if block is not None and is_htmx(request):
        return templates.TemplateResponse(request, template, context, block_name=block, status_code=status_code,
                                          headers=headers)
    return templates.TemplateResponse(request, template, context, status_code=status_code, headers=headers)


def translate(request: Request, message: str) -> str:
    """A UI message in the request's language, for code that builds text outside templates."""
    return i18n.gettext(i18n.lang_of(request), message)
