"""Interface languages: zh-CN (default) and en, from Babel catalogues under web/locales/.

The .po files are read at startup and turned into gettext catalogues in memory, so there is no compile step and
no generated .mo file to keep in step with its source.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import Request

from ..resources import web_assets_dir

LANG_COOKIE = "lang"
DEFAULT_LANG = "zh-CN"
LANGS = {"zh-CN": "zh_CN", "en": "en"}  # interface language -> catalogue directory
LANG_NAMES = {"zh-CN": "中文", "en": "English"}


@cache
def translations(lang: str) -> NullTranslations:
    """The catalogue of one interface language; English falls back to the (English) message ids."""
    locale = LANGS.get(lang, LANGS[DEFAULT_LANG])
    path = web_assets_dir() / "locales" / locale / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return NullTranslations()
    with open(path, "rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def lang_of(request: Request) -> str:
    """The language a request asked for: its cookie, else the default (zh-CN)."""
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LANGS else DEFAULT_LANG


def gettext(lang: str, message: str) -> str:
    return translations(lang).gettext(message)


def is_zh(lang: str) -> bool:
    return lang == "zh-CN"
