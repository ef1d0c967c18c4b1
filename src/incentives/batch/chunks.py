"""A checked input held in memory, cut into chunks of enterprises with their projects, loans and awards.

A chunk is evaluated, explained and written before the next, so the memory one chunk frees is what the next
one takes. On the virtual machines the benchmarks run on, memory a process touches for the first time costs
several microseconds a page in the kernel: a million enterprises in two chunks need about 2.0 GB instead of
2.5 GB, and less kernel time than in one chunk (BENCHMARKS.md, "in-memory chunks").
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from .tables import Tables
from .unit_frames import enterprise_rows
from .validate import Counts, Validated

# an input with at most this many enterprises is read whole (about 1.3 GB for a million with 1.5 projects and a
# loan each), then cut in memory; a larger one is first split into buckets on disk, so memory stays bounded
READ_WHOLE_UP_TO = 1_000_000
# enterprises evaluated at a time unless --chunk-size says otherwise. In memory, a million enterprises ran
# fastest in chunks of 500,000 (two chunks: half the fresh memory of one, the fixed cost of each chunk paid
# twice, not five times; BENCHMARKS.md); a bucket on disk holds its tables as well, so buckets stay smaller
IN_MEMORY_CHUNK_SIZE = 500_000
BUCKET_CHUNK_SIZE = 200_000


def in_memory_chunks(checked: Validated, chunk_size: int) -> Iterator[Validated]:
    """The checked input in chunks of `chunk_size` enterprises, in their order.

    Errors and counts travel with the first chunk; the rejected enterprises with the last, so that the summary
    lists them after every evaluated one, as with one chunk, whatever the chunk size."""
    tables = checked.tables
    n = tables.enterprises.height
    if n <= chunk_size:
        yield checked
        return
    rows = list(tables.enterprise_rows or enterprise_rows(tables))
    in_order = [row.is_sorted() for row in rows]  # so when validate found them (sorted ids): slices, no copies
    starts = range(0, n, chunk_size)
    for start in starts:
        first, last = start == starts[0], start == starts[-1]
        yield Validated(_chunk(tables, rows, in_order, start, min(start + chunk_size, n)),
                        checked.errors if first else checked.errors.clear(),
                        checked.counts if first else Counts(),
                        checked.rejected if last else checked.rejected.clear())


def _chunk(tables: Tables, rows: list[pl.Series], in_order: list[bool], start: int, stop: int) -> Tables:
    """Enterprises start..stop-1 and their rows, with each row's enterprise row number within the chunk."""
    children, chunk_rows = [], []
    for frame, row, ordered in zip((tables.projects, tables.loans, tables.awards), rows, in_order):
        if ordered:
            low, high = row.search_sorted(start, "left"), row.search_sorted(stop, "left")
            frame, row = frame.slice(low, high - low), row.slice(low, high - low)
        else:
            inside = ((row >= start) & (row < stop)).fill_null(False)
            frame, row = frame.filter(inside), row.filter(inside)
        children.append(frame)
        chunk_rows.append((row - start).cast(pl.UInt32))
    return Tables(tables.enterprises.slice(start, stop - start), *children, enterprise_rows=tuple(chunk_rows))
