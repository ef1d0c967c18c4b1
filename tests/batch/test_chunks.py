"""A checked input cut into chunks in memory: every row lands in its enterprise's chunk, once, and the chunks
evaluated one by one give what the whole input gives."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
from hypothesis import given, settings, strategies as st

from incentives.batch.chunks import in_memory_chunks
from incentives.batch.columnar import evaluate_tables
from incentives.batch.convert import profiles_to_tables
from incentives.batch.tables import Tables
from incentives.batch.unit_frames import enterprise_rows
from incentives.batch.validate import Counts, Validated, empty_errors

from .strategies import populations

CHILDREN = ("projects", "loans", "awards")


def _checked(tables: Tables, rows_given: bool) -> Validated:
    """As validate leaves it: row numbers passed on (sorted ids) or not (the engine finds them)."""
    tables = replace(tables, enterprise_rows=tuple(enterprise_rows(tables)) if rows_given else None)
    rejected = pl.DataFrame({"enterprise_id": ["R1"], "name": ["rejected"], "n_errors": [1]})
    return Validated(tables, empty_errors(), Counts(enterprises_in=tables.enterprises.height + 1), rejected)


def _arranged(tables: Tables, shuffle_seed: int | None) -> Tables:
    frames = [getattr(tables, name) for name in ("enterprises", *CHILDREN)]
    if shuffle_seed is None:
        return Tables(*[f.sort("enterprise_id", maintain_order=True) for f in frames])
    return Tables(*[f.sample(fraction=1.0, shuffle=True, seed=shuffle_seed + i) if f.height else f
                    for i, f in enumerate(frames)])


@settings(max_examples=40, deadline=None)
@given(populations(max_size=7), st.integers(1, 8), st.one_of(st.none(), st.integers(0, 1000)), st.booleans())
def test_each_row_is_in_its_enterprises_chunk_once_with_its_row_number_there(case, size, seed, rows_given):
    _, population = case
    tables = _arranged(profiles_to_tables(population), seed)
    checked = _checked(tables, rows_given or seed is None)
    chunks = list(in_memory_chunks(checked, size))
    assert len(chunks) == -(-tables.enterprises.height // size)
    assert pl.concat([c.tables.enterprises for c in chunks]).equals(tables.enterprises)
    for name, index in zip(CHILDREN, range(3)):
        whole = getattr(tables, name)
        parts = [getattr(c.tables, name) for c in chunks]
        assert pl.concat(parts).sort(pl.all()).equals(whole.sort(pl.all()))
        for chunk, part in zip(chunks, parts):
            rows = chunk.tables.enterprise_rows or enterprise_rows(chunk.tables)  # one chunk: passed on as it was
            owners = chunk.tables.enterprises["enterprise_id"].gather(rows[index])
            assert owners.to_list() == part["enterprise_id"].to_list()
    # what the whole input carries is reported once: counts and errors with the first chunk, the rejected
    # enterprises with the last
    assert [c.counts.enterprises_in for c in chunks][1:] == [0] * (len(chunks) - 1)
    assert [c.rejected.height for c in chunks] == [0] * (len(chunks) - 1) + [1]


@settings(max_examples=25, deadline=None)
@given(populations(max_size=6), st.integers(1, 4), st.one_of(st.none(), st.integers(0, 1000)))
def test_chunks_evaluated_one_by_one_give_the_whole_inputs_results(case, size, seed):
    as_of, population = case
    tables = _arranged(profiles_to_tables(population), seed)
    whole = evaluate_tables(tables, as_of)
    parts = [evaluate_tables(c.tables, as_of) for c in in_memory_chunks(_checked(tables, seed is None), size)]
    assert pl.concat([p.summary for p in parts]).equals(whole.summary)
    key = ["enterprise_id", "scheme_id", "unit_id"]
    assert (pl.concat([p.details for p in parts]).sort(key, nulls_last=True)
            .equals(whole.details.sort(key, nulls_last=True)))
