"""Region cells of a batch table: names people type (short, English) read as the Chinese names the rules use,
and the province / city / district of each row checked against the bundled table, on distinct combinations.

The cell checks (validate.py) read provinces and cities cell by cell; a district is read among its own city's
districts once the row's province and city are known.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from .. import regions as region_table
from .readers import ROW

PROVINCE_COLUMNS = ("province", "use_province")
CITY_COLUMNS = ("city", "use_city")
REGION_COLUMNS = {"province", "city", "district", "use_province", "use_city"}


def english_region(text: pl.Expr, level: str) -> pl.Expr:
    """A province or city typed in English (any case, the suffix optional: regions.from_english) as its Chinese
    name; anything else as it was."""
    keys = region_table.english_keys(level)
    key = (text.str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")
           .str.replace(r"(.)(newarea|district|county|city|province|municipality)$", "$1"))
    return key.replace_strict(list(keys), list(keys.values()), default=text, return_dtype=pl.String)


def _region_codes(province: str | None, city: str | None, district: str | None) -> tuple[str, str] | None:
    """(column, code) of the first problem, or None."""
    known = region_table.regions()
    if province is None:
        return ("city", "region_without_province") if city is not None or district is not None else None
    if province not in known:
        return "province", "province"
    cities = region_table.cities(province)
    if city is not None and cities and city not in cities:
        return "city", "city"
    if city is not None and district is not None:
        districts = region_table.districts(province, city)
        if districts and district not in districts:
            return "district", "district"
    return None


def region_errors(frame: pl.DataFrame, columns: tuple[str, str, str | None]) -> pl.DataFrame:
    """Rows with a region problem: ROW, column (contract name), code."""
    province, city, district = columns
    present = [c for c in columns if c is not None]
    combos = frame.select(present).unique()
    rows = []
    for values in combos.iter_rows(named=True):
        problem = _region_codes(values[province], values[city], values.get(district) if district else None)
        if problem is not None:
            target = {"province": province, "city": city, "district": district}[problem[0]]
            rows.append({**values, "_column": target, "_code": problem[1]})
    if not rows:
        return pl.DataFrame(schema={ROW: pl.Int64, "_column": pl.String, "_code": pl.String})
    problems = pl.DataFrame(rows, schema={**{c: pl.String for c in present}, "_column": pl.String, "_code": pl.String})
    return frame.join(problems, on=present, how="inner", nulls_equal=True).select(ROW, "_column", "_code")


REGIONS = {
    "enterprises": ("province", "city", "district"),
    "projects": ("province", "city", "district"),
    "loans": ("use_province", "use_city", None),
}


@cache
def chinese_cities() -> tuple[str, ...]:
    return tuple(sorted({city for province in region_table.provinces() for city in region_table.cities(province)}))


@cache
def _chinese_districts() -> tuple[str, ...]:
    return tuple(sorted({district for province in region_table.provinces() for city in region_table.cities(province)
                         for district in region_table.districts(province, city)}))


def districts_in_chinese(values: pl.DataFrame, table: str) -> pl.DataFrame:
    """Districts typed in English (Tianhe District, tianhe) as their Chinese names, each looked up among its own
    city's districts (regions.from_english: Huangpu District is 黄浦区 in Shanghai, 黄埔区 in Guangzhou). The
    province and city are already Chinese here. A name found nowhere is left as typed, for the region check."""
    province, city, district = REGIONS.get(table, (None, None, None))
    if district is None:
        return values
    names = values.get_column(district).drop_nulls().unique()
    typed = names.filter(~names.is_in(_chinese_districts()))
    if not typed.len():  # the usual case: every district already Chinese, seen on the few distinct names
        return values
    combos = values.select(province, city, district).filter(pl.col(district).is_in(typed.implode())).unique()
    found = [(p, c, d, region_table.from_english(p, c, d)[2]) for p, c, d in combos.iter_rows()]
    found = [row for row in found if row[3] != row[2]]
    if not found:
        return values
    lookup = pl.DataFrame(found, schema={province: pl.String, city: pl.String, district: pl.String,
                                         "_chinese": pl.String}, orient="row")
    return (values.join(lookup, on=[province, city, district], how="left", maintain_order="left", nulls_equal=True)
            .with_columns(pl.coalesce("_chinese", district).alias(district)).drop("_chinese"))
