"""Administrative regions known to the calculator: every province, and the cities / districts the schemes name."""

from __future__ import annotations

import json
from functools import cache

from .resources import package_data_dir


@cache
def regions() -> dict[str, dict[str, list[str]]]:
    """province -> city -> districts (an empty dict/list means "not listed here; free text accepted")."""
    with open(package_data_dir() / "regions.json", encoding="utf-8") as handle:
        return json.load(handle)


def provinces() -> list[str]:
    return list(regions())


def cities(province: str) -> list[str]:
    return list(regions().get(province, {}))


def districts(province: str, city: str) -> list[str]:
    return list(regions().get(province, {}).get(city, []))
