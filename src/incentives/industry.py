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


@cache
def industries() -> dict[str, Industry]:
    table: dict[str, Industry] = {}
    with open(package_data_dir() / "gbt4754_2017.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            level = int(row["level"])
            code = [row["section"], row["division"], row["group"], row["class"]][level - 1]
            table[code] = Industry(code, level, row["section"], row["division"] or None, row["name_zh"].strip())
    return table


def lookup(code: str) -> Industry | None:
    """Find a code; a leading section letter before digits ("C3311") is accepted and checked."""
    code = code.strip().upper()
    if len(code) > 1 and code[0].isalpha() and code[1:].isdigit():
        found = industries().get(code[1:])
        return found if found is not None and found.section == code[0] else None
    return industries().get(code)


def search(query: str, limit: int = 20) -> list[Industry]:
    """Codes whose code starts with, or whose Chinese name contains, the query (most specific last)."""
    query = query.strip()
    if not query:
        return []
    upper = query.upper()
    hits = [i for i in industries().values() if i.code.startswith(upper) or query in i.name_zh]
    hits.sort(key=lambda i: (not i.code.startswith(upper), i.level == 1, i.code))
    return hits[:limit]
