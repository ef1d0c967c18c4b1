"""The long table's fast paths equal their plain counterparts: ordering by counting equals a stable sort, ids
gathered from an Enum equal the ids, and Parquet written from narrowed dictionaries reads back as plain text."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from incentives.batch.explain import as_enum, in_enterprise_order
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


@settings(max_examples=200, deadline=None)
@given(parts())
def test_counting_order_equals_a_stable_sort(case):
    n, pieces = case
    order, per_enterprise = in_enterprise_order(pieces, n)
    rows = np.concatenate([rows for rows, _ in pieces]) if pieces else np.zeros(0, dtype=np.uint32)
    assert order.tolist() == np.argsort(rows, kind="stable").tolist()
    assert per_enterprise.tolist() == np.bincount(rows.astype(np.int64), minlength=n).tolist()


def test_enum_of_ids_gathers_the_ids():
    ids = pl.Series("enterprise_id", ["E3", "E1", "企业2", "E10"])
    coded = as_enum(ids)
    assert coded.cast(pl.String).to_list() == ids.to_list()
    assert coded.gather([3, 0, 0, 2]).cast(pl.String).to_list() == ["E10", "E3", "E3", "企业2"]
    assert as_enum(pl.Series(["a", "a"])) is None and as_enum(pl.Series(["a", None])) is None


def test_narrowed_dictionaries_read_back_as_plain_text(tmp_path):
    ids = pl.Series("enterprise_id", [f"E{i:06d}" for i in range(70_000)])
    rows = np.repeat(np.arange(ids.len()), 3)
    frame = pl.DataFrame({
        "enterprise_id": as_enum(ids).gather(rows),
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
