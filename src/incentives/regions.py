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
    names: dict[str, str] = {}
    for level, table in _english_levels().items():
        for name, english in table.items():
            if not english.strip():
                raise ValueError(f"regions_en.json: {level}.{name} has a blank English name")
            if names.setdefault(name, english) != english:
                raise ValueError(f"regions_en.json: {name} is both {names[name]!r} and {english!r}")
    return names


@cache
def _english_levels() -> dict[str, dict[str, str]]:
    """provinces / cities / districts -> Chinese name -> English name, as regions_en.json has them."""
    with open(package_data_dir() / "regions_en.json", encoding="utf-8") as handle:
        return json.load(handle)


@cache
def english_keys(level: str) -> dict[str, str]:
    """For one level ("provinces" or "cities"), each English name's key (_english_key: guangzhou) -> its Chinese
    name, for tables typed in English; a key two names share is left out (a district's would be: see
    from_english)."""
    found: dict[str, set[str]] = {}
    for name, english in _english_levels()[level].items():
        found.setdefault(_english_key(english), set()).add(name)
    return {key: names.pop() for key, names in found.items() if len(names) == 1}


def english_name(name: str) -> str | None:
    """The English name of a known region, or None when the data has none (the caller shows the Chinese)."""
    return english_names().get(name)


# what people leave out or vary when they type an English region name
_ENGLISH_SUFFIXES = ("newarea", "district", "county", "city", "province", "municipality")


def _english_key(text: str) -> str:
    """Jing'an District, jingan, JINGAN district -> jingan; Pudong New Area -> pudong."""
    key = "".join(ch for ch in text.lower() if ch.isalnum())
    for suffix in _ENGLISH_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key.removesuffix(suffix)
    return key


def _from_english(typed: str, candidates: list[str]) -> str:
    """The one candidate (a Chinese name) whose English name is what was typed, else what was typed."""
    key = _english_key(typed)
    hits = {name for name in candidates if (english := english_name(name)) and _english_key(english) == key}
    return hits.pop() if len(hits) == 1 else typed


def from_english(province: str | None, city: str | None = None,
                 district: str | None = None) -> tuple[str | None, str | None, str | None]:
    """A region typed in English (Guangdong / Guangzhou / Tianhe District, in any case, the suffix optional) as
    the Chinese names the rules use. Each level is looked up among its parent's names only: Huangpu District is
    黄浦区 in Shanghai but 黄埔区 in Guangzhou. Chinese names, and names not found, are returned as typed, so the
    usual check still reports them."""
    if province and province not in regions():
        province = _from_english(province, provinces())
    if city and province and city not in cities(province):
        city = _from_english(city, cities(province))
    if district and province and city and district not in districts(province, city):
        district = _from_english(district, districts(province, city))
    return province, city, district


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
