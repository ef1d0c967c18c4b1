"""Enum columns converted to Arrow from their codes write the same Parquet as polars' own conversion."""

from __future__ import annotations

import polars as pl
import pyarrow.parquet as pq
from hypothesis import given, settings, strategies as st

from incentives.batch import writers
from incentives.batch.writers import write_coded_parquet


@st.composite
def coded_frames(draw):
    categories = [f"c{i}" for i in range(draw(st.integers(1, 40)))]
    height = draw(st.integers(0, 60))
    codes = draw(st.lists(st.one_of(st.none(), st.integers(0, len(categories) - 1)), min_size=height,
                          max_size=height))
    values = [None if code is None else categories[code] for code in codes]
    return pl.DataFrame({
        "id": pl.Series(values, dtype=pl.Enum(categories)),
        "reason": pl.Series([None if v is None else f"r{v}" for v in values], dtype=pl.Categorical),
        "amount_fen": pl.Series(range(height), dtype=pl.Int64),
    })


@settings(max_examples=100, deadline=None)
@given(coded_frames(), st.integers(1, 25), st.sampled_from([0, 4, 1 << 16]))
def test_enum_codes_write_what_polars_conversion_writes(tmp_path_factory, frame, row_group_rows, narrow_above):
    folder = tmp_path_factory.mktemp("parquet")
    original = writers._NARROW_ABOVE
    writers._NARROW_ABOVE = narrow_above  # 0 and 4: every dictionary is cut to the range its row group uses
    try:
        write_coded_parquet(frame, folder / "codes.parquet", ["id", "reason"], row_group_rows=row_group_rows)
    finally:
        writers._NARROW_ABOVE = original
    with pq.ParquetWriter(folder / "plain.parquet", frame.to_arrow().schema, compression="lz4",
                          use_dictionary=["id", "reason"], store_schema=False) as writer:
        for start in range(0, max(frame.height, 1), row_group_rows):
            writer.write_table(frame.slice(start, row_group_rows).to_arrow(), row_group_size=row_group_rows)
    assert pq.read_table(folder / "codes.parquet").equals(pq.read_table(folder / "plain.parquet"))
    back = pl.read_parquet(folder / "codes.parquet")
    assert back.schema == {"id": pl.String, "reason": pl.String, "amount_fen": pl.Int64}
    assert back.equals(frame.with_columns(pl.col("id", "reason").cast(pl.String)))
