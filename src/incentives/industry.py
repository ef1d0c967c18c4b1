"""GB/T 4754-2017 国民经济行业分类: code lookup, names and the 门类 (section) of a code."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from functools import cache

from .resources import package_data_dir


@dataclass(frozen=True, slots=True)
class Industry:
    code: str  # section letter, or 2/3/4-digit division/group/class code
    level: int  # 1 section, 2 division, 3 group, 4 class
    section: str
    division: str | None
    name_zh: str


_COLUMNS = ["level", "section", "division", "group", "class", "name_zh"]


@cache
def _rows() -> dict[str, tuple[int, str, str | None, str]]:
    """code -> (level, section, division, name): the table as read. Checking one profile's code needs one
    entry, so the Industry objects are only made when asked for (building all ~1,800 was most of the time it
    took to validate a profile)."""
    rows: dict[str, tuple[int, str, str | None, str]] = {}
    with open(package_data_dir() / "gbt4754_2017.csv", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if header != _COLUMNS:
            raise ValueError(f"gbt4754_2017.csv: expected the columns {_COLUMNS}, found {header}")
        for level_text, section, division, group, class_, name_zh in reader:
            level = int(level_text)
            code = (section, division, group, class_)[level - 1]
            rows[code] = (level, section, division or None, name_zh.strip())
    return rows


_made: dict[str, Industry] = {}


def _industry(code: str) -> Industry | None:
    found = _made.get(code)
    if found is None:
        row = _rows().get(code)
        if row is None:
            return None
        found = _made[code] = Industry(code, *row)
    return found


@cache
def industries() -> dict[str, Industry]:
    return {code: _industry(code) for code in _rows()}  # type: ignore[misc]  # every code has a row


def lookup(code: str) -> Industry | None:
    """Find a code; a leading section letter before digits ("C3311") is accepted and checked."""
    code = code.strip().upper()
    if len(code) > 1 and code[0].isalpha() and code[1:].isdigit():
        found = _industry(code[1:])
        return found if found is not None and found.section == code[0] else None
    return _industry(code)


def search(query: str, limit: int = 20) -> list[Industry]:
    """Codes whose code starts with, or whose Chinese name contains, the query (most specific last)."""
    query = query.strip()
    if not query:
        return []
    upper = query.upper()
    hits = [i for i in industries().values() if _by_code_or_chinese(i, query, upper)]
    hits.sort(key=lambda i: (not i.code.startswith(upper), i.level == 1, i.code))
    return hits[:limit]


def _by_code_or_chinese(found: Industry, query: str, upper: str) -> bool:
    """What search() finds: the code starts with the query (upper-cased), or the Chinese name contains it."""
    return found.code.startswith(upper) or query in found.name_zh


# industry_en.json's two tables and the level (Industry.level) of the codes each one names
_ENGLISH_LEVELS = {"sections": 1, "divisions": 2}


@cache
def english_names() -> dict[str, str]:
    """Section letter or division code -> English name (40 -> Manufacture of instruments and meters), from
    industry_en.json beside the Chinese table. Groups and classes have none of their own: they show their
    division's (english_name). A blank name, or a code the Chinese table lacks at that level, stops the loading
    here, rather than a page quietly showing a wrong or empty name."""
    with open(package_data_dir() / "industry_en.json", encoding="utf-8") as handle:
        tables: dict[str, dict[str, str]] = json.load(handle)
    unknown = sorted(set(tables) - set(_ENGLISH_LEVELS))
    if unknown:
        raise ValueError(f"industry_en.json: unknown tables {unknown}; expected {sorted(_ENGLISH_LEVELS)}")
    names: dict[str, str] = {}
    for table, level in _ENGLISH_LEVELS.items():
        for code, english in tables.get(table, {}).items():
            row = _rows().get(code)
            if row is None or row[0] != level:
                raise ValueError(f"industry_en.json: {table}.{code} is not in gbt4754_2017.csv at that level")
            if not english.strip():
                raise ValueError(f"industry_en.json: {table}.{code} has a blank English name")
            names[code] = english.strip()
    return names


def _english_code(found: Industry) -> str:
    """The code whose English name an entry shows: a section its own, anything below it its division's."""
    return found.section if found.level == 1 else found.division  # type: ignore[return-value]  # level > 1 has one


def english_name(found: Industry) -> str | None:
    """An entry's English name (a group or class: its division's), or None when the data has none."""
    return english_names().get(_english_code(found))


# words of a name that say nothing about the industry: a query made of them alone would match nearly every code
_IGNORED_WORDS = frozenset({"a", "an", "and", "for", "from", "in", "of", "the"})
_SHORT_WORD = 3  # a query word shorter than this must be a whole word: "c" or "te" would start dozens of words


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _query_words(query: str) -> set[str]:
    """The words of an English query worth matching. A plural is matched as its singular, which starts both
    forms: "chemicals" then finds "Manufacture of raw chemical materials" as well as "chemical fibers"."""
    found = set()
    for word in _words(query):
        if word not in _IGNORED_WORDS:
            found.add(word.removesuffix("s") if len(word) > _SHORT_WORD else word)
    return found


@cache
def _english_words(code: str) -> tuple[str, ...]:
    return tuple(_words(english_names()[code]))


def _word_matches(query_word: str, name_words: tuple[str, ...]) -> bool:
    if len(query_word) < _SHORT_WORD:
        return query_word in name_words
    return any(word.startswith(query_word) for word in name_words)


def _english_scores(query_words: set[str]) -> dict[str, int]:
    """Section / division code -> how many of the query's words its English name has (only those with one)."""
    scores = {}
    for code in english_names():
        score = sum(_word_matches(word, _english_words(code)) for word in query_words)
        if score:
            scores[code] = score
    return scores


def search_english(query: str, limit: int = 20) -> list[Industry]:
    """search(), and also the codes whose English name (english_name) has any word of the query, in any case:
    "instrument" finds 40 and, through it, its groups and classes. Code matches come first, as in search; then
    the names with the most of the query's words; among equals a section or division named by the query comes
    before the groups and classes that only share its name, so one division's classes do not push the other
    divisions off the list. A query with no English match finds and orders what search() does."""
    query = query.strip()
    if not query:
        return []
    upper = query.upper()
    scores = _english_scores(_query_words(query))
    hits = []
    for found in industries().values():
        score = scores.get(_english_code(found), 0)
        if score or _by_code_or_chinese(found, query, upper):
            hits.append((found, score))
    hits.sort(key=lambda hit: (not hit[0].code.startswith(upper), -hit[1], hit[1] > 0 and hit[0].level > 2,
                               hit[0].level == 1, hit[0].code))
    return [found for found, _ in hits[:limit]]
