"""Putting the parts of the long table in place: each part's rows go straight to their rows of the finished
table (enterprise order), column by column, instead of being concatenated and then gathered into order.

A column is scattered as plain numbers (an Enum's codes, a number's value) and a validity mask, then wrapped
as Arrow buffers: no polars frame of the whole table exists before the finished one, and no text is copied.
Columns whose part is all null are skipped, as the finished column starts all null.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import polars as pl

# polars ≥ 2 turns integer codes into an Enum's own codes (Expr.cat.to); older ones look each code up
CODES_TO_ENUM = hasattr(pl.col("_").cat, "to")


def enterprise_places(parts: list[tuple[np.ndarray, np.ndarray | None]], n: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Where each part's rows go so that the table is stably sorted by enterprise row number, without sorting.

    Part k holds, for each of its rows, the enterprise row and the row's rank among that enterprise's rows in
    the part (None: at most one per enterprise). Each enterprise's rows are contiguous in the output, starting
    after the rows of the enterprises before it; within it, part by part, then by rank. Also returns the
    number of rows of each enterprise.
    """
    counts = [np.bincount(rows, minlength=n)[:n] if ranks is not None and rows.size else None
              for rows, ranks in parts]
    total = np.zeros(n, dtype=np.int64)
    for (rows, ranks), count in zip(parts, counts):
        if count is not None:
            total += count
        elif rows.size:  # one row per enterprise at most: its rows are distinct
            total[rows] += 1
    next_free = np.cumsum(total) - total
    size = int(total.sum())
    index = np.uint32 if size < 2**32 else np.int64
    places = []
    for (rows, ranks), count in zip(parts, counts):
        place = next_free[rows]
        if ranks is not None:
            place += ranks
            if count is not None:
                next_free += count
        else:
            next_free[rows] += 1
        places.append(place.astype(index, copy=False))
    return places, total


def put(arrays: list[np.ndarray], places: list[np.ndarray], size: int, dtype: type) -> np.ndarray:
    """The parts' values at their places, for places that cover every row once (enterprise_places')."""
    out = np.empty(size, dtype=dtype)
    for part, place in zip(arrays, places):
        out[place] = part
    return out


@lru_cache(maxsize=8)
def _physical_of_size(size: int) -> pl.DataType:
    return pl.Series(dtype=pl.Enum([str(i) for i in range(size)])).to_physical().dtype


def enum_physical(n_categories: int) -> pl.DataType:
    """The integer type of an Enum's codes. polars picks it from the number of categories alone; asking an
    Enum of a million ids builds its whole mapping, so an Enum of as many (up to 2**16 + 1) small texts is
    asked instead."""
    return _physical_of_size(min(n_categories, (1 << 16) + 1))


def numpy_of(dtype: pl.DataType) -> np.dtype:
    return np.dtype(pl.Series(dtype=dtype).to_numpy().dtype) if dtype != pl.Boolean else np.dtype(np.bool_)


def scatter(columns: list[pl.Series], places: list[np.ndarray], size: int, dtype: pl.DataType,
            physical: pl.DataType) -> pl.Series:
    """The parts' values (all of `dtype`, whose codes or values are `physical`) put at their places in a column
    of `size` rows; rows no part reaches are null."""
    values = np.zeros(size, dtype=numpy_of(physical))
    valid = np.zeros(size, dtype=np.bool_)
    for column, place in zip(columns, places):
        nulls = column.null_count()
        if nulls == column.len():
            continue
        codes = column.to_physical()
        if nulls:
            valid[place] = codes.is_not_null().to_numpy()
            codes = codes.fill_null(0)
        else:
            valid[place] = True
        values[place] = codes.to_numpy()
    return as_dtype(from_numpy(values, valid, physical), dtype)


def arrow_array(values: np.ndarray, valid: np.ndarray | None, arrow_type) -> "pa.Array":
    """An Arrow array over these numpy buffers (null where not valid), without a copy of the values (booleans
    and validity are packed to bits)."""
    import pyarrow as pa

    nulls = 0 if valid is None else int(valid.size - np.count_nonzero(valid))
    mask = None if not nulls else pa.py_buffer(np.packbits(valid, bitorder="little"))
    data = np.packbits(values, bitorder="little") if arrow_type == pa.bool_() else values
    return pa.Array.from_buffers(arrow_type, values.size, [mask, pa.py_buffer(data)], null_count=nulls)


def from_numpy(values: np.ndarray, valid: np.ndarray | None, dtype: pl.DataType) -> pl.Series:
    """A polars column over these buffers (null where not valid): numpy's buffers go to Arrow as they are."""
    import pyarrow as pa

    arrow_type = pa.bool_() if dtype == pl.Boolean else pa.from_numpy_dtype(values.dtype)
    return pl.Series(pl.from_arrow(arrow_array(values, valid, arrow_type)))


def as_dtype(physical: pl.Series | pl.Expr, dtype: pl.DataType) -> pl.Series | pl.Expr:
    """Integer codes (or values) as `dtype`: an Enum takes the codes as its own where polars lets it (no look-up
    per row), else each code is looked up. The codes must be of the Enum's own integer type (enum_physical)."""
    if not isinstance(dtype, pl.Enum):
        return physical.cast(dtype)
    if CODES_TO_ENUM:
        return physical.cat.to(dtype)
    return physical.replace_strict(list(range(dtype.categories.len())), dtype.categories.cast(dtype), default=None,
                                   return_dtype=dtype)


def coded(texts: list[str | None], dtype: pl.DataType | None = None) -> tuple[pl.Enum, np.ndarray, np.ndarray]:
    """An Enum for these texts (dtype itself when it is an Enum, which must hold them all; else one of the
    distinct texts), each text's code and whether it is not null: the tables that turn a row's description
    number into its codes by a gather."""
    enum = dtype if isinstance(dtype, pl.Enum) else pl.Enum(list(dict.fromkeys(t for t in texts if t is not None)))
    categories = enum.categories.to_list()
    at = {text: i for i, text in enumerate(categories)}
    codes = np.array([0 if t is None else at[t] for t in texts], dtype=numpy_of(enum_physical(len(categories))))
    valid = np.array([t is not None for t in texts], dtype=np.bool_)
    return enum, codes, valid
