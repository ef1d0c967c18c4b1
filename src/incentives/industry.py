"""GB/T 4754-2017 国民经济行业分类: code lookup, names and the 门类 (section) of a code."""

from __future__ import annotations

import csv
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
    hits = [i for i in industries().values() if i.code.startswith(upper) or query in i.name_zh]
    hits.sort(key=lambda i: (not i.code.startswith(upper), i.level == 1, i.code))
    return hits[:limit]
