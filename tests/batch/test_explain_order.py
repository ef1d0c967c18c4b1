"""The long table's fast paths equal their plain counterparts: places found by counting equal a stable sort,
columns put in place equal the concatenated columns gathered into order, codes taken as an Enum's own equal the
texts, and Parquet written from narrowed dictionaries reads back as plain text."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from incentives.batch.explain import enum_of
from incentives.batch.long_table import as_dtype, coded, enterprise_places, enum_physical, scatter
from incentives.batch.writers import write_coded_parquet


@st.composite
def parts(draw):
    n = draw(st.integers(1, 12))
    out = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):  # a unit part: any number of rows per enterprise, in any order
            rows = np.array(draw(st.lists(st.integers(0, n - 1), max_size=30)), dtype=np.uint32)
            ranks = np.zeros(rows.size, dtype=np.int64)
            seen: dict[int, int] = {}
            for i, row in enumerate(rows.tolist()):
                ranks[i] = seen.get(row, 0)
                seen[row] = ranks[i] + 1
        else:  # one row for some enterprises
            rows = np.array(sorted(draw(st.sets(st.integers(0, n - 1)))), dtype=np.uint32)
            ranks = None
        out.append((rows, ranks))
    return n, out


def _stable_order(pieces, n):
    places, per_enterprise = enterprise_places(pieces, n)
    size = sum(rows.size for rows, _ in pieces)
    order = np.full(size, -1, dtype=np.int64)
    start = 0
    for (rows, _), place in zip(pieces, places):
        order[place] = np.arange(start, start + rows.size)
        start += rows.size
    return order, per_enterprise


@settings(max_examples=200, deadline=None)
@given(parts())
def test_counting_places_equal_a_stable_sort(case):
    n, pieces = case
    order, per_enterprise = _stable_order(pieces, n)
    rows = np.concatenate([rows for rows, _ in pieces]) if pieces else np.zeros(0, dtype=np.uint32)
    assert order.tolist() == np.argsort(rows, kind="stable").tolist()  # also: every row placed exactly once
    assert per_enterprise.tolist() == np.bincount(rows.astype(np.int64), minlength=n).tolist()


_KINDS = {
    "amount": (pl.Int64, st.one_of(st.none(), st.integers(-(2**62), 2**62))),
    "flag": (pl.Boolean, st.one_of(st.none(), st.booleans())),
    "status": (pl.Enum(["a", "b", "c"]), st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))),
}


@settings(max_examples=150, deadline=None)
@given(parts(), st.sampled_from(sorted(_KINDS)), st.data())
def test_columns_put_in_place_equal_the_parts_gathered_into_order(case, kind, data):
    n, pieces = case
    dtype, values = _KINDS[kind]
    columns = [pl.Series(data.draw(st.lists(values, min_size=rows.size, max_size=rows.size)), dtype=dtype)
               for rows, _ in pieces]
    order, _ = _stable_order(pieces, n)
    places, _ = enterprise_places(pieces, n)
    expected = (pl.concat(columns) if columns else pl.Series([], dtype=dtype)).gather(pl.Series(order, dtype=pl.Int64))
    physical = enum_physical(3) if isinstance(dtype, pl.Enum) else dtype
    assert scatter(columns, places, order.size, dtype, physical).to_list() == expected.to_list()


def test_enum_code_types_follow_the_number_of_categories():
    """enum_physical answers without building the Enum; it must agree with polars at every boundary."""
    for size in (1, 255, 256, 257, 65_535, 65_536, 65_537, 70_000):
        enum = pl.Enum([f"c{i}" for i in range(size)])
        assert enum_physical(size) == pl.Series(dtype=enum).to_physical().dtype, size


def test_codes_become_the_enum_of_the_ids():
    ids = pl.Series("enterprise_id", ["E3", "E1", "企业2", "E10"])
    enum = enum_of(ids)
    codes = pl.Series([3, 0, 0, 2], dtype=enum_physical(ids.len()))
    assert as_dtype(codes, enum).cast(pl.String).to_list() == ["E10", "E3", "E3", "企业2"]
    assert enum_of(pl.Series(["a", "a"])) is None and enum_of(pl.Series(["a", None])) is None


def test_coded_texts_keep_an_enums_own_categories_and_their_nulls():
    enum, codes, valid = coded(["b", None, "a", "b"], pl.Enum(["a", "b"]))
    assert enum == pl.Enum(["a", "b"]) and codes.tolist()[:1] + codes.tolist()[2:] == [1, 0, 1]
    assert valid.tolist() == [True, False, True, True]
    enum, codes, valid = coded(["y", "", None, "y"])  # an empty text is a text, not a null
    assert enum.categories.to_list() == ["y", ""] and codes.tolist() == [0, 1, 0, 0] and not valid[2]


def test_narrowed_dictionaries_read_back_as_plain_text(tmp_path):
    ids = pl.Series("enterprise_id", [f"E{i:06d}" for i in range(70_000)])
    rows = np.repeat(np.arange(ids.len(), dtype=np.uint32), 3)
    frame = pl.DataFrame({
        "enterprise_id": as_dtype(pl.Series(rows), enum_of(ids)),
        "reason": pl.Series(["x", None, "y"] * ids.len(), dtype=pl.Categorical),
        "amount_fen": pl.Series(np.arange(rows.size), dtype=pl.Int64),
    })
    path = tmp_path / "details.parquet"
    write_coded_parquet(frame, path, ["enterprise_id", "reason"], row_group_rows=50_000)
    back = pl.read_parquet(path)
    assert back.schema == {"enterprise_id": pl.String, "reason": pl.String, "amount_fen": pl.Int64}
    assert back.equals(frame.with_columns(pl.col("enterprise_id", "reason").cast(pl.String)))


def test_row_groups_converted_ahead_are_written_in_order(tmp_path):
    """Each row group is converted to Arrow while the previous one is written: the file still holds every row
    group once, in order, whether the last one is full, partial or the frame is empty."""
    import pyarrow.parquet as pq

    for height in (0, 1, 40_000, 40_001, 120_000):
        frame = pl.DataFrame({
            "reason": pl.Series([f"r{i % 7}" for i in range(height)], dtype=pl.Categorical),
            "amount_fen": pl.Series(np.arange(height), dtype=pl.Int64),
        })
        path = tmp_path / f"part-{height}.parquet"
        write_coded_parquet(frame, path, ["reason"], row_group_rows=40_000)
        back = pl.read_parquet(path)
        assert back.equals(frame.with_columns(pl.col("reason").cast(pl.String)))
        assert pq.ParquetFile(path).metadata.num_row_groups == max(1, -(-height // 40_000))  # empty: one, empty
