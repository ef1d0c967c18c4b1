"""The long table built block by block (what Parquet streams) is the whole table: same rows, same order, same
values, for any population and any block size; the Parquet folder it writes reads back as the whole table, and
what to confirm taken from the blocks is what the whole table's filter gives."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pyarrow as pa
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from incentives.batch import streamed_details, writers
from incentives.batch.columnar import evaluate_tables
from incentives.batch.convert import profiles_to_tables
from incentives.batch.runner import evaluate_part
from incentives.batch.tables import Tables
from incentives.batch.validate import Counts, Validated
from incentives.batch.writers import ParquetSink, RunInfo
from incentives.schemes import catalogue

from .strategies import populations

AS_OF = date(2026, 6, 1)


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(pl.Categorical, pl.Enum).cast(pl.String))


def _streamed_frame(result, rows_per_block: int) -> pl.DataFrame:
    streamed = result.streamed_details()
    ranges = streamed.blocks(0, streamed.per_enterprise.size, rows_per_block)
    table = pa.concat_tables([streamed.block(a, b) for a, b in ranges])
    return _plain(pl.from_arrow(table))


@settings(max_examples=60, deadline=None)
@given(populations(max_size=6), st.integers(1, 80), st.randoms(use_true_random=False))
def test_blocks_of_any_size_make_the_whole_table(population, rows_per_block, random) -> None:
    as_of, profiles = population
    tables = profiles_to_tables(profiles)
    # projects and loans listed in any order, not grouped by enterprise: a block's rows of them are then
    # found by grouping them first
    tables = Tables(tables.enterprises, *(table.sample(fraction=1.0, shuffle=True, seed=random.randrange(2**32))
                                          for table in (tables.projects, tables.loans)), tables.awards)
    result = evaluate_tables(tables, as_of)
    whole = _plain(result.details)
    assert _streamed_frame(result, rows_per_block).equals(whole)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=12), st.integers(1, 30))
def test_a_block_cuts_only_at_enterprise_boundaries(units, rows_per_block) -> None:
    counts = np.array(units, dtype=np.int64)
    fake = streamed_details.StreamedDetails.__new__(streamed_details.StreamedDetails)
    fake.per_enterprise, fake.starts = counts, np.concatenate([[0], np.cumsum(counts)])
    ranges = fake.blocks(0, counts.size, rows_per_block)
    assert [a for a, _ in ranges][:1] == [0] and ranges[-1][1] == counts.size
    assert all(b == c for (_, b), (c, _) in zip(ranges, ranges[1:]))  # contiguous, in order
    widest = max(1, int(counts.max()))
    for a, b in ranges:  # a block is cut where it reaches its size, so at most one enterprise's rows go over
        assert int(counts[a:b].sum()) < rows_per_block + widest


def _part(profiles):
    tables = profiles_to_tables(profiles)
    empty = pl.DataFrame(schema={"enterprise_id": pl.String, "name": pl.String, "n_errors": pl.Int64})
    checked = Validated(tables, pl.DataFrame(schema=writers.ERROR_SCHEMA), Counts(), empty)
    return evaluate_part(checked, AS_OF, lambda t, d, c: evaluate_tables(t, d, c), catalogue())


@settings(max_examples=25, deadline=None)
@given(populations(max_size=6), st.booleans())
def test_the_parquet_written_from_blocks_reads_back_as_the_whole_table(tmp_path_factory, population, split) -> None:
    _, profiles = population
    folder = tmp_path_factory.mktemp("streamed")
    part = _part(profiles)
    assert part.streamed is not None
    original = writers.ROW_GROUP_ROWS, writers.SPLIT_ABOVE_ROWS
    writers.ROW_GROUP_ROWS, writers.SPLIT_ABOVE_ROWS = 7, 0 if split else original[1]
    try:
        sink = ParquetSink(folder)
        sink.write(part)
        sink.close(RunInfo("in", "parquet", AS_OF, "test", Counts()))
    finally:
        writers.ROW_GROUP_ROWS, writers.SPLIT_ABOVE_ROWS = original
    details = pl.read_parquet(folder / "details")
    whole = _plain(part.details)
    assert details.schema == writers.DETAIL_SCHEMA
    assert details.equals(whole)
    to_confirm = pl.read_parquet(folder / "to_confirm")
    assert to_confirm.equals(_plain(part.to_confirm))
    files = sorted(p.name for p in (folder / "details").iterdir())
    assert files == (["part-00000-0.parquet", "part-00000-1.parquet"] if split and whole.height
                     else ["part-00000.parquet"])
    assert sorted(p.name for p in (folder / "to_confirm").iterdir()) == files  # one beside each details file
    if len(files) == 2:  # the files meet between two enterprises
        first, second = (pl.read_parquet(folder / "details" / f) for f in files)
        assert set(first["enterprise_id"]).isdisjoint(second["enterprise_id"])


_CELLS = {pl.Int64: st.one_of(st.none(), st.integers(-(2**62), 2**62)),
          pl.UInt8: st.one_of(st.none(), st.integers(0, 255)), pl.Boolean: st.one_of(st.none(), st.booleans())}


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(list(_CELLS)), st.data())
def test_a_slice_of_a_chunked_column_is_its_values_and_validity(dtype, data) -> None:
    chunks = data.draw(st.lists(st.lists(_CELLS[dtype], max_size=20), min_size=1, max_size=5))
    column = pl.concat([pl.Series(chunk, dtype=dtype) for chunk in chunks], rechunk=False)
    assume(column.null_count() < column.len())  # an all-null column is never sliced: it is left out
    start = data.draw(st.integers(0, column.len() - 1))
    stop = data.draw(st.integers(start + 1, column.len()))
    values, valid = streamed_details._physical(column).slice(start, stop)
    expected = column.slice(start, stop - start)
    valid = np.ones(stop - start, dtype=np.bool_) if valid is None else valid
    assert valid.tolist() == expected.is_not_null().to_list()
    assert [v if ok else None for v, ok in zip(values.tolist(), valid)] == expected.to_list()
