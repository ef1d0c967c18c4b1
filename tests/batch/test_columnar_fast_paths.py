"""The batch engine's fast paths give exactly what the general paths give.

- enterprise ids -> row numbers: the linear merge taken when the ids arrive sorted equals the hash join;
- list columns -> bit masks: OR-ing one column per list position equals the aggregation inside each list;
- a whole population evaluated from sorted tables equals the same population shuffled (the join path).
"""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from incentives.batch.columnar import evaluate_tables
from incentives.batch.compile_conditions import LIST_FACT_VALUES
from incentives.batch.convert import profiles_to_tables
from incentives.batch.tables import Tables
from incentives.batch.unit_frames import (
    ROW,
    _joined_rows,
    _list_width,
    _sorted_rows,
    _strictly_increasing,
    list_bits,
    or_positions,
)

from .helpers import list_mask
from .strategies import populations

_IDS = st.lists(st.text(alphabet="AEZ019中", min_size=0, max_size=4), min_size=1, max_size=30, unique=True)


@given(_IDS, st.data())
def test_sorted_merge_finds_the_rows_the_join_finds(ids: list[str], data: st.DataObject) -> None:
    ids = sorted(ids)
    known = st.sampled_from(ids)
    unknown = st.text(alphabet="AEZ019中", max_size=4).filter(lambda i: i not in ids)
    keys = sorted(data.draw(st.lists(st.one_of(known, unknown), max_size=60)))
    frame = pl.DataFrame({"enterprise_id": ids}).with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias(ROW))
    id_series, key_series = frame["enterprise_id"], pl.Series("enterprise_id", keys, dtype=pl.String)
    assert _strictly_increasing(id_series)
    expected = _joined_rows([key_series], frame)[0]
    got = _sorted_rows(id_series, key_series) if keys else expected
    assert got.dtype == expected.dtype == pl.UInt32
    assert got.to_list() == expected.to_list()
    # an unknown key has no row; a known one has the row of its id
    assert got.to_list() == [ids.index(k) if k in ids else None for k in keys]


def test_repeated_or_unsorted_ids_are_not_taken_for_sorted() -> None:
    assert not _strictly_increasing(pl.Series(["E1", "E1", "E2"]))
    assert not _strictly_increasing(pl.Series(["E2", "E1"]))
    assert not _strictly_increasing(pl.Series(["E1", None]))
    assert _strictly_increasing(pl.Series(["E1", "E10", "E2"]))  # byte order, as search and merge use it


_VALUES = list(LIST_FACT_VALUES["project.activities"]) + ["not-a-known-value", "another-unknown"]


@given(st.lists(st.one_of(st.none(), st.lists(st.one_of(st.none(), st.sampled_from(_VALUES)), max_size=6)),
                max_size=20))
def test_or_of_positions_equals_the_mask_aggregated_in_each_list(lists: list) -> None:
    frame = pl.DataFrame({"activities": lists}, schema={"activities": pl.List(pl.String)})
    expected = frame.select(list_mask("activities", "project.activities").alias("m"))["m"]
    got = (frame.lazy().with_columns(list_bits("activities", "project.activities"))
           .select(or_positions("activities", _list_width(frame, "activities")).alias("m")).collect()["m"])
    assert got.to_list() == expected.to_list()
    assert got.null_count() == 0


def _shuffled(tables: Tables, seed: int) -> Tables:
    return Tables(*[t.sample(fraction=1.0, shuffle=True, seed=seed + i) if t.height else t
                    for i, t in enumerate((tables.enterprises, tables.projects, tables.loans, tables.awards))])


@settings(max_examples=25, deadline=None)
@given(populations(max_size=6), st.integers(0, 1000))
def test_sorted_and_shuffled_tables_give_the_same_results(case, seed: int) -> None:
    as_of, population = case
    tables = profiles_to_tables(population)
    ordered = Tables(*[t.sort("enterprise_id", maintain_order=True) for t in
                       (tables.enterprises, tables.projects, tables.loans, tables.awards)])
    shuffled = _shuffled(tables, seed)
    fast, slow = evaluate_tables(ordered, as_of), evaluate_tables(shuffled, as_of)
    assert fast.summary.sort("enterprise_id").equals(slow.summary.sort("enterprise_id"))
    key = ["enterprise_id", "scheme_id", "unit_id"]
    assert fast.details.sort(key, nulls_last=True).equals(slow.details.sort(key, nulls_last=True))


def test_a_child_row_of_an_unknown_enterprise_has_no_row_on_either_path() -> None:
    enterprises = pl.DataFrame({"enterprise_id": ["E1", "E2"]})
    frame = enterprises.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias(ROW))
    keys = pl.Series("enterprise_id", ["E0", "E1", "E1", "E3"])
    assert _sorted_rows(frame["enterprise_id"], keys).to_list() == [None, 0, 0, None]
    assert _joined_rows([keys], frame)[0].to_list() == [None, 0, 0, None]
