"""Cheap row tests that show a cell needs no cell-by-cell check: the common input is already clean.

Each test is True only where the full check (validate.py) would give the cell back unchanged and find nothing
wrong with it, so a clean cell can keep its raw value while the full check runs only on the rows where some
test is False. The tests avoid building new strings (no strip, no replace): a hash lookup, a length, or a regex
that only answers yes or no costs a fraction of the parse it stands in for.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

# surrounding whitespace, as str.strip_chars() removes it (Unicode White_Space in both), or an id typed as a
# number that a spreadsheet turned into "123.0"
_NEEDS_STRIP = r"^\s|\s$"
_NEEDS_STRIP_OR_INTEGRAL = r"^\s|\s$|^\d+\.0$"


def unchanged_text(raw: pl.Expr, limit: int, integral: bool) -> pl.Expr:
    """Text with nothing to strip, not empty and within its length limit (and no '123.0' where ids read '123')."""
    length = raw.str.len_chars()
    pattern = _NEEDS_STRIP_OR_INTEGRAL if integral else _NEEDS_STRIP
    return (length > 0) & (length <= limit) & ~raw.str.contains(pattern)


def unchanged_identifier(raw: pl.Expr, pattern: str) -> pl.Expr:
    """An id that already matches its pattern (which admits no whitespace) and is not a '123.0' number."""
    return raw.str.contains(pattern) & ~raw.str.contains(r"^\d+\.0$")


def one_of(raw: pl.Expr, codes: tuple[str, ...]) -> pl.Expr:
    """Exactly one of the codes (every code maps to itself among the accepted spellings)."""
    return raw.is_in(list(codes))


def list_of(raw: pl.Expr, codes: tuple[str, ...]) -> pl.Expr:
    """Every item exactly one of the codes, none twice: the list the full check would make of it."""
    known = raw.list.eval(pl.element().is_in(list(codes)).fill_null(False)).list.all()
    return known & (raw.list.n_unique() == raw.list.len())


def unchanged_distinct(raw: pl.Expr, frame: pl.DataFrame,
                       check: Callable[[pl.DataFrame], pl.DataFrame]) -> pl.Expr:
    """For columns with few distinct values (rates, industry codes): the full check on each distinct value once.

    `check` takes a one-column frame of distinct values and returns it with `value` and `code` columns; the
    values it gives back unchanged and without error are the clean ones.
    """
    distinct = frame.select(raw.drop_nulls().unique().alias("raw"))
    checked = check(distinct)
    clean = checked.filter((pl.col("value") == pl.col("raw")) & pl.col("code").is_null()).get_column("raw")
    return raw.is_in(clean.implode())
