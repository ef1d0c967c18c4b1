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


@cache
def english_names() -> dict[str, str]:
    """Chinese name -> English name (上海市 -> Shanghai, 松江区 -> Songjiang District) of the provinces, cities and
    districts in regions.json, from regions_en.json beside it. A Chinese name is one English name wherever it
    appears (北京市 the province and 北京市 the city are both Beijing), so the table is looked up by name alone."""
    with open(package_data_dir() / "regions_en.json", encoding="utf-8") as handle:
        levels: dict[str, dict[str, str]] = json.load(handle)
    names: dict[str, str] = {}
    for level, table in levels.items():
        for name, english in table.items():
            if not english.strip():
                raise ValueError(f"regions_en.json: {level}.{name} has a blank English name")
            if names.setdefault(name, english) != english:
                raise ValueError(f"regions_en.json: {name} is both {names[name]!r} and {english!r}")
    return names


def english_name(name: str) -> str | None:
    """The English name of a known region, or None when the data has none (the caller shows the Chinese)."""
    return english_names().get(name)


def provinces() -> list[str]:
    return list(regions())


def cities(province: str) -> list[str]:
    return list(regions().get(province, {}))


def districts(province: str, city: str) -> list[str]:
    return list(regions().get(province, {}).get(city, []))


# longest first: 广西壮族自治区 -> 广西, not 广西壮族
_PROVINCE_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省", "市")


@cache
def province_aliases() -> dict[str, str]:
    """The short names people write for provinces (上海, 广东, 广西, 香港) -> the full names the rules use."""
    aliases = {}
    for name in regions():
        for suffix in _PROVINCE_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                aliases[name.removesuffix(suffix)] = name
                break
    return aliases


@cache
def city_aliases() -> dict[str, str]:
    """The short names people write for the listed cities (广州, 上海) -> their full names (广州市, 上海市); a short
    name two provinces' cities share would be ambiguous and is left out."""
    found: dict[str, list[str]] = {}
    for province in regions():
        for name in cities(province):
            if name.endswith("市") and len(name) > 2:
                found.setdefault(name.removesuffix("市"), []).append(name)
    return {short: names[0] for short, names in found.items() if len(set(names)) == 1}
